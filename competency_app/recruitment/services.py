"""Recruitment rules: shortlisting, independent panel scoring, agreement, verdicts, purge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import delete, func, select

from competency_app.accounts.models import Team, User
from competency_app.accounts.services import record
from competency_app.clock import today, utcnow
from competency_app.common.dates import add_months
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.models import Criterion, FrameworkVersion
from competency_app.framework.schema import AppointableRule
from competency_app.framework.services import current_version
from competency_app.framework.settings import InterviewSettings
from competency_app.recruitment.models import (
    AgreedScore,
    Candidate,
    InterviewScore,
    InterviewSubmission,
    PanelMember,
    ShortlistMark,
    Vacancy,
)


class RecruitmentError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


# ---- vacancies and candidates ----------------------------------------------------------


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


def create_vacancy(
    team: Team,
    title: str,
    closing: date,
    shortlisters: list[User],
    interviewers: list[User],
    chair: User,
    actor: User,
) -> Vacancy:
    version = current_version()
    if version is None or not version.settings.person_specifications:
        raise RecruitmentError("The framework has no person specification to recruit against.")
    title = title.strip()
    if not title or len(title) > 200:
        raise RecruitmentError("Enter the post title (up to 200 characters)", "title")
    if closing < today():
        raise RecruitmentError("The closing date cannot be in the past", "closing_date")
    if len({u.id for u in shortlisters}) < 2:
        raise RecruitmentError("Choose at least two shortlisters", "shortlisters")
    if len({u.id for u in interviewers}) < 2:
        raise RecruitmentError("Choose at least two interview panel members", "interviewers")
    if chair.id not in {u.id for u in interviewers}:
        raise RecruitmentError("The chair must be one of the interview panel", "chair")
    vacancy = Vacancy(
        team_id=team.id,
        framework_version_id=version.id,
        spec_key=version.settings.person_specifications[0].id,
        title=title,
        closing_date=closing,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    vacancy.panel = (
        [PanelMember(user_id=u.id, role="shortlister") for u in _unique(shortlisters)]
        + [PanelMember(user_id=u.id, role="interviewer") for u in _unique(interviewers)]
        + [PanelMember(user_id=chair.id, role="chair")]
    )
    db.session.add(vacancy)
    db.session.flush()
    record("vacancy_created", actor, target=f"vacancy:{vacancy.id}", team=team.slug, title=title)
    return vacancy


def _unique(users: list[User]) -> list[User]:
    seen, result = set(), []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def add_candidate(
    vacancy: Vacancy, name: str, email: str, actor: User | None, audit: bool = True
) -> Candidate:
    """Add one candidate (name and contact email only); `audit=False` when part of an import."""
    name, email = name.strip(), email.strip().lower()
    if vacancy.purged_at is not None:
        raise RecruitmentError("This vacancy's candidate data has been purged.", status=409)
    if not name or len(name) > 200:
        raise RecruitmentError("Enter the candidate's name (up to 200 characters)", "name")
    if email and ("@" not in email or len(email) > 254):
        raise RecruitmentError(
            "Enter a contact email like name@example.com, or leave it blank", "email"
        )
    count = db.session.execute(
        select(func.count()).select_from(Candidate).where(Candidate.vacancy_id == vacancy.id)
    ).scalar_one()
    candidate = Candidate(
        vacancy_id=vacancy.id,
        reference=f"V{vacancy.id}-C{count + 1:03d}",
        name=name,
        email=email or None,
        added_at=utcnow(),
    )
    db.session.add(candidate)
    db.session.flush()
    if audit:
        record(
            "candidate_added",
            actor,
            target=f"candidate:{candidate.reference}",
            vacancy=vacancy.id,
            candidate=candidate.id,
        )
    return candidate


def import_candidates(vacancy: Vacancy, rows: list[dict], actor: User | None) -> int:
    """Add every row's candidate, or none: the first bad row raises naming its row and column."""
    for row in rows:
        try:
            add_candidate(vacancy, row["name"], row["email"], actor, audit=False)
        except RecruitmentError as error:
            raise RecruitmentError(
                f"Row {row['_row']}, column {error.field or 'name'}: {error}. "
                "No candidates were added.",
                error.field,
                error.status,
            ) from None
    record(
        "candidates_imported",
        actor,
        target=f"vacancy:{vacancy.id}",
        vacancy=vacancy.id,
        candidates=len(rows),
    )
    return len(rows)


