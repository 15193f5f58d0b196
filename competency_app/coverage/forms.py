"""Coverage forms: the shape of what is posted (the services decide the rules)."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import Length, ValidationError


class CompletionForm(FlaskForm):
    """A completed e-learning module; whether the module and the date are allowed is the
    service's rule (`record_completion` raises `CompletionError` for a field)."""

    module = StringField(filters=[lambda value: (value or "").strip()])
    completed_on = StringField(filters=[lambda value: (value or "").strip()])
    certificate_ref = StringField(
        filters=[lambda value: (value or "").strip()],
        validators=[
            Length(max=120, message="The certificate reference must be 120 characters or fewer")
        ],
    )

    def validate_completed_on(self, field: Field) -> None:
        try:
            date.fromisoformat(field.data or "")
        except ValueError:
            raise ValidationError(
                "Enter the date you completed it as YYYY-MM-DD, for example 2026-11-02"
            ) from None

    @property
    def completed(self) -> date:
        """The date, once the form is valid."""
        return date.fromisoformat(self.completed_on.data)

    def typed(self) -> dict[str, str]:
        return {
            name: self[name].data or "" for name in ("module", "completed_on", "certificate_ref")
        }

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order."""
        return {
            field.name: str(field.errors[0])
            for field in self
            if field.errors and field.name != "csrf_token"
        }
