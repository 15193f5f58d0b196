"""How long each kind of record is kept, and which records have passed their period.

Every holding of the registry names its retention class (`Holding.kept`); `DEFAULTS` gives
each class its period, when the period starts and where it comes from. The defaults follow
the Records Management Code of Practice for Health and Social Care 2021 (Appendix II, the
retention schedule) where it covers the record, and say so; a service whose own policy
differs sets `RETENTION_MONTHS` (and names that policy in `RETENTION_POLICY`), and the
privacy page then shows the service's period and policy instead.

A leaver's record (staff whose account is disabled and whose leaving day has passed) is
due in part when a class's period after leaving has passed and the class holds rows that
an erasure deletes (their notifications, say), and due as a whole when the longest period
of every class has passed: the account is then erased under a pseudonym
(`erasure.erase`). A vacancy's candidates are due when the candidate period after the
closing date has passed. Nothing is erased until HR or an administrator of the employer
confirms it on the retention review page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import ColumnElement, func, select

from competency_app.accounts.models import Team, User
from competency_app.clock import today
from competency_app.common.dates import add_months
from competency_app.config import MONTHS_LIMIT
from competency_app.extensions import db
from competency_app.privacy.registry import BY_TABLE, DELETE, HOLDINGS, Holding
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.recruitment.retention import candidate_months as recruitment_months
from competency_app.recruitment.retention import purge_due

LEAVING = "leaving"  # the period runs from the day the member of staff left
CLOSING = "closing"  # from the vacancy's closing date
ERASED_DOMAIN = "@erased.invalid"

CODE = "Records Management Code of Practice for Health and Social Care 2021, Appendix II"
WITH_STAFF_RECORD = f"{CODE}: part of the staff record, kept as long as it"


@dataclass(frozen=True)
class Rule:
    key: str  # the retention class
    records: str  # the kind of records, in the privacy page's words
    months: int
    starts: str  # LEAVING or CLOSING
    basis: str  # where the period comes from
    policy: bool = False  # the service's own policy sets it (RETENTION_MONTHS)

    @property
    def period(self) -> str:
        years, months = divmod(self.months, 12)
        parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
        parts += [f"{months} month{'s' if months != 1 else ''}"] if months else []
        after = "the member of staff leaves" if self.starts == LEAVING else "the closing date"
        return f"{' and '.join(parts)} after {after}"


DEFAULTS: tuple[Rule, ...] = (
    Rule(
        "staff_record",
        "Your account: name, employer, roles, teams, supervisor, start and leaving dates",
        72,
        LEAVING,
        f"{CODE}: staff record",
    ),
    Rule(
        "competence_record",
        "Self-assessments, ratings, evidence, reflections, validations and value reviews",
        72,
        LEAVING,
        WITH_STAFF_RECORD,
    ),
    Rule(
        "supervision_record",
        "Supervision sessions, their schedules and records",
        72,
        LEAVING,
        WITH_STAFF_RECORD,
    ),
    Rule(
        "training_record",
        "Training completions and assigned training",
        72,
        LEAVING,
        f"{CODE}: staff training records",
    ),
    Rule(
        "recruitment",
        "The interview panels you sat on and the vacancies you opened",
        72,
        LEAVING,
        WITH_STAFF_RECORD,
    ),
    Rule(
        "audit",
        "The audit log of what you did and what was done to your account (after the period "
        "the events stay, with your name replaced)",
        72,
        LEAVING,
        WITH_STAFF_RECORD,
    ),
    Rule(
        "notification",
        "Notifications, emails and prepared downloads",
        12,
        LEAVING,
        "This product's default: needed only while you work here",
    ),
    Rule(
        "sign_in",
        "Sign-in links and API keys",
        12,
        LEAVING,
        "This product's default: needed only while you work here",
    ),
    Rule(
        "candidate",
        "Job applications: the application, shortlisting marks, interview scores and notes, "
        "checks and the outcome",
        12,
        CLOSING,
        f"{CODE}: job applications (unsuccessful candidates); an appointed candidate's "
        "application becomes part of their staff record",
    ),
)


def check_settings(config) -> None:
    """At start-up: RETENTION_MONTHS names only kinds of record that exist, each with a
    whole number of months in range (ValueError names the one at fault)."""
    known = {rule.key for rule in DEFAULTS}
    for key, months in dict(config.get("RETENTION_MONTHS") or {}).items():
        if key not in known:
            raise ValueError(
                f"RETENTION_MONTHS: {key!r} is not a kind of record "
                f"(one of {', '.join(sorted(known))})"
            )
        if not isinstance(months, int) or not 1 <= months <= MONTHS_LIMIT:
            raise ValueError(
                f"RETENTION_MONTHS: {key}={months!r} is not a whole number of months "
                f"from 1 to {MONTHS_LIMIT}"
            )


def rules() -> dict[str, Rule]:
    """The periods in force: the defaults, with the service's own where it sets them."""
    config = current_app.config
    own = {**dict(config.get("RETENTION_MONTHS") or {}), "candidate": recruitment_months()}
    policy = config.get("RETENTION_POLICY") or "This service's records retention policy"
    return {
        rule.key: (
            Rule(rule.key, rule.records, own[rule.key], rule.starts, policy, policy=True)
            if rule.key in own and own[rule.key] != rule.months
            else rule
        )
        for rule in DEFAULTS
    }


