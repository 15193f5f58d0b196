"""Shortlisting: each shortlister's marks, the moderation of their disagreements, and who
goes forward to interview."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.models import Criterion
from competency_app.recruitment.base import (
    SHORTLISTING_STATES,
    RecruitmentError,
    _record_candidate,
    _require_state,
    _set_state,
    criteria_of,
    scoring_of,
    short_title,
)
from competency_app.recruitment.models import (
    Candidate,
    ShortlistMark,
    ShortlistModeration,
    Vacancy,
)
from competency_app.recruitment.permissions import can_moderate_vacancy

# ---- shortlisting ------------------------------------------------------------------------


def shortlist_criteria(vacancy: Vacancy) -> list[Criterion]:
    return [c for c in criteria_of(vacancy) if "application" in c.assessed_by]


def save_shortlist(candidate: Candidate, shortlister: User, marks: dict[str, tuple]) -> None:
    """marks: criterion key -> (met for essential | None, score for desirable | None).
    Every criterion needs its mark: a missing one is refused, naming each (nothing saved)."""
    vacancy = candidate.vacancy
    if shortlister.id not in {u.id for u in vacancy.members("shortlister")}:
        raise RecruitmentError("Only this vacancy's shortlisters can shortlist.", status=403)
    _require_state(vacancy, SHORTLISTING_STATES, "shortlisting")
    criteria = shortlist_criteria(vacancy)
    levels = scoring_of(vacancy).scale.values
    errors: dict[str, str] = {}
    for criterion in criteria:
        met, score = marks.get(criterion.key, (None, None))
        if criterion.requirement == "essential" and met is None:
            errors[f"c-{criterion.key}"] = f"Choose met or not met for “{short_title(criterion)}”"
        elif criterion.requirement != "essential" and score not in levels:
            errors[f"c-{criterion.key}"] = f"Choose a score for “{short_title(criterion)}”"
    if errors:
        raise RecruitmentError.of(errors)
    existing = {
        m.criterion_key: m
        for m in db.session.scalars(
            select(ShortlistMark).where(
                ShortlistMark.candidate_id == candidate.id,
                ShortlistMark.shortlister_id == shortlister.id,
            )
        )
    }
    for criterion in criteria:
        met, score = marks[criterion.key]
        mark = existing.get(criterion.key) or ShortlistMark(
            candidate_id=candidate.id, criterion_key=criterion.key, shortlister_id=shortlister.id
        )
        mark.met, mark.score = (
            (met, None) if criterion.requirement == "essential" else (None, score)
        )
        db.session.add(mark)
    db.session.flush()
    if vacancy.state == "open":
        _set_state(vacancy, "shortlisting", shortlister)
    _record_candidate(
        "shortlist_marked",
        shortlister,
        candidate,
        marked=len(criteria),
    )


def moderations(candidate: Candidate) -> dict[str, ShortlistModeration]:
    return {
        m.criterion_key: m
        for m in db.session.scalars(
            select(ShortlistModeration).where(ShortlistModeration.candidate_id == candidate.id)
        )
    }


def moderate(
    candidate: Candidate, decisions: dict[str, tuple[bool | None, int | None, str]], actor: User
) -> int:
    """The chair's or recruiter's decision, with a reason, on each criterion the
    shortlisters disagree on: key -> (met | None, score | None, reason). Every disputed
    criterion needs a decision and a reason (nothing is saved otherwise)."""
    vacancy = candidate.vacancy
    if not can_moderate_vacancy(actor, vacancy):
        raise RecruitmentError(
            "Only the panel chair, the team's recruiters and HR moderate.", status=403
        )
    _require_state(vacancy, SHORTLISTING_STATES, "moderating shortlisting")
    result = next(r for r in shortlist_results(vacancy) if r.candidate.id == candidate.id)
    disputed = result.disputed
    if not disputed:
        raise RecruitmentError("The shortlisters agree on every criterion.", status=409)
    levels = scoring_of(vacancy).scale.values
    errors: dict[str, str] = {}
    for criterion in disputed:
        met, score, reason = decisions.get(criterion.key, (None, None, ""))
        name = short_title(criterion)
        if criterion.requirement == "essential" and met is None:
            errors[f"m-{criterion.key}"] = f"Choose met or not met for “{name}”"
        elif criterion.requirement != "essential" and score not in levels:
            errors[f"m-{criterion.key}"] = f"Choose a score for “{name}”"
        if not (reason or "").strip():
            errors[f"r-{criterion.key}"] = f"Give the reason for the decision on “{name}”"
        elif len(reason) > 2000:
            errors[f"r-{criterion.key}"] = f"Keep the reason for “{name}” to 2000 characters"
    if errors:
        raise RecruitmentError.of(errors)
    existing = moderations(candidate)
    now = utcnow()
    for criterion in disputed:
        met, score, reason = decisions[criterion.key]
        row = existing.get(criterion.key) or ShortlistModeration(
            candidate_id=candidate.id, criterion_key=criterion.key
        )
        row.met, row.score = (met, None) if criterion.requirement == "essential" else (None, score)
        row.reason, row.moderator_id, row.moderated_at = reason.strip(), actor.id, now
        db.session.add(row)
    db.session.flush()
    _record_candidate(
        "shortlist_moderated",
        actor,
        candidate,
        criteria=len(disputed),
    )
    return len(disputed)


@dataclass
class ShortlistResult:
    candidate: Candidate
    marked_by: int
    goes_forward: bool
    # criteria the shortlisters disagree on: `disputed` still need moderating
    disagreements: list[Criterion] = field(default_factory=list)
    disputed: list[Criterion] = field(default_factory=list)
    moderated: list[tuple[Criterion, ShortlistModeration]] = field(default_factory=list)
    unmet: list[Criterion] = field(default_factory=list)
    desirable_total: int = 0

    @property
    def blocking(self) -> list[Criterion]:
        """Disagreements on essential criteria still to moderate."""
        return [c for c in self.disputed if c.requirement == "essential"]

    @property
    def status(self) -> str:
        if self.goes_forward:
            return "Goes forward"
        if self.marked_by == 0:
            return "Not marked"
        if self.blocking:
            return "Shortlisters disagree"
        if self.unmet and self.marked_by < 2:
            return "Waiting for the second shortlister"
        return "Not shortlisted"


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
        moderated = moderations(candidate)
        by_criterion: dict[str, list[ShortlistMark]] = {}
        for mark in marks:
            by_criterion.setdefault(mark.criterion_key, []).append(mark)
        marked_by = len({m.shortlister_id for m in marks})
        result = ShortlistResult(candidate, marked_by, False)
        for key, criterion in criteria.items():
            got = by_criterion.get(key, [])
            decision = moderated.get(key)
            essential = criterion.requirement == "essential"
            values = {m.met for m in got} if essential else {m.score for m in got}
            if len(values) > 1:
                result.disagreements.append(criterion)
                if decision is None:
                    result.disputed.append(criterion)
                else:
                    result.moderated.append((criterion, decision))
            if essential:
                met = decision.met if decision is not None and len(values) > 1 else None
                if met is None:
                    met = bool(got) and values == {True}
                if not met:
                    result.unmet.append(criterion)
            else:
                if decision is not None and len(values) > 1 and decision.score is not None:
                    result.desirable_total += decision.score
                else:
                    scores = [m.score for m in got if m.score is not None]
                    result.desirable_total += round(sum(scores) / len(scores)) if scores else 0
        # a disagreement on a desirable criterion (its scores are averaged) does not hold
        # the candidate back; one on an essential criterion does until it is moderated
        result.goes_forward = (
            marked_by >= min(2, shortlisters) and not result.unmet and not result.blocking
        )
        results.append(result)
    return results


def goes_forward(candidate: Candidate) -> bool:
    return any(
        r.goes_forward
        for r in shortlist_results(candidate.vacancy)
        if r.candidate.id == candidate.id
    )
