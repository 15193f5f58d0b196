"""The API's query arguments and answers as pydantic models.

Each view parses its query string through one model (`api/views.py::query`) and builds its
answer through another (`respond`), so the OpenAPI document (`api/spec.py`) is generated
from the same classes the code runs: a field added here is documented and checked at once.
Answers forbid unknown fields, so nothing leaves the API that the document does not name.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.config import JsonDict

from competency_app.recruitment.models import STATES
from competency_app.routing import MAX_ID

MAX_PAGE = 100_000  # far beyond any real list; keeps OFFSET within every database's range
MAX_PER_PAGE = 200


def _whole_number(value: object) -> object:
    """Query strings carry text: only ASCII digits are a whole number ("1.0", "+1", " 1" are
    refused rather than read generously, so the document's `integer` means what it says)."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 10:
            raise ValueError("must be a whole number written with the digits 0-9")
        return int(value)
    return value


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
# Exactly the days from FIRST_DAY to LAST_DAY written YYYY-MM-DD (29 February in leap years
# only): the document states the rule whole, so a client can tell a valid day from the
# pattern alone.
DAY_PATTERN = (
    r"^(?:(?:20[0-9]{2}|2100)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    r"|20(?:[02468][048]|[13579][26])-02-29)$"
)


def _iso_day(value: object) -> object:
    """YYYY-MM-DD only (not the other forms `date.fromisoformat` reads), 2000 to 2100."""
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError("must be a date written YYYY-MM-DD, for example 2026-12-31")
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD, for example 2026-12-31") from None
    if isinstance(value, date) and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be a date between {FIRST_DAY} and {LAST_DAY}")
    return value


def _to_the_second(value: datetime) -> datetime:
    """A moment as every answer writes it: to the second, no fraction."""
    return value.replace(microsecond=0)


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
# A moment: ISO 8601 to the second with its UTC offset ("2026-12-07T09:30:00Z"), never
# with microseconds; a day is a `date` ("2026-12-07"). One form per field, everywhere.
Moment = Annotated[AwareDatetime, AfterValidator(_to_the_second)]
AS_AT = (
    "The moment judged: ISO 8601 to the second with its UTC offset, as every answer's "
    "`as_at` (`2026-12-07T09:30:00Z`); its day in Europe/London is the day judged."
)
Day = Annotated[date, BeforeValidator(_iso_day)]
Key = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z._-]+$")]


class Query(BaseModel):
    """An endpoint's query arguments; an argument it does not know is refused (a typo such
    as `per-page` would otherwise be ignored without a word)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PageQuery(Query):
    page: WholeNumber = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: WholeNumber = Field(
        50, ge=1, le=MAX_PER_PAGE, description=f"Items per page (at most {MAX_PER_PAGE})."
    )


class TeamsQuery(PageQuery):
    name: str | None = Field(
        None, max_length=100, description="Only teams whose name contains this text."
    )


class CoverageQuery(Query):
    as_at: Day | None = Field(
        None,
        description="The day to judge coverage on (YYYY-MM-DD): a past day is read from the "
        "rating history, a later one is a forecast. Default: now.",
    )
    without: WholeNumber | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="A team member's id: coverage as if they had left (a what-if).",
    )


class MembersQuery(PageQuery):
    element: Key | None = Field(
        None, description="Only the ratings of this element's skills (an element id, `1a`)."
    )


class GapsQuery(PageQuery):
    as_at: Day | None = Field(
        None, description="The day to judge the gaps on (YYYY-MM-DD). Default: now."
    )
    kind: Literal["element", "skill", "values"] | None = Field(
        None, description="Only gaps of this kind."
    )
    status: Literal["gap", "at_risk"] | None = Field(
        None, description="Only gaps (below the rule now) or only risks (about to fall below)."
    )


VacancyState = Literal[STATES]  # type: ignore[valid-type]  # the model's stages, in order


class VacanciesQuery(PageQuery):
    team: Key | None = Field(
        None,
        description="Only this team's vacancies (a team slug; one that names no team is a "
        "404 naming `team`, as a team in a path).",
    )
    status: Literal["open", "closed"] | None = Field(
        None,
        description="Open: at any stage before 'closed'; closed: at the stage 'closed'. "
        "From the vacancy's stage, not its closing date.",
    )
    state: VacancyState | None = Field(None, description="Only vacancies at this stage.")


# ---- answers ----------------------------------------------------------------------------


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiError(Answer):
    """Every refusal: 401 (no or bad token), 403, 404, 405 and 422 (a query argument)."""

    error: str = Field(description="A short code: unauthorised, forbidden, not_found, …")
    message: str = Field(description="What went wrong, in words a person can act on.")
    field: str | None = Field(
        None,
        description="The query argument refused (422), or naming what was not found (404).",
    )


class Pagination(Answer):
    page: int
    per_page: int
    total: int = Field(description="Items across every page.")
    pages: int


class PageLinks(Answer):
    """The addresses of this page and its neighbours (root-relative, with the request's
    other arguments kept), the same as the `Link` header's (RFC 8288)."""

    self: str = Field(description="This page.")
    first: str = Field(description="The first page.")
    last: str = Field(description="The last page (the first, when there is nothing).")
    next: str | None = Field(description="The next page; null on the last page.")
    prev: str | None = Field(description="The previous page; null on the first page.")


