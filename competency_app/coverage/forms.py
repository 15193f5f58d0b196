"""Coverage forms: the shape of what is posted (the services decide the rules)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from wtforms import Field, StringField
from wtforms.validators import Length, ValidationError

from competency_app.clock import today
from competency_app.common.dates import date_error, parse_day
from competency_app.common.forms import AppForm, QueryForm
from competency_app.routing import parse_id


class CompletionForm(AppForm):
    """A completed e-learning module; whether the module and the date are allowed is the
    service's rule (`record_completion` raises `CompletionError` for a field)."""

    module = StringField(filters=[lambda value: (value or "").strip()])
    completed_on = StringField(filters=[lambda value: (value or "").strip()])
    certificate_ref = StringField(
        "Certificate reference",
        filters=[lambda value: (value or "").strip()],
        validators=[
            Length(max=120, message="The certificate reference must be 120 characters or fewer")
        ],
    )

    def validate_completed_on(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the date you completed it"))

    @property
    def completed(self) -> date:
        """The date, once the form is valid."""
        day = parse_day(self.completed_on.data)
        assert day is not None  # valid
        return day

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


def _query_value(value: str | None) -> str:
    return (value or "").strip()[:40]


class WhatIfForm(QueryForm):
    """The coverage page's and API's query arguments: `as_at` (a day) and `without` (a
    team member's id). A plain WTForms form: a GET carries no CSRF token."""

    as_at = StringField(filters=[_query_value])
    without = StringField(filters=[_query_value])

    def __init__(self, formdata, member_ids: Callable[[], set[int]]) -> None:
        super().__init__(formdata)
        self._member_ids = member_ids

    def validate_as_at(self, field: Field) -> None:
        raw = field.data
        if not raw:
            return
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(
                f"as_at must be a date written YYYY-MM-DD, for example "
                f"{today() + timedelta(days=30):%Y-%m-%d}; got {raw!r}"
            ) from None
        if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
            raise ValidationError("as_at must be a date between 2000-01-01 and 2100-12-31")

    def validate_without(self, field: Field) -> None:
        raw = field.data
        if raw and parse_id(raw) not in self._member_ids():
            raise ValidationError("without must be the id of a member of this team")

    def typed(self) -> dict[str, str]:
        return {"as_at": self.as_at.data or "", "without": self.without.data or ""}

    def error_dict(self) -> dict[str, str]:
        return {field.name: str(field.errors[0]) for field in self if field.errors}

    @property
    def day(self) -> date | None:
        """The valid day asked for, if any (read after validate())."""
        return (
            None
            if self.as_at.errors or not self.as_at.data
            else date.fromisoformat(self.as_at.data)
        )

    @property
    def left_out(self) -> tuple[int, ...]:
        """The valid member left out, if any (read after validate())."""
        return () if self.without.errors or not self.without.data else (int(self.without.data),)
