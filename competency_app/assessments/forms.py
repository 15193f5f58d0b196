"""Self-assessment and supervision forms: the shape of what is posted.

The forms check only what a field can hold (a whole number, a length, the row version the
page was drawn from); the services decide the rules (the rating scale, the comment rule,
who may do what, and when) and raise `RatingError` keyed by these fields' names.
Per-skill fields are named `level-<skill id>`, `evidence-<skill id>`, `comment-<skill id>`
and per-value fields `value-<value id>`, in page order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from competency_app.assessments.services import MAX_NOTE, skill_names
from competency_app.common.forms import AppForm
from competency_app.common.text import whole_number
from competency_app.framework.models import CoreValue, Element
from competency_app.routing import parse_id

# Every form carries the row version it was drawn from; one without it could overwrite a
# newer save unseen (last writer wins), so it is refused and nothing is stored.
STALE_FORM = "This form is missing its version: reload the page and try again. Nothing was saved."


class VersionedForm(AppForm):
    """A form over one assessment, carrying the row version it was drawn from."""

    row_version = HiddenField()

    def validate_row_version(self, field: Field) -> None:
        if self.seen_version is None:
            raise ValidationError(STALE_FORM)

    @property
    def seen_version(self) -> int | None:
        return parse_id(self.row_version.data or "")

    def typed(self) -> dict[str, str]:
        """What was typed, by field name, to show the form again."""
        return {
            field.name: field.data or ""
            for field in self
            if field.name not in ("csrf_token", "row_version")
        }

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by field name, in page order (the version last)."""
        errors = {
            field.name: str(field.errors[0])
            for field in self
            if field.errors and field.name not in ("csrf_token", "row_version")
        }
        if self.row_version.errors:
            errors["row_version"] = str(self.row_version.errors[0])
        return errors


def _build(name: str, fields: dict[str, Field]) -> type[VersionedForm]:
    return type(name, (VersionedForm,), fields)


def _whole_number(message: str, *, also: Iterable[str] = ()) -> Callable[[object, Field], None]:
    """Blank, one of `also`, or a whole number (whether it is on the scale is a rule)."""
    allowed = set(also)

    def check(_form: object, field: Field) -> None:
        raw = field.data or ""
        if raw and raw not in allowed and whole_number(raw, 99) is None:
            raise ValidationError(message)

    return check


def _level_for_evidence(evidence: str, message: str) -> Callable[[VersionedForm, Field], None]:
    def check(form: VersionedForm, field: Field) -> None:
        if not (field.data or "") and (form[evidence].data or "").strip():
            raise ValidationError(message)

    return check


def element_form(element: Element) -> type[VersionedForm]:
    """The self-rating page of one element: a level and evidence for each skill."""
    fields: dict[str, Field] = {}
    names = skill_names(element)
    for skill in element.skills:
        level, evidence, name = f"level-{skill.id}", f"evidence-{skill.id}", names[skill.id]
        fields[level] = StringField(
            validators=[
                _whole_number(f"{name}: choose a level from the scale"),
                _level_for_evidence(evidence, f"{name}: choose a level for your evidence"),
            ]
        )
        fields[evidence] = TextAreaField(
            f"{name}: evidence",
            validators=[
                Length(
                    max=MAX_NOTE,
                    message=f"{name}: evidence must be {MAX_NOTE:,} characters or fewer",
                )
            ],
        )
    fields["then"] = StringField()
    return _build("ElementForm", fields)


def values_form(values: Iterable[CoreValue]) -> type[VersionedForm]:
    """The reflection on each core value (any left empty is saved later: the service keeps
    what is written and the submit needs every one)."""
    fields: dict[str, Field] = {
        f"value-{value.id}": TextAreaField(
            f"{value.title}: reflection",
            validators=[
                Length(
                    max=MAX_NOTE,
                    message=f"{value.title}: a reflection must be {MAX_NOTE:,} characters or fewer",
                ),
            ],
        )
        for value in values
    }
    fields["then"] = StringField()
    return _build("ValuesForm", fields)


def decisions_form(elements: Iterable[Element]) -> type[VersionedForm]:
    """The supervisor's page for one element (or more): for each skill, agree (the default)
    or a level, and a comment."""
    fields: dict[str, Field] = {}
    for element in elements:
        names = skill_names(element)
        for skill in element.skills:
            label = names[skill.id]
            fields[f"level-{skill.id}"] = StringField(
                default="agree",
                validators=[
                    _whole_number(f"{label}: choose a level from the scale", also=("agree",))
                ],
            )
            fields[f"comment-{skill.id}"] = TextAreaField(
                f"{label}: comment",
                validators=[Length(max=MAX_NOTE, message=f"{label}: the comment is too long")],
            )
    fields["then"] = StringField()
    return _build("DecisionsForm", fields)


def value_review_form(values: Iterable[CoreValue]) -> type[VersionedForm]:
    """The supervisor's review of each reflection: an outcome and a comment per value
    (`outcome-<value id>`, `note-<value id>`); which outcomes exist is the service's rule."""
    fields: dict[str, Field] = {}
    for value in values:
        fields[f"outcome-{value.id}"] = StringField()
        fields[f"note-{value.id}"] = TextAreaField(
            f"{value.title}: comment",
            validators=[Length(max=MAX_NOTE, message=f"{value.title}: the comment is too long")],
        )
    return _build("ValueReviewForm", fields)


class SubmitForm(VersionedForm):
    """Submit a self-assessment: the version only."""


class ReturnForm(VersionedForm):
    """Return an assessment to the practitioner with a comment (required by the service)."""

    return_comment = TextAreaField("Comment for the practitioner")
