"""Recruitment rules: vacancies and candidates, independent panel scoring, agreement, the
assessment task, verdicts and ranking, the vacancy's stages, offers, appointing, purge.

Shortlisting lives in `shortlisting`, interview slots and lay panel members in `panel`, the
pre-employment checks an offer is conditional upon in `checks`, and what they all share in
`base`; their names are available here too, as the pages and the rest of the application
read them.

Two service-level points tell the rest of the application when people must act (the email
notifications connect to them): `signals.panel_asked_to_score` and
`signals.ready_for_agreed_scores`, and `signals.panel_member_invited` for a lay member's
invitation link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import func, select

from competency_app.accounts import password_links
from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, Team, User
from competency_app.accounts.services import record
from competency_app.assessments.services import start_assessment
from competency_app.clock import today, utcnow
from competency_app.common.dates import add_months
from competency_app.common.text import (
    control_character_problem,
    email_problem,
    has_control_characters,
)
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.models import Criterion, Element, FrameworkVersion, Module
from competency_app.framework.schema import AppointableRule
from competency_app.framework.services import current_version
from competency_app.notifications.services import send_password_links
from competency_app.recruitment import checks, signals
from competency_app.recruitment.base import CANDIDATE_STATES as CANDIDATE_STATES
from competency_app.recruitment.base import SCORING_STATES as SCORING_STATES
from competency_app.recruitment.base import SHORTLISTING_STATES as SHORTLISTING_STATES
from competency_app.recruitment.base import TRANSITIONS as TRANSITIONS
from competency_app.recruitment.base import RecruitmentError as RecruitmentError
from competency_app.recruitment.base import _record_candidate as _record_candidate
from competency_app.recruitment.base import _require_state as _require_state
from competency_app.recruitment.base import _set_state as _set_state
from competency_app.recruitment.base import criteria_of as criteria_of
from competency_app.recruitment.base import criterion_titles as criterion_titles
from competency_app.recruitment.base import scoring_of as scoring_of
from competency_app.recruitment.base import short_title as short_title
from competency_app.recruitment.models import (
    AgreedScore,
    AssessmentScore,
    Candidate,
    InterviewScore,
    InterviewSubmission,
    PanelMember,
    Vacancy,
)
from competency_app.recruitment.panel import invite_panel_member as invite_panel_member
from competency_app.recruitment.panel import set_slot as set_slot
from competency_app.recruitment.permissions import (
    can_manage_vacancy as can_manage,
)
from competency_app.recruitment.permissions import on_panel
from competency_app.recruitment.shortlisting import ShortlistResult as ShortlistResult
from competency_app.recruitment.shortlisting import goes_forward as goes_forward
from competency_app.recruitment.shortlisting import moderate as moderate
from competency_app.recruitment.shortlisting import moderations as moderations
from competency_app.recruitment.shortlisting import save_shortlist as save_shortlist
from competency_app.recruitment.shortlisting import shortlist_criteria as shortlist_criteria
from competency_app.recruitment.shortlisting import shortlist_results as shortlist_results
from competency_app.training.services import assign_module

VACANCY_FIELDS = ("team", "title", "closing_date", "shortlisters", "interviewers", "chair")


def create_vacancy(
    team: Team | None,
    title: str,
    closing: date | None,
    shortlisters: list[User],
    interviewers: list[User],
    chair: User | None,
    actor: User,
    earlier_errors: dict[str, str] | None = None,
) -> Vacancy:
    """A new vacancy with its two panels. Every problem is refused at once, in page order
    (`earlier_errors`: the form's own, such as a date that does not parse)."""
    version = current_version()
    if version is None or not version.settings.person_specifications:
        raise RecruitmentError("The framework has no person specification to recruit against.")
    found = dict(earlier_errors or {})
    title = title.strip()
    if team is None:
        found.setdefault("team", "Choose the team the post is in")
    if not title or len(title) > 200:
        found.setdefault("title", "Enter the post title (up to 200 characters)")
    if closing is not None and closing < today():
        found.setdefault("closing_date", "The closing date cannot be in the past")
    elif closing is None:
        found.setdefault("closing_date", "Enter the closing date, for example 2026-12-31")
    if len({u.id for u in shortlisters}) < 2:
        found.setdefault("shortlisters", "Choose at least two shortlisters")
    if len({u.id for u in interviewers}) < 2:
        found.setdefault("interviewers", "Choose at least two interview panel members")
    if chair is None:
        found.setdefault("chair", "Choose the chair of the interview panel")
    elif chair.id not in {u.id for u in interviewers}:
        found.setdefault("chair", "The chair must be one of the interview panel")
    if found:
        raise RecruitmentError.of({k: found[k] for k in VACANCY_FIELDS if k in found})
    assert team is not None and closing is not None and chair is not None
    vacancy = Vacancy(
        team_id=team.id,
        framework_version_id=version.id,
        spec_key=version.settings.person_specifications[0].id,
        title=title,
        closing_date=closing,
        created_by_id=actor.id,
        created_at=utcnow(),
        state="open",
    )
    vacancy.panel = (
        [PanelMember(user_id=u.id, role="shortlister") for u in _unique(shortlisters)]
        + [PanelMember(user_id=u.id, role="interviewer") for u in _unique(interviewers)]
        + [PanelMember(user_id=chair.id, role="chair")]
    )
    db.session.add(vacancy)
    db.session.flush()
    record(
        "vacancy_created",
        actor,
        target=f"vacancy:{vacancy.id}",
        organisation_id=team.organisation_id,
        team=team.slug,
        title=title,
    )
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
    _require_state(vacancy, CANDIDATE_STATES, "adding candidates")
    if not name or len(name) > 200:
        raise RecruitmentError("Enter the candidate's name (up to 200 characters)", "name")
    if has_control_characters(name):
        raise RecruitmentError(control_character_problem("Candidate's name"), "name")
    if email and (problem := email_problem(email)):
        raise RecruitmentError(f"{problem}, or leave it blank", "email")
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
        _record_candidate(
            "candidate_added",
            actor,
            candidate,
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
        organisation_id=vacancy.team.organisation_id,
        vacancy=vacancy.id,
        candidates=len(rows),
    )
    return len(rows)


def can_move(user: User, vacancy: Vacancy, to: str) -> bool:
    """The team's recruiters and HR move a vacancy; the chair also decides it."""
    if can_manage(user, vacancy):
        return True
    return to == "decided" and on_panel(user, vacancy, "chair")


def move_vacancy(vacancy: Vacancy, to: str, actor: User) -> None:
    """Move to the next stage (not offers and appointments: see make_offer and appoint)."""
    if to in ("offer_made", "appointed", "withdrawn"):
        raise RecruitmentError("Make an offer or appoint from the ranking.", status=409)
    if not can_move(actor, vacancy, to):
        raise RecruitmentError("Only the team's recruiters and HR move this vacancy.", status=403)
    if to == "interviewing" and not any(r.goes_forward for r in shortlist_results(vacancy)):
        raise RecruitmentError(
            "No candidate goes forward from shortlisting yet: finish shortlisting first.",
            status=409,
        )
    if to == "decided":
        waiting = [r.candidate.reference for r in ranking(vacancy) if not r.agreed]
        if waiting:
            raise RecruitmentError(
                f"Agree the scores of every interviewed candidate first: {', '.join(waiting)} "
                "not agreed yet.",
                status=409,
            )
    _set_state(vacancy, to, actor)
    if to == "interviewing":
        signals.panel_asked_to_score.send(
            None, vacancy_id=vacancy.id, user_ids=[u.id for u in vacancy.members("interviewer")]
        )


def make_offer(candidate: Candidate, actor: User) -> None:
    vacancy = candidate.vacancy
    if not can_manage(actor, vacancy):
        raise RecruitmentError("Only the team's recruiters and HR make offers.", status=403)
    verdicts = {r.candidate.id: r for r in ranking(vacancy)}
    ranked = verdicts.get(candidate.id)
    if ranked is None or not ranked.agreed or not ranked.verdict.appointable:
        raise RecruitmentError("Only an appointable candidate can be offered the post.", status=409)
    if candidate.offer is not None:
        raise RecruitmentError("This candidate has already had an offer.", status=409)
    _set_state(vacancy, "offer_made", actor, candidate=candidate.id)
    candidate.offer = "offered"


def withdraw_offer(candidate: Candidate, actor: User) -> None:
    vacancy = candidate.vacancy
    if not can_manage(actor, vacancy):
        raise RecruitmentError("Only the team's recruiters and HR withdraw offers.", status=403)
    if candidate.offer != "offered":
        raise RecruitmentError("This candidate has no open offer.", status=409)
    _set_state(vacancy, "withdrawn", actor, candidate=candidate.id)
    candidate.offer = "withdrawn"


@dataclass
class Appointment:
    user: User
    link: str  # the one-time set-your-password token, shown once
    assessment_id: int
    priority_modules: list[str]
    training_due: date | None = None  # when the priority modules assigned are due


# The new starter's priority training is due this many months after their start date.
PRIORITY_TRAINING_MONTHS = 3


def priority_training_for_appointment(vacancy: Vacancy) -> list[tuple[str, str]]:
    """(module key, element key) for each e-learning module linked to the team gaps (and
    at-risk elements) this vacancy targets: the elements the person specification's criteria
    evidence that the team lacks. The training the new starter was hired for; each module
    with the first gap (in framework order) it closes."""
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    cov = coverage_for_team(vacancy.team, version)
    gaps = {e.element.key for e in cov.gaps + cov.at_risk}
    targeted = gaps & {key for c in criteria_of(vacancy) for key in c.links}
    if not targeted:
        return []
    order = {e.element.key: i for i, e in enumerate(cov.elements)}
    found = []
    for module in db.session.scalars(
        select(Module).where(Module.version_id == version.id).order_by(Module.key)
    ):
        closes = sorted(targeted & set(module.element_keys or []), key=lambda k: order.get(k, 0))
        if closes:
            found.append((module.key, closes[0]))
    return found


def priority_modules_for_appointment(vacancy: Vacancy) -> list[str]:
    """The module keys of `priority_training_for_appointment`."""
    return [key for key, _element in priority_training_for_appointment(vacancy)]


def priority_training_due(start: date) -> date:
    """When the new starter's priority training is due: PRIORITY_TRAINING_MONTHS after the
    start date, and never before today."""
    return max(add_months(start, PRIORITY_TRAINING_MONTHS), today())


def appoint(
    candidate: Candidate,
    email: str,
    start: date | None,
    supervisor: User | None,
    actor: User,
) -> Appointment:
    """Appoint the offered candidate: their staff record (keyworker in the vacancy's team,
    with a supervisor and a set-your-password link), a draft first self-assessment and their
    priority training assigned by the appointing recruiter (`priority_training_due`)."""
    vacancy = candidate.vacancy
    if not can_manage(actor, vacancy):
        raise RecruitmentError("Only the team's recruiters and HR appoint.", status=403)
    if candidate.offer != "offered" or vacancy.state != "offer_made":
        raise RecruitmentError("Make this candidate an offer before appointing.", status=409)
    checks.require_complete(candidate)
    errors: dict[str, str] = {}
    email = accounts.normalise_email(email or "")
    if problem := email_problem(email):
        errors["email"] = problem
    elif accounts.user_by_email(email) is not None:
        errors["email"] = f"Someone with the email {email} already has an account"
    if start is None:
        errors["start_date"] = "Enter the start date, for example 2027-01-04"
    if supervisor is None:
        errors["supervisor"] = "Choose the new starter's supervisor"
    if errors:
        raise RecruitmentError.of(errors)
    assert start is not None
    user = accounts.create_user(
        email,
        candidate.name,
        accounts.temporary_password(),
        [accounts.RoleGrant(Role.PRACTITIONER, vacancy.team)],
        None,  # made by the appointment, recorded below with the recruiter's name
        supervisor=supervisor,
        organisation=vacancy.team.organisation,  # the organisation hosting the team employs
    )
    user.password_hash = accounts.NO_PASSWORD  # they choose it through their link
    db.session.flush()
    token = password_links.issue_links([user.id], actor, reason="appointment")[user.id]
    send_password_links({user.id: token}, password_links.link_url)  # emailed after the commit
    assessment = start_assessment(user)
    training = priority_training_for_appointment(vacancy)
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    due_on = priority_training_due(start)
    for module_key, element_key in training:
        assign_module(
            user,
            module_key,
            due_on,
            actor,
            version,
            element_key=element_key,
            note="Priority training: a team gap this post was recruited for.",
        )
    modules = [key for key, _element in training]
    candidate.offer, candidate.staff_user_id, candidate.start_date = "appointed", user.id, start
    _set_state(vacancy, "appointed", actor, candidate=candidate.id)
    _record_candidate(
        "candidate_appointed",
        actor,
        candidate,
        user=user.id,
        assessment=assessment.id,
        priority_modules=len(modules),
    )
    return Appointment(user, token, assessment.id, modules, due_on if modules else None)


# ---- interviews --------------------------------------------------------------------------


def interview_criteria(vacancy: Vacancy) -> list[Criterion]:
    return [c for c in criteria_of(vacancy) if "interview" in c.assessed_by]


def assessment_criteria(vacancy: Vacancy) -> list[Criterion]:
    return [c for c in criteria_of(vacancy) if "assessment" in c.assessed_by]


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


def _check_scores(
    criteria: list[Criterion],
    scores: dict[str, int | None],
    levels: frozenset[int],
    prefix: str,
    complete: bool,
    what: str,
) -> None:
    """Refuse a score off the scale and, when `complete`, a missing one: every problem,
    named by the criterion's words, in page order."""
    errors: dict[str, str] = {}
    for criterion in criteria:
        score = scores.get(criterion.key)
        if score is None:
            if complete:
                errors[f"{prefix}{criterion.key}"] = (
                    f"Score “{short_title(criterion)}” before you {what}"
                )
        elif score not in levels:
            errors[f"{prefix}{criterion.key}"] = (
                f"Choose a score from the scale for “{short_title(criterion)}”"
            )
    if errors:
        raise RecruitmentError.of(errors)


def save_scores(
    candidate: Candidate, user: User, scores: dict[str, tuple[int | None, str]], submit: bool
) -> None:
    """Save a panel member's scores as a draft, or submit them: submitting needs a score on
    every criterion (each missing one named, nothing saved)."""
    vacancy = candidate.vacancy
    if not is_interviewer(vacancy, user):
        raise RecruitmentError("Only this vacancy's interview panel can score.", status=403)
    if has_submitted(candidate, user):
        raise RecruitmentError(
            "Your scores for this candidate were already submitted (perhaps from another "
            "window), so they cannot change. What you typed is shown below.",
            status=409,
        )
    _require_state(vacancy, SCORING_STATES, "interview scoring")
    criteria = interview_criteria(vacancy)
    levels = scoring_of(vacancy).scale.values
    _check_scores(
        criteria,
        {key: score for key, (score, _notes) in scores.items()},
        levels,
        "s-",
        submit,
        "submit",
    )
    existing = my_scores(candidate, user)
    for criterion in criteria:
        score, notes = scores.get(criterion.key, (None, ""))
        row = existing.get(criterion.key)
        if score is None:
            if row is not None:
                db.session.delete(row)
            continue
        row = row or InterviewScore(
            candidate_id=candidate.id, criterion_key=criterion.key, panel_member_id=user.id
        )
        row.score, row.notes = score, (notes or "").strip()[:5000] or None
        db.session.add(row)
    db.session.flush()
    if submit:
        db.session.add(
            InterviewSubmission(
                candidate_id=candidate.id, panel_member_id=user.id, submitted_at=utcnow()
            )
        )
        db.session.flush()
        _record_candidate(
            "interview_scores_submitted",
            user,
            candidate,
            criteria=len(criteria),
        )
        if all(has_submitted(candidate, u) for u in vacancy.members("interviewer")):
            signals.ready_for_agreed_scores.send(
                None,
                vacancy_id=vacancy.id,
                candidate_id=candidate.id,
                chair_ids=[u.id for u in vacancy.members("chair")],
            )


def submitted_count(candidate: Candidate) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(InterviewSubmission)
        .where(InterviewSubmission.candidate_id == candidate.id)
    ).scalar_one()


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


