"""Training forms: the shape of what is posted (the services decide the rules)."""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from competency_app.common.dates import date_error, parse_day
from competency_app.common.forms import AppForm
from competency_app.framework.local_courses import CourseInput
from competency_app.framework.services import current_words
from competency_app.routing import parse_id


def _stripped(value: str | None) -> str:
    return (value or "").strip()


class AssignForm(AppForm):
    """A module assigned to a keyworker with a due date; who may be chosen, which module
    and which dates are allowed is `services.assign_in_team`'s rule."""

    person = StringField(filters=[_stripped])
    module = StringField(filters=[_stripped])
    due_on = StringField(filters=[_stripped])
    # The gap the plan step closes (a hidden field): the service checks it is an element.
    element = StringField(filters=[lambda value: _stripped(value)[:40]])
    note = TextAreaField(
        filters=[_stripped],
        validators=[Length(max=500, message="The note must be 500 characters or fewer")],
    )
    confirm = BooleanField(false_values=("", "false", "n"))  # in date, assign it anyway

    FIELDS = ("person", "module", "due_on", "note")

    def validate_person(self, field: Field) -> None:
        if parse_id(field.data) is None:
            practitioner = current_words().practitioner
            raise ValidationError(f"Choose the {practitioner} to assign the module to")

    def validate_module(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Choose a module from the catalogue")

    def validate_due_on(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the date it is due"))

    @property
    def person_id(self) -> int:
        return int(self.person.data)

    @property
    def due(self) -> date:
        """The due date, once the form is valid."""
        day = parse_day(self.due_on.data)
        assert day is not None  # valid
        return day

    def typed(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in (*self.FIELDS, "element")}

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order."""
        return {name: str(self[name].errors[0]) for name in self.FIELDS if self[name].errors}


class LocalCourseForm(AppForm):
    """A local course for the organisation's catalogue; what is allowed is
    `local_courses.add_local_course`'s rule."""

    title = StringField(filters=[_stripped])
    description = TextAreaField(filters=[_stripped])
    url = StringField(filters=[_stripped])
    duration = StringField(filters=[_stripped])
    develops = SelectMultipleField(choices=[], validate_choice=False)
    required = BooleanField(false_values=("", "false", "n"))
    refresh_months = StringField(filters=[_stripped])
    shared = BooleanField(false_values=("", "false", "n"))

    FIELDS = ("title", "description", "url", "duration", "develops", "refresh_months")

    def given(self) -> CourseInput:
        return CourseInput(
            title=self.title.data or "",
            description=self.description.data or "",
            url=self.url.data or "",
            duration=self.duration.data or "",
            develops=[str(key).strip() for key in self.develops.data or []],
            required=bool(self.required.data),
            refresh_months=self.refresh_months.data or "",
            shared=bool(self.shared.data),
        )