# ---- shortlisting ------------------------------------------------------------------------


def shortlist_criteria(vacancy: Vacancy) -> list[Criterion]:
    return [c for c in criteria_of(vacancy) if "application" in c.assessed_by]


def save_shortlist(candidate: Candidate, shortlister: User, marks: dict[str, tuple]) -> None:
    """marks: criterion key -> (met for essential | None, score for desirable | None)."""
    vacancy = candidate.vacancy
    if shortlister.id not in {u.id for u in vacancy.members("shortlister")}:
        raise RecruitmentError("Only this vacancy's shortlisters can shortlist.", status=403)
    existing = {
        m.criterion_key: m
        for m in db.session.scalars(
            select(ShortlistMark).where(
                ShortlistMark.candidate_id == candidate.id,
                ShortlistMark.shortlister_id == shortlister.id,
            )
        )
    }
    for criterion in shortlist_criteria(vacancy):
        met, score = marks.get(criterion.key, (None, None))
        mark = existing.get(criterion.key) or ShortlistMark(
            candidate_id=candidate.id, criterion_key=criterion.key, shortlister_id=shortlister.id
        )
        mark.met, mark.score = met, score
        db.session.add(mark)
    db.session.flush()
    record(
        "shortlist_marked",
        shortlister,
        target=f"candidate:{candidate.reference}",
        vacancy=vacancy.id,
        candidate=candidate.id,
        marked=sum(1 for met, score in marks.values() if met is not None or score is not None),
    )


@dataclass
class ShortlistResult:
    candidate: Candidate
    marked_by: int
    goes_forward: bool
    disagreements: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    desirable_total: int = 0


def shortlist_results(vacancy: Vacancy) -> list[ShortlistResult]:
    criteria = {c.key: c for c in shortlist_criteria(vacancy)}
    shortlisters = len(vacancy.members("shortlister"))
    results = []
    for candidate in vacancy.candidates:
        marks = list(
            db.session.scalars(
                select(ShortlistMark).where(ShortlistMark.candidate_id == candidate.id)
            )
        )
        by_criterion: dict[str, list[ShortlistMark]] = {}
        for mark in marks:
            by_criterion.setdefault(mark.criterion_key, []).append(mark)
        marked_by = len({m.shortlister_id for m in marks})
        result = ShortlistResult(candidate, marked_by, False)
        for key, criterion in criteria.items():
            got = by_criterion.get(key, [])
            if criterion.requirement == "essential":
                values = {m.met for m in got}
                if len(values) > 1:
                    result.disagreements.append(key)
                if False in values or None in values or not got:
                    result.unmet.append(key)
            else:
                scores = [m.score for m in got if m.score is not None]
                if len(set(scores)) > 1:
                    result.disagreements.append(key)
                result.desirable_total += round(sum(scores) / len(scores)) if scores else 0
        result.goes_forward = marked_by >= min(2, shortlisters) and not result.unmet
        results.append(result)
    return results


# ---- interviews --------------------------------------------------------------------------


def interview_criteria(vacancy: Vacancy) -> list[Criterion]:
    return [c for c in criteria_of(vacancy) if "interview" in c.assessed_by]


def is_interviewer(vacancy: Vacancy, user: User) -> bool:
    return user.id in {u.id for u in vacancy.members("interviewer")}


def has_submitted(candidate: Candidate, user: User) -> bool:
    return (
        db.session.scalar(
            select(InterviewSubmission.id).where(
                InterviewSubmission.candidate_id == candidate.id,
                InterviewSubmission.panel_member_id == user.id,
            )
        )
        is not None
    )


def my_scores(candidate: Candidate, user: User) -> dict[str, InterviewScore]:
    return {
        s.criterion_key: s
        for s in db.session.scalars(
            select(InterviewScore).where(
                InterviewScore.candidate_id == candidate.id,
                InterviewScore.panel_member_id == user.id,
            )
        )
    }


_Row = TypeVar("_Row", InterviewScore, AgreedScore)