def staff_rules() -> list[Rule]:
    return [rule for rule in rules().values() if rule.starts == LEAVING]


def whole_months() -> int:
    """After this many months from leaving, every class has passed: the whole record."""
    return max(rule.months for rule in staff_rules())


def candidate_months() -> int:
    return rules()["candidate"].months


# ---- what is due ------------------------------------------------------------------------


@dataclass
class DueLeaver:
    person: User
    whole: bool  # every class has passed: the whole record is erased
    classes: list[Rule]  # the classes due in part (when not whole)
    whole_on: date  # when the whole record falls due


@dataclass
class DueVacancy:
    vacancy: Vacancy
    candidates: int
    due_on: date


def _leavers(organisation_ids: Iterable[int]) -> ColumnElement[bool]:
    return (
        User.organisation_id.in_(list(organisation_ids))
        & User.active.is_(False)
        & User.leaving_date.is_not(None)
        & ~User.email.endswith(ERASED_DOMAIN)
    )


def _deletable(rule: Rule) -> list[Holding]:
    """The holdings of a class whose rows an erasure deletes (what can go before the whole
    record does)."""
    return [h for h in HOLDINGS if h.kept == rule.key and h.erase == DELETE and not h.about_nobody]


def _holders(holding: Holding, person_ids: list[int]) -> set[int]:
    """Which of `person_ids` have rows in `holding` (one query)."""
    table = db.metadata.tables[holding.table]
    if holding.through is not None:
        column, parent_name = holding.through
        parent = db.metadata.tables[parent_name]
        subject = parent.c[BY_TABLE[parent_name].subject or ""]
        statement = (
            select(subject)
            .select_from(table.join(parent, table.c[column] == parent.c.id))
            .where(subject.in_(person_ids))
        )
    else:
        subject = table.c[holding.subject or ""]
        statement = select(subject).where(subject.in_(person_ids))
    return set(db.session.scalars(statement.distinct()))


def due_leavers(
    organisation_ids: Iterable[int], on: date | None = None, only: list[int] | None = None
) -> list[DueLeaver]:
    """Leavers of these organisations with records past their period, by leaving date
    (`only`: of these people)."""
    on = on or today()
    periods = staff_rules()
    shortest = min(rule.months for rule in periods)
    longest = whole_months()
    statement = select(User).where(
        _leavers(organisation_ids), User.leaving_date <= add_months(on, -shortest)
    )
    if only is not None:
        statement = statement.where(User.id.in_(only))
    people = list(db.session.scalars(statement.order_by(User.leaving_date, User.name, User.id)))
    if not people:
        return []
    partial_ids = [
        p.id for p in people if p.leaving_date and add_months(p.leaving_date, longest) > on
    ]
    holders: dict[str, set[int]] = {}
    if partial_ids:
        for rule in periods:
            if rule.months < longest:
                holders[rule.key] = set().union(
                    *(_holders(h, partial_ids) for h in _deletable(rule))
                )
    due = []
    for person in people:
        left = person.leaving_date
        assert left is not None
        whole_on = add_months(left, longest)
        if whole_on <= on:
            due.append(DueLeaver(person, True, [], whole_on))
            continue
        classes = [
            rule
            for rule in periods
            if add_months(left, rule.months) <= on and person.id in holders.get(rule.key, set())
        ]
        if classes:
            due.append(DueLeaver(person, False, classes, whole_on))
    return due


def due_vacancies(
    organisation_ids: Iterable[int], on: date | None = None, only: list[int] | None = None
) -> list[DueVacancy]:
    """Vacancies of these organisations whose candidates have passed their period."""
    on = on or today()
    months = candidate_months()
    statement = (
        select(Vacancy, func.count(Candidate.id))
        .join(Team, Team.id == Vacancy.team_id)
        .outerjoin(Candidate, Candidate.vacancy_id == Vacancy.id)
        .where(
            Team.organisation_id.in_(list(organisation_ids)),
            Vacancy.purged_at.is_(None),
            Vacancy.closing_date < add_months(on, -months),
        )
    )
    if only is not None:
        statement = statement.where(Vacancy.id.in_(only))
    rows = db.session.execute(
        statement.group_by(Vacancy.id).order_by(Vacancy.closing_date, Vacancy.id)
    ).all()
    return [DueVacancy(vacancy, count, purge_due(vacancy, months)) for vacancy, count in rows]


def undated_leavers(organisation_ids: Iterable[int]) -> list[User]:
    """Disabled accounts with no leaving date: their retention cannot start until HR enters
    the day they left."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id.in_(list(organisation_ids)),
                User.active.is_(False),
                User.leaving_date.is_(None),
                ~User.email.endswith(ERASED_DOMAIN),
            )
            .order_by(User.name, User.id)
        )
    )
