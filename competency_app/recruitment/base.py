"""What every recruitment rule shares: the refusal it raises, the audit of an event about a
candidate, a vacancy's criteria and scale, and the vacancy's stages (which move follows
which, and the one way a stage changes)."""

from __future__ import annotations

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.accounts.services import record
from competency_app.clock import utcnow
from competency_app.common.text import short_form
from competency_app.extensions import db
from competency_app.framework.models import Criterion, FrameworkVersion
from competency_app.framework.settings import InterviewSettings
from competency_app.recruitment.models import Candidate, Vacancy


class RecruitmentError(ValueError):
    """A refused change. `errors` holds every field's message in page order (the first is
    also `field` and the message) so a form can show them all at once."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int = 400,
        errors: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.field = field
        self.status = status
        self.errors = errors or ({field: message} if field else {})

    @classmethod
    def of(cls, errors: dict[str, str], status: int = 400) -> RecruitmentError:
        field, message = next(iter(errors.items()))
        return cls(message, field, status, errors)


def _record_candidate(action: str, actor: User | None, candidate: Candidate, **detail) -> None:
    """Audit an event about one candidate: its reference, vacancy and id, never its name."""
    record(
        action,
        actor,
        target=f"candidate:{candidate.reference}",
        organisation_id=candidate.vacancy.team.organisation_id,
        vacancy=candidate.vacancy_id,
        candidate=candidate.id,
        **detail,
    )


# ---- criteria by their words ---------------------------------------------------------------


def short_title(criterion: Criterion) -> str:
    """The criterion's first words: a title for lists (the full text is shown on demand)."""
    return short_form(criterion.text)


def criterion_titles(vacancy: Vacancy) -> dict[str, str]:
    return {c.key: short_title(c) for c in criteria_of(vacancy)}


def criteria_of(vacancy: Vacancy) -> list[Criterion]:
    return list(
        db.session.scalars(
            select(Criterion)
            .where(
                Criterion.version_id == vacancy.framework_version_id,
                Criterion.spec_key == vacancy.spec_key,
            )
            .order_by(Criterion.position)
        )
    )


def scoring_of(vacancy: Vacancy) -> InterviewSettings:
    """The interview scale and appointable rule of the vacancy's framework version."""
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    return version.settings.interview


# ---- stages -------------------------------------------------------------------------------

# state -> the states it may move to. Offers and appointments move through make_offer,
# withdraw_offer and appoint, which check the candidate too.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("shortlisting", "closed"),
    "shortlisting": ("interviewing", "closed"),
    "interviewing": ("decided", "closed"),
    "decided": ("offer_made", "closed"),
    "offer_made": ("appointed", "withdrawn"),
    "withdrawn": ("offer_made", "closed"),
    "appointed": ("closed",),
    "closed": (),
}
# The stages in which each kind of record may still change.
SHORTLISTING_STATES = ("open", "shortlisting")
SCORING_STATES = ("open", "shortlisting", "interviewing")  # until the panel decides
CANDIDATE_STATES = ("open", "shortlisting")


def _require_state(vacancy: Vacancy, states: tuple[str, ...], doing: str) -> None:
    if vacancy.state not in states:
        raise RecruitmentError(
            f"This vacancy is at the stage “{vacancy.state_label}”: {doing} is closed.",
            status=409,
        )


def _set_state(vacancy: Vacancy, to: str, actor: User, **detail) -> None:
    if to not in TRANSITIONS.get(vacancy.state, ()):
        raise RecruitmentError(
            f"A vacancy at the stage “{vacancy.state_label}” cannot move there.", status=409
        )
    before = vacancy.state
    vacancy.state, vacancy.state_changed_at = to, utcnow()
    db.session.flush()
    record(
        "vacancy_state_changed",
        actor,
        target=f"vacancy:{vacancy.id}",
        organisation_id=vacancy.team.organisation_id,
        vacancy=vacancy.id,
        old=before,
        new=to,
        **detail,
    )
