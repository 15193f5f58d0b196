"""Framework page forms: the version comparison's query arguments."""

from __future__ import annotations

from wtforms import Field, StringField
from wtforms.validators import ValidationError

from competency_app.common.forms import QueryForm
from competency_app.framework import services
from competency_app.framework.models import FrameworkVersion
from competency_app.routing import parse_id


class CompareForm(QueryForm):
    """`from` and `to`: the numbers of two stored versions (a GET: no CSRF token)."""

    version_from = StringField(name="from")
    version_to = StringField(name="to")

    def __init__(self, formdata) -> None:
        super().__init__(formdata)
        self.chosen: dict[str, FrameworkVersion] = {}

    def validate_version_from(self, field: Field) -> None:
        self._version(field)

    def validate_version_to(self, field: Field) -> None:
        self._version(field)

    def _version(self, field: Field) -> None:
        number = parse_id(field.data or "")
        version = services.version_by_number(number) if number is not None else None
        if version is None:
            raise ValidationError(f"Select the version to compare {field.name}")
        self.chosen[field.name] = version

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by the name in the query string, in page order."""
        return {field.name: str(field.errors[0]) for field in self if field.errors}