def save_agreed(
    candidate: Candidate, chair: User, scores: dict[str, int], complete: bool = True
) -> None:
    """The chair's agreed scores: complete (every criterion: the ranking uses them) or a
    draft (kept; the ranking shows the candidate as not agreed yet)."""
    vacancy = candidate.vacancy
    if chair.id not in {u.id for u in vacancy.members("chair")}:
        raise RecruitmentError("Only the panel chair records agreed scores.", status=403)
    if not has_submitted(candidate, chair):
        raise RecruitmentError("Submit your own scores before agreeing the panel's.", status=409)
    _require_state(vacancy, SCORING_STATES, "agreeing scores")
    criteria = interview_criteria(vacancy)
    levels = scoring_of(vacancy).scale.values
    _check_scores(criteria, dict(scores), levels, "a-", complete, "agree them")
    now = utcnow()
    _write_scores(AgreedScore, candidate, criteria, scores, chair_id=chair.id, agreed_at=now)
    candidate.scores_agreed_at = now if complete else None
    db.session.flush()
    _record_candidate(
        "scores_agreed",
        chair,
        candidate,
        criteria=len(scores),
        complete=complete,
    )


# The chair's agreed scores and the assessment task's scores: one row per criterion each.
Score = TypeVar("Score", AgreedScore, AssessmentScore)


