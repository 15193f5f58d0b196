"""The notification preferences form: which kinds of email a person wants."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from competency_app.notifications.catalogue import KINDS


class EmailChoicesForm(FlaskForm):
    """Every optional kind ticked is wanted; an unticked one is turned off."""

    kinds = SelectMultipleField(
        choices=[SelectChoice(key, kind.label) for key, kind in KINDS.items() if kind.optional],
        validate_choice=False,
    )

    def validate_kinds(self, field) -> None:
        unknown = set(field.data or []) - {key for key, kind in KINDS.items() if kind.optional}
        if unknown:
            raise ValidationError("Choose only from the emails listed")