class TeamRef(Answer):
    slug: str
    name: str


class TeamOut(TeamRef):
    members: int = Field(description="Keyworkers (practitioners) in the team today.")


class TeamList(Answer):
    items: list[TeamOut]
    pagination: Pagination
    links: PageLinks


class MemberRef(Answer):
    id: int
    name: str


class ElementCoverageOut(Answer):
    id: str
    title: str
    min_holders: int
    needed: int
    expected_of_everyone: bool
    holders: int
    holder_ids: list[int]
    skills_held: int
    skill_count: int
    not_met_ids: list[int]
    status: Literal["met", "at_risk", "gap"]
    gap: bool
    at_risk: bool
    why: str


class SkillCoverageOut(Answer):
    id: str
    element: str
    holders: int
    needed: int
    status: Literal["met", "at_risk", "gap"]
    gap: bool
    at_risk: bool
    why: str


class ValuesOut(Answer):
    status: Literal["met", "at_risk", "gap"]
    why: str


class ChangeOut(Answer):
    date: date
    kind: Literal["element", "skill", "values"]
    id: str
    before: str
    status: str
    why: str


class CoverageCounts(Answer):
    """The headline figures: the elements and the core values counted apart (`gaps` and
    `at_risk` count both together, as they always have)."""

    elements: int = Field(description="Elements of the framework.")
    elements_met: int = Field(description="Elements not a gap (met or at risk).")
    element_gaps: int = Field(description="Elements below the rule.")
    elements_at_risk: int = Field(description="Elements about to fall below the rule.")
    gaps: int = Field(description="Element gaps, plus 1 when the core values are a gap.")
    at_risk: int = Field(description="Elements at risk, plus 1 when the core values are.")
    skills: int
    skill_gaps: int = Field(description="Skills held by too few members.")
    skills_at_risk: int
    members: int = Field(description="Team members counted.")
    values_met: int = Field(description="Members whose core values reflection counts.")
    values_status: Literal["met", "at_risk", "gap"]


class CoverageOut(Answer):
    team: TeamRef
    framework_version: int
    as_at: Moment = Field(description=AS_AT)
    rule: str
    rule_text: str
    members: list[MemberRef]
    without: list[int]
    counts: CoverageCounts
    elements: list[ElementCoverageOut]
    skills: list[SkillCoverageOut]
    gaps: list[str]
    at_risk: list[str]
    skill_gaps: list[str]
    skills_at_risk: list[str]
    values: ValuesOut
    values_not_met: list[int]
    changes: list[ChangeOut] | None = Field(
        None, description="A forecast's changes, day by day (only for a future day or a what-if)."
    )


class RatingOut(Answer):
    skill: str = Field(description="The skill's id, `1a.s3`.")
    element: str
    level: int
    label: str = Field(description="The level's name on the framework's rating scale.")
    competent: bool = Field(description="At or above the scale's competent level.")
    validated_at: date
    expires_at: date


class MemberOut(MemberRef):
    ratings: list[RatingOut] = Field(description="Current validated levels, one per skill.")


class MemberList(Answer):
    team: TeamRef
    framework_version: int
    items: list[MemberOut]
    pagination: Pagination
    links: PageLinks