def _scores_of(model: type[Score], candidate: Candidate) -> dict[str, int]:
    """{criterion key: score} of the candidate's agreed or assessment-task scores."""
    return dict(
        db.session.execute(
            select(model.criterion_key, model.score).where(model.candidate_id == candidate.id)
        ).all()
    )


def _write_scores(
    model: type[Score],
    candidate: Candidate,
    criteria: list[Criterion],
    scores: dict[str, int],
    **stamp,
) -> None:
    """Upsert one row per criterion scored (with `stamp`: who and when), delete the rows of
    criteria left unscored. Flushes nothing."""
    existing = {
        row.criterion_key: row
        for row in db.session.scalars(select(model).where(model.candidate_id == candidate.id))
    }
    for criterion in criteria:
        score = scores.get(criterion.key)
        row = existing.get(criterion.key)
        if score is None:
            if row is not None:
                db.session.delete(row)
            continue
        row = row or model(candidate_id=candidate.id, criterion_key=criterion.key)
        row.score = score
        for name, value in stamp.items():
            setattr(row, name, value)
        db.session.add(row)


def agreed_scores(candidate: Candidate) -> dict[str, int]:
    return _scores_of(AgreedScore, candidate)


# ---- the assessment task ---------------------------------------------------------------------


def task_scores(candidate: Candidate) -> dict[str, int]:
    return _scores_of(AssessmentScore, candidate)


