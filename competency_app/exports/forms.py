"""Export and import forms: the shape of what is asked for or posted (the importer checks
the file and its rows)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, Field, HiddenField, StringField
from wtforms.validators import ValidationError

from competency_app.common.forms import AppForm, QueryForm

KIND_LABELS = {"roster": "Staff roster", "completions": "E-learning completions"}


class UploadForm(AppForm):
    """What the file holds and the file itself, in page order."""

    kind = StringField()
    file = FileField()

    def validate_kind(self, field: Field) -> None:
        if (field.data or "") not in KIND_LABELS:
            raise ValidationError("Choose what the file holds")

    def validate_file(self, field: Field) -> None:
        if field.data is None or not getattr(field.data, "filename", ""):
            raise ValidationError("Choose a file to upload")

    def error_dict(self) -> dict[str, str]:
        return {
            field.name: str(field.errors[0])
            for field in self
            if field.errors and field.name != "csrf_token"
        }


class ApplyForm(AppForm):
    """Apply the previewed import: the token of the rows kept on the server."""

    token = HiddenField()


class TeamWorkbookForm(QueryForm):
    """A team workbook's options (a download's query string, or a job's form): the
    Ratings sheet holds each member's current cycle unless the whole history is asked for."""

    history = BooleanField()
