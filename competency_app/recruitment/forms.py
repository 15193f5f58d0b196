"""Recruitment forms: the shape of what is posted (the services decide the rules: the
interview scale, who is on which panel, duplicate candidates, the panel's size).

Fields are declared in page order, so `error_dict()` lists errors as the page shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from flask_wtf.file import FileField
from wtforms import Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from competency_app.accounts.models import Team, User
from competency_app.common.dates import LONDON, date_error, parse_day
from competency_app.common.forms import AppForm
from competency_app.common.text import whole_number
from competency_app.framework.models import Criterion


def _day(text: str | None) -> date:
    """A date field's day, once the form is valid."""
    day = parse_day(text)
    assert day is not None  # valid
    return day


class RecruitmentForm(AppForm):
    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order."""
        return {
            field.name: str(field.errors[0])
            for field in self
            if field.errors and field.name != "csrf_token"
        }


class VacancyForm(RecruitmentForm):
    team = StringField()
    title = StringField("Post title")
    closing_date = StringField()
    shortlisters = SelectMultipleField(validate_choice=False)
    interviewers = SelectMultipleField(validate_choice=False)
    chair = StringField()

    def __init__(self, teams: Iterable[Team], people: Iterable[User], **kwargs) -> None:
        super().__init__(**kwargs)
        self.teams_by_id = {str(team.id): team for team in teams}
        self.people_by_id = {str(person.id): person for person in people}

    def validate_team(self, field: Field) -> None:
        if (field.data or "") not in self.teams_by_id:
            raise ValidationError("Choose the team the post is in")

    def validate_closing_date(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the closing date"))

    def validate_chair(self, field: Field) -> None:
        if (field.data or "") not in self.people_by_id:
            raise ValidationError("Choose the chair of the interview panel")

    def typed(self) -> dict:
        return {
            "team": self.team.data or "",
            "title": self.title.data or "",
            "closing_date": self.closing_date.data or "",
            "chair": self.chair.data or "",
            "shortlisters": list(self.shortlisters.data or []),
            "interviewers": list(self.interviewers.data or []),
        }

    # read once the form is valid
    @property
    def chosen_team(self) -> Team:
        return self.teams_by_id[self.team.data]

    @property
    def closing(self) -> date:
        return _day(self.closing_date.data)

    def people(self, field: SelectMultipleField) -> list[User]:
        return [self.people_by_id[i] for i in field.data or [] if i in self.people_by_id]

    @property
    def chosen_chair(self) -> User:
        return self.people_by_id[self.chair.data]


class CandidateForm(RecruitmentForm):
    """One candidate; the service checks the name and email and refuses duplicates."""

    name = StringField("Candidate's name")
    email = StringField("Contact email")


class CandidateImportForm(RecruitmentForm):
    file = FileField()

    def validate_file(self, field: Field) -> None:
        if field.data is None or not getattr(field.data, "filename", ""):
            raise ValidationError(
                "Choose a spreadsheet (.xlsx or .csv) with the columns name and email."
            )


OFF_SCALE = -1  # a typed score that is not a number: the service refuses it by name


def score_of(raw: str | None) -> int | None:
    """A posted score: None when blank, OFF_SCALE when not a whole number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    value = whole_number(raw, 99)  # far above any scale: the service names it off the scale
    return OFF_SCALE if value is None else value


def _fields(names: Iterable[str]) -> dict[str, Field]:
    """A text field for each name; notes (`n-`) and reasons (`r-`) are textareas."""
    return {
        name: TextAreaField() if name.startswith(("n-", "r-")) else StringField() for name in names
    }


def shortlist_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """Met / not met for each essential criterion, a score for each desirable one (the
    service refuses a missing or unknown mark, naming the criterion)."""
    return type("ShortlistForm", (RecruitmentForm,), _fields(f"c-{c.key}" for c in criteria))


def interview_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """A score and notes for each criterion; `action` is "submit" to submit them."""
    names = [name for c in criteria for name in (f"s-{c.key}", f"n-{c.key}")]
    return type("InterviewForm", (RecruitmentForm,), _fields([*names, "action"]))


def agree_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """The chair's agreed score for each criterion; `action` "agree" (complete) or "draft"."""
    names = [f"a-{c.key}" for c in criteria]
    return type("AgreeForm", (RecruitmentForm,), _fields([*names, "action"]))


def task_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """The assessment task's score for each criterion assessed by "Assessment"."""
    return type("TaskForm", (RecruitmentForm,), _fields(f"t-{c.key}" for c in criteria))


def moderation_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """A decision and a reason for each disputed criterion."""
    names = [name for c in criteria for name in (f"m-{c.key}", f"r-{c.key}")]
    return type("ModerationForm", (RecruitmentForm,), _fields(names))


class SlotForm(RecruitmentForm):
    """When and where: a date, a time and a place or video link."""

    slot_date = StringField()
    slot_time = StringField()
    place = StringField("Place or video link")

    def validate_slot_date(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the interview date"))

    def validate_slot_time(self, field: Field) -> None:
        try:
            time.fromisoformat(field.data or "")
        except ValueError:
            raise ValidationError(
                "Enter the time as HH:MM on the 24-hour clock, like 14:30"
            ) from None

    def validate_place(self, field: Field) -> None:
        place = (field.data or "").strip()
        if not place or len(place) > 500:
            raise ValidationError("Enter the place or the video link (up to 500 characters)")

    def starts_at(self) -> datetime:
        """The slot in UK local time, as an aware UTC datetime (read once valid)."""
        local = datetime.combine(
            _day(self.slot_date.data), time.fromisoformat(self.slot_time.data)
        ).replace(tzinfo=LONDON)
        return local.astimezone(UTC)


class InviteForm(RecruitmentForm):
    invite_name = StringField("Panel member's full name")
    invite_email = StringField("Panel member's email")


class StageForm(RecruitmentForm):
    to = StringField()


class AppointForm(RecruitmentForm):
    email = StringField()
    start_date = StringField()
    supervisor = StringField()

    def validate_start_date(self, field: Field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(date_error("the start date"))

    @property
    def start(self) -> date:
        return _day(self.start_date.data)