def save_task_scores(candidate: Candidate, chair: User, scores: dict[str, int]) -> None:
    """The panel's score for the task or presentation on each criterion assessed by
    "Assessment" (recorded by the chair, every criterion at once)."""
    vacancy = candidate.vacancy
    if chair.id not in {u.id for u in vacancy.members("chair")}:
        raise RecruitmentError("Only the panel chair records the assessment scores.", status=403)
    _require_state(vacancy, SCORING_STATES, "assessment scoring")
    criteria = assessment_criteria(vacancy)
    levels = scoring_of(vacancy).scale.values
    _check_scores(criteria, dict(scores), levels, "t-", True, "save the assessment")
    _write_scores(
        AssessmentScore, candidate, criteria, scores, assessor_id=chair.id, scored_at=utcnow()
    )
    db.session.flush()
    _record_candidate(
        "assessment_task_scored",
        chair,
        candidate,
        criteria=len(criteria),
    )


# ---- verdicts and ranking ----------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a candidate is not appointable, about one criterion (None: about them all)."""

    criterion: Criterion | None
    problem: str

    def __str__(self) -> str:
        if self.criterion is None:
            return self.problem
        return f"{short_title(self.criterion)}: {self.problem}"


@dataclass
class Verdict:
    appointable: bool
    reasons: list[Reason]