def _upsert_scores(
    vacancy: Vacancy,
    existing: dict[str, _Row],
    scores: dict[str, tuple[int | None, str]],
    new_row: Callable[[str], _Row],
    fill: Callable[[_Row, int, str], None],
    *,
    blank_removes: bool,
) -> list[Criterion]:
    """One row per interview criterion: a score on the interview scale updates the
    criterion's row (or adds `new_row(key)`); a blank one removes the row if
    `blank_removes`, else leaves it. Returns the criteria, in order."""
    levels = scoring_of(vacancy).scale.values
    criteria = interview_criteria(vacancy)
    for criterion in criteria:
        score, notes = scores.get(criterion.key, (None, ""))
        if score is None:
            if blank_removes and criterion.key in existing:
                db.session.delete(existing[criterion.key])
            continue
        if score not in levels:
            raise RecruitmentError(f"{criterion.key}: choose a score from the scale", criterion.key)
        row = existing.get(criterion.key) or new_row(criterion.key)
        fill(row, score, notes)
        db.session.add(row)
    db.session.flush()
    return criteria


def save_scores(
    candidate: Candidate, user: User, scores: dict[str, tuple[int | None, str]], submit: bool
) -> None:
    vacancy = candidate.vacancy
    if not is_interviewer(vacancy, user):
        raise RecruitmentError("Only this vacancy's interview panel can score.", status=403)
    if has_submitted(candidate, user):
        raise RecruitmentError(
            "You have already submitted your scores for this candidate.", status=409
        )

    def fill(row: InterviewScore, score: int, notes: str) -> None:
        row.score, row.notes = score, (notes or "").strip()[:5000] or None

    criteria = _upsert_scores(
        vacancy,
        my_scores(candidate, user),
        scores,
        lambda key: InterviewScore(
            candidate_id=candidate.id, criterion_key=key, panel_member_id=user.id
        ),
        fill,
        blank_removes=True,
    )
    if submit:
        missing = [c.key for c in criteria if c.key not in my_scores(candidate, user)]
        if missing:
            raise RecruitmentError(
                f"Score every criterion before you submit: {len(missing)} still to score.",
                status=409,
            )
        db.session.add(
            InterviewSubmission(
                candidate_id=candidate.id, panel_member_id=user.id, submitted_at=utcnow()
            )
        )
        db.session.flush()
        record(
            "interview_scores_submitted",
            user,
            target=f"candidate:{candidate.reference}",
            vacancy=vacancy.id,
            candidate=candidate.id,
            criteria=len(criteria),
        )


def visible_scores(
    candidate: Candidate, viewer: User | None, everyone: bool = False
) -> dict[str, list[tuple[User, InterviewScore]]]:
    """Every panel member's submitted scores, but only for a viewer who has submitted their
    own (the chair agreeing scores included); `everyone=True` (the HR workbook, after the
    panel) sees all of them without a viewer."""
    if viewer is None and not everyone:
        raise ValueError("name the viewer, or ask for everyone's scores")
    can_see_all = everyone or (viewer is not None and has_submitted(candidate, viewer))
    rows = db.session.execute(
        select(InterviewScore, User)
        .join(User, User.id == InterviewScore.panel_member_id)
        .join(
            InterviewSubmission,
            (InterviewSubmission.candidate_id == InterviewScore.candidate_id)
            & (InterviewSubmission.panel_member_id == InterviewScore.panel_member_id),
        )
        .where(InterviewScore.candidate_id == candidate.id)
    ).all()
    result: dict[str, list] = {}
    for score, user in rows:
        if can_see_all or (viewer is not None and user.id == viewer.id):
            result.setdefault(score.criterion_key, []).append((user, score))
    return result


def save_agreed(candidate: Candidate, chair: User, scores: dict[str, int]) -> None:
    vacancy = candidate.vacancy
    if chair.id not in {u.id for u in vacancy.members("chair")}:
        raise RecruitmentError("Only the panel chair records agreed scores.", status=403)
    if not has_submitted(candidate, chair):
        raise RecruitmentError("Submit your own scores before agreeing the panel's.", status=409)

    def fill(row: AgreedScore, score: int, _notes: str) -> None:
        row.score, row.chair_id, row.agreed_at = score, chair.id, utcnow()

    _upsert_scores(
        vacancy,
        {
            a.criterion_key: a
            for a in db.session.scalars(
                select(AgreedScore).where(AgreedScore.candidate_id == candidate.id)
            )
        },
        {key: (score, "") for key, score in scores.items()},
        lambda key: AgreedScore(candidate_id=candidate.id, criterion_key=key),
        fill,
        blank_removes=False,
    )
    record(
        "scores_agreed",
        chair,
        target=f"candidate:{candidate.reference}",
        vacancy=vacancy.id,
        candidate=candidate.id,
        criteria=len(scores),
    )