DEPRECATED: JsonDict = {"deprecated": True}


class GapOut(Answer):
    """An element, skill or the core values below the rule or at risk. Each field means the
    same whatever the `kind` (the figures of `/coverage` for the same item)."""

    kind: Literal["element", "skill", "values"]
    id: str
    title: str
    status: Literal["gap", "at_risk"]
    members_holding: int = Field(
        description="Team members holding it now: an element, who can fulfil the whole "
        "element alone (`/coverage`'s element `holders`); a skill, who hold it at the "
        "competent level; the values, whose reflection counts."
    )
    members_needed: int = Field(
        description="Team members needed: the element's or skill's minimum, or every member "
        "for what is expected of everyone (`/coverage`'s `needed`)."
    )
    skills_held: int | None = Field(
        description="An element's skills held by enough members (none for a skill or the values)."
    )
    skills_total: int | None = Field(description="An element's skills (none otherwise).")
    skills_short: int | None = Field(
        description="An element's skills held by too few members: `skills_total` minus "
        "`skills_held` (none otherwise)."
    )
    holders: int | None = Field(
        description="Deprecated (removed in v2): the figure the rule judges, skills held for an "
        "element under the each_skill rule and members otherwise. Read `members_holding` or "
        "`skills_held`.",
        json_schema_extra=DEPRECATED,
    )
    needed: int | None = Field(
        description="Deprecated (removed in v2): `holders`' target. Read `members_needed` or "
        "`skills_total`.",
        json_schema_extra=DEPRECATED,
    )
    why: str


class GapList(Answer):
    team: TeamRef
    as_at: Moment = Field(description=AS_AT)
    items: list[GapOut]
    pagination: Pagination
    links: PageLinks


class VacancyOut(Answer):
    """A vacancy in figures only: no candidate's name, email, mark or score."""

    id: int
    team: TeamRef
    title: str
    closing_date: date
    state: str = Field(
        description="The vacancy's stage, from 'open' (for applications) to 'closed'.",
        json_schema_extra={"enum": list(STATES)},
    )
    status: Literal["open", "closed"] = Field(
        description="From the stage: closed at the stage 'closed', open at every stage before "
        "it (a vacancy past its closing date is open until it is closed)."
    )
    candidates: int
    interviewed: int = Field(description="Candidates with at least one interview score sheet.")
    scores_agreed: int = Field(description="Candidates whose panel has agreed the scores.")


class VacancyList(Answer):
    items: list[VacancyOut]
    pagination: Pagination
    links: PageLinks


# ---- required training ------------------------------------------------------------------


class TrainingQuery(Query):
    module: Key | None = Field(
        None, description="Only this required module (a module id, `module.cyp-keyworker`)."
    )


TrainingStatus = Literal["due", "in_date", "expiring", "overdue"]


class TrainingCounts(Answer):
    due: int = Field(description="Never completed.")
    in_date: int
    expiring: int = Field(description="The refresh falls due within the expiring-soon window.")
    overdue: int = Field(description="The refresh date has been reached.")


class StandingOut(MemberRef):
    """One keyworker's standing on one required module, as the team's page shows it."""

    completed_on: date | None = Field(description="The latest completion (none: never done).")
    repeat_by: date | None = Field(
        description="When the completion must be repeated (none: never done, or no refresh)."
    )
    status: TrainingStatus
    compliant: bool = Field(description="In date or expiring.")


class ModuleComplianceOut(Answer):
    id: str = Field(description="The module's id.")
    title: str
    refresh_months: int | None = Field(description="How often it is repeated (none: never).")
    people: int
    compliant: int
    percent: int = Field(description="Compliant keyworkers, a whole percentage rounded down.")
    counts: TrainingCounts
    standings: list[StandingOut] = Field(
        description="Each keyworker: overdue first, then never done, expiring, in date."
    )


class TrainingOut(Answer):
    team: TeamRef
    framework_version: int
    as_at: Moment = Field(description=AS_AT)
    people: int = Field(description="Keyworkers in the team today.")
    required: int = Field(description="(keyworker, required module) pairs.")
    compliant: int = Field(description="Pairs in date or expiring.")
    percent: int
    fully_compliant: int = Field(description="Keyworkers compliant on every required module.")
    counts: TrainingCounts
    modules: list[ModuleComplianceOut]
