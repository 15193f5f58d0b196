"""Recruitment forms: the shape of what is posted (the services decide the rules: the
interview scale, who is on which panel, duplicate candidates, the panel's size).

Fields are declared in page order, so `error_dict()` lists errors as the page shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, SelectMultipleField, StringField
from wtforms.validators import ValidationError

from competency_app.accounts.models import Team, User
from competency_app.framework.models import Criterion

BAD_SCORE = "{key}: choose a score from the scale"


class RecruitmentForm(FlaskForm):
    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order."""
        return {
            field.name: str(field.errors[0])
            for field in self
            if field.errors and field.name != "csrf_token"
        }


class VacancyForm(RecruitmentForm):
    team = StringField()
    title = StringField()
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
        try:
            date.fromisoformat(field.data or "")
        except ValueError:
            raise ValidationError(
                "Enter the closing date as YYYY-MM-DD, for example 2026-12-31"
            ) from None

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
        return date.fromisoformat(self.closing_date.data)

    def people(self, field: SelectMultipleField) -> list[User]:
        return [self.people_by_id[i] for i in field.data or [] if i in self.people_by_id]

    @property
    def chosen_chair(self) -> User:
        return self.people_by_id[self.chair.data]


class CandidateForm(RecruitmentForm):
    """One candidate; the service checks the name and email and refuses duplicates."""

    name = StringField()
    email = StringField()


class CandidateImportForm(RecruitmentForm):
    file = FileField()

    def validate_file(self, field: Field) -> None:
        if field.data is None or not getattr(field.data, "filename", ""):
            raise ValidationError(
                "Choose a spreadsheet (.xlsx or .csv) with the columns name and email."
            )


def _choice(allowed: set[str], message: str):
    def check(_form: object, field: Field) -> None:
        if (field.data or "") not in allowed:
            raise ValidationError(message)

    return check


def _blank_or_number(message: str):
    def check(_form: object, field: Field) -> None:
        raw = field.data or ""
        if raw and not raw.isdigit():
            raise ValidationError(message)

    return check


def shortlist_form(criteria: Iterable[Criterion], scale_values: set[str]) -> type[RecruitmentForm]:
    """Met / not met for each essential criterion, a score for each desirable one."""
    fields: dict[str, Field] = {}
    for criterion in criteria:
        if criterion.requirement == "essential":
            check = _choice({"met", "not-met", ""}, "Choose met or not met")
        else:
            check = _choice(scale_values | {""}, "Choose a score from the scale")
        fields[f"c-{criterion.key}"] = StringField(validators=[check])
    return type("ShortlistForm", (RecruitmentForm,), fields)


def interview_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """A score and notes for each criterion; `action` is "submit" to submit them."""
    fields: dict[str, Field] = {}
    for criterion in criteria:
        fields[f"s-{criterion.key}"] = StringField(
            validators=[_blank_or_number(BAD_SCORE.format(key=criterion.key))]
        )
        fields[f"n-{criterion.key}"] = StringField()
    fields["action"] = StringField()
    return type("InterviewForm", (RecruitmentForm,), fields)


def agree_form(criteria: Iterable[Criterion]) -> type[RecruitmentForm]:
    """The chair's agreed score for each criterion (blank: not agreed yet)."""
    fields: dict[str, Field] = {
        f"a-{criterion.key}": StringField(
            validators=[_blank_or_number(BAD_SCORE.format(key=criterion.key))]
        )
        for criterion in criteria
    }
    return type("AgreeForm", (RecruitmentForm,), fields)