def agreed_scores(candidate: Candidate) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(AgreedScore.criterion_key, AgreedScore.score).where(
                AgreedScore.candidate_id == candidate.id
            )
        ).all()
    )


# ---- verdicts and ranking ----------------------------------------------------------------


@dataclass
class Verdict:
    appointable: bool
    reasons: list[str]


def appointable(
    criteria: list[Criterion], agreed: dict[str, int], rule: AppointableRule
) -> Verdict:
    """The appointable rule from the framework file, with the reason when it fails."""
    reasons = []
    minimum = rule.min_agreed_score_essential
    forbidden = set(rule.forbidden_scores)
    for criterion in criteria:
        score = agreed.get(criterion.key)
        if criterion.requirement == "essential":
            if score is None:
                reasons.append(f"{criterion.key}: no agreed score yet")
            elif score < minimum:
                reasons.append(
                    f"{criterion.key}: essential criterion scored {score} (needs {minimum})"
                )
        if score is not None and score in forbidden:
            reasons.append(f"{criterion.key}: scored {score}")
    return Verdict(not reasons, sorted(set(reasons)))


@dataclass
class Ranked:
    candidate: Candidate
    total: int
    verdict: Verdict
    gap_fit: list[str]


def ranking(vacancy: Vacancy) -> list[Ranked]:
    criteria = interview_criteria(vacancy)
    scoring = scoring_of(vacancy)
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    cov = coverage_for_team(vacancy.team, version)
    gaps = [e.element for e in cov.gaps + cov.at_risk]
    links = {c.key: set(c.links) for c in criteria}
    forward = {r.candidate.id for r in shortlist_results(vacancy) if r.goes_forward}
    ranked = []
    for candidate in vacancy.candidates:
        if candidate.id not in forward:
            continue
        agreed = agreed_scores(candidate)
        fit = [
            e.key
            for e in gaps
            if any(
                e.key in links[key] and score >= scoring.gap_fit_min_score
                for key, score in agreed.items()
            )
        ]
        ranked.append(
            Ranked(
                candidate,
                sum(agreed.values()),
                appointable(criteria, agreed, scoring.appointable_rule),
                fit,
            )
        )
    ranked.sort(key=lambda r: (not r.verdict.appointable, -r.total, r.candidate.reference))
    return ranked


def priority_criteria(vacancy: Vacancy) -> set[str]:
    """Criteria linked to the team's current gaps and at-risk elements."""
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    cov = coverage_for_team(vacancy.team, version)
    keys = {e.element.key for e in cov.gaps + cov.at_risk}
    return {c.key for c in criteria_of(vacancy) if keys & set(c.links)}


# ---- retention ---------------------------------------------------------------------------


def purge_candidates(retention_months: int, actor_label: str = "system") -> tuple[int, int]:
    """Delete candidate personal data (and their marks and scores) for vacancies that closed
    more than `retention_months` ago. Returns (vacancies, candidates)."""
    cutoff = add_months(today(), -retention_months)
    vacancies = list(
        db.session.scalars(
            select(Vacancy).where(Vacancy.closing_date < cutoff, Vacancy.purged_at.is_(None))
        )
    )
    ids = [v.id for v in vacancies]
    if not ids:
        return 0, 0
    candidates = db.session.execute(
        select(func.count()).select_from(Candidate).where(Candidate.vacancy_id.in_(ids))
    ).scalar_one()
    candidate_ids = select(Candidate.id).where(Candidate.vacancy_id.in_(ids))
    for model in (ShortlistMark, InterviewScore, InterviewSubmission, AgreedScore):
        db.session.execute(delete(model).where(model.candidate_id.in_(candidate_ids)))
    db.session.execute(delete(Candidate).where(Candidate.vacancy_id.in_(ids)))
    now = utcnow()
    for vacancy in vacancies:
        vacancy.purged_at = now
    record(
        "candidates_purged",
        None,
        target=f"{len(ids)} vacancies",
        candidates=candidates,
        vacancies=ids,
        cutoff=cutoff.isoformat(),
        actor_label=actor_label,
    )
    db.session.flush()
    return len(ids), candidates