def appointable(
    criteria: list[Criterion],
    agreed: dict[str, int],
    rule: AppointableRule,
    task: dict[str, int] | None = None,
) -> Verdict:
    """The appointable rule from the framework file, with the reasons when it fails.

    Essential criteria are the bar: an agreed score of at least the minimum on each (and,
    where the assessment task scored it, the task's score too), and none of the forbidden
    scores on the criteria the rule names (essential ones by default). Desirable criteria
    only rank the candidates who pass.
    """
    reasons: list[Reason] = []
    minimum = rule.min_agreed_score_essential
    forbidden = set(rule.forbidden_scores)
    task = task or {}
    for criterion in criteria:
        essential = criterion.requirement == "essential"
        score = agreed.get(criterion.key)
        if essential:
            if score is None:
                reasons.append(Reason(criterion, "no agreed score yet"))
            elif score < minimum:
                reasons.append(
                    Reason(criterion, f"essential criterion scored {score} (needs {minimum})")
                )
            elif score in forbidden:
                reasons.append(Reason(criterion, f"essential criterion scored {score}"))
            tasked = task.get(criterion.key)
            if tasked is not None and tasked < minimum:
                reasons.append(
                    Reason(criterion, f"assessment task scored {tasked} (needs {minimum})")
                )
        elif rule.forbidden_applies_to == "all" and score is not None and score in forbidden:
            reasons.append(Reason(criterion, f"scored {score}"))
    return Verdict(not reasons, reasons)


