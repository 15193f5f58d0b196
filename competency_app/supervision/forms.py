"""Supervision forms: the shape of what is posted (the services decide the rules)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime

from wtforms import BooleanField, Field, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from competency_app.common.dates import date_error, parse_day
from competency_app.common.forms import AppForm
from competency_app.common.text import whole_number
from competency_app.supervision.services import MAX_PLACE, MAX_TEXT


def _strip(value: str | None) -> str:
    return (value or "").strip()


def parse_time(text: str) -> dt.time | None:
    """A time typed as HH:MM (24-hour); None otherwise."""
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        return None


class _Form(AppForm):
    def typed(self) -> dict[str, str]:
        return {
            f.name: f.data if isinstance(f.data, str) else ""
            for f in self
            if f.name != "csrf_token"
        }

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order."""
        return {f.name: str(f.errors[0]) for f in self if f.errors and f.name != "csrf_token"}


class _When(_Form):
    day = StringField(filters=[_strip])
    time = StringField(filters=[_strip])
    place = StringField(
        filters=[_strip],
        validators=[Length(max=MAX_PLACE, message=f"Keep the place to {MAX_PLACE} characters")],
    )

    def validate_day(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the date of the session"))

    def validate_time(self, field: Field) -> None:
        if parse_time(field.data) is None:
            raise ValidationError("Enter the start time as HH:MM, for example 14:30")

    @property
    def when(self) -> tuple[date, dt.time]:
        """The day and time, once the form is valid."""
        day, at = parse_day(self.day.data), parse_time(self.time.data)
        assert day is not None and at is not None  # checked by validate()
        return day, at


def _whole(text: str) -> int | None:
    return whole_number(text, 9999)


class ScheduleForm(_When):
    """A session, or the first of a schedule repeating every N weeks."""

    notes = TextAreaField(
        filters=[_strip],
        validators=[Length(max=MAX_TEXT, message=f"Keep the notes to {MAX_TEXT} characters")],
    )
    every_weeks = StringField(filters=[_strip])
    sessions = StringField(filters=[_strip])

    def validate_every_weeks(self, field: Field) -> None:
        if field.data and _whole(field.data) is None:
            raise ValidationError("Enter how many weeks apart as a whole number, for example 4")

    def validate_sessions(self, field: Field) -> None:
        if field.data and _whole(field.data) is None:
            raise ValidationError("Enter how many sessions as a whole number, for example 6")
        if self.every_weeks.data and not field.data:
            raise ValidationError("Enter how many sessions the schedule books")

    @property
    def repeat(self) -> tuple[int | None, int | None]:
        """(every N weeks, how many sessions), None when not repeating."""
        if not self.every_weeks.data:
            return None, None
        return _whole(self.every_weeks.data), _whole(self.sessions.data)


class GroupForm(_When):
    """A peer or group session for several people (chosen as `people`, read by the view)."""

    kind = StringField(filters=[_strip])
    led_by = StringField(filters=[_strip])
    notes = TextAreaField(
        filters=[_strip],
        validators=[Length(max=MAX_TEXT, message=f"Keep the notes to {MAX_TEXT} characters")],
    )

    def validate_kind(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Choose peer supervision or group supervision")


class RescheduleForm(_When):
    pass


class CancelForm(_Form):
    rest_of_schedule = BooleanField()


class ActionsForm(_Form):
    agreed_actions = TextAreaField(
        filters=[_strip],
        validators=[
            Length(max=MAX_TEXT, message=f"Keep the agreed actions to {MAX_TEXT} characters")
        ],
    )


class AssignForm(_Form):
    module = StringField(filters=[_strip])
    due_on = StringField(filters=[_strip])
    confirm = BooleanField(false_values=("", "false", "n"))  # in date, assign it anyway
    note = StringField(
        filters=[_strip],
        validators=[Length(max=500, message="Keep the note to 500 characters")],
    )

    def validate_module(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Choose a module to assign")

    def validate_due_on(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the date it is due"))

    @property
    def due(self) -> date:
        day = parse_day(self.due_on.data)
        assert day is not None  # checked by validate()
        return day