@dataclass
class Ranked:
    candidate: Candidate
    total: int
    verdict: Verdict
    gap_fit: list[Element]
    agreed: bool  # a complete set of agreed scores (a draft is "not agreed yet")
    essential_total: int = 0
    desirable_total: int = 0
    task_total: int = 0


def ranking(vacancy: Vacancy) -> list[Ranked]:
    """Candidates who went forward: the appointable first, then by the essential criteria's
    agreed total, the desirable criteria's (the tie-breaker) and the assessment task's;
    candidates whose scores are not agreed yet come last."""
    criteria = interview_criteria(vacancy)
    requirement = {c.key: c.requirement for c in criteria}
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
        task = task_scores(candidate)
        fit = [
            e
            for e in gaps
            if any(
                e.key in links.get(key, set()) and score >= scoring.gap_fit_min_score
                for key, score in agreed.items()
            )
        ]
        complete = candidate.scores_agreed_at is not None
        verdict = (
            appointable(criteria, agreed, scoring.appointable_rule, task)
            if complete
            else Verdict(False, [Reason(None, "Scores not agreed yet")])
        )
        essential = sum(v for k, v in agreed.items() if requirement.get(k) == "essential")
        ranked.append(
            Ranked(
                candidate,
                sum(agreed.values()) + sum(task.values()),
                verdict,
                fit,
                complete,
                essential,
                sum(agreed.values()) - essential,
                sum(task.values()),
            )
        )
    ranked.sort(
        key=lambda r: (
            not r.agreed,
            not r.verdict.appointable,
            -r.essential_total,
            -r.desirable_total,
            -r.task_total,
            r.candidate.reference,
        )
    )
    return ranked


def priority_criteria(vacancy: Vacancy) -> set[str]:
    """Criteria linked to the team's current gaps and at-risk elements."""
    version = db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
    cov = coverage_for_team(vacancy.team, version)
    keys = {e.element.key for e in cov.gaps + cov.at_risk}
    return {c.key for c in criteria_of(vacancy) if keys & set(c.links)}
