"""The recruitment blocks of the home page: what the recruiter, HR and each panel member
have to do now. The home page (ui/home.py) shows each block as a card."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from competency_app.accounts import scope
from competency_app.accounts.models import AuditEvent, Role, User
from competency_app.clock import today, utcnow
from competency_app.common.dates import add_months, uk_date, uk_datetime
from competency_app.common.home import HomeSection
from competency_app.extensions import db
from competency_app.recruitment import services
from competency_app.recruitment.models import STATE_LABELS, STATES, PanelMember, Vacancy
from competency_app.recruitment.permissions import on_panel
from competency_app.recruitment.retention import candidate_months

CLOSING_SOON_DAYS = 14
RETENTION_WARNING_DAYS = 30


def _link(vacancy: Vacancy) -> str:
    return url_for("recruitment.vacancy", vacancy_id=vacancy.id)


def _live(vacancies: list[Vacancy]) -> list[Vacancy]:
    return [v for v in vacancies if v.state != "closed" and v.purged_at is None]


def _waiting_on_scores(vacancy: Vacancy) -> list[str]:
    """ "V1-C001: 1 of 3 panel scores" for each interviewed candidate still being scored or
    agreed."""
    if vacancy.state != "interviewing":
        return []
    panel = len(vacancy.members("interviewer"))
    lines = []
    for result in services.shortlist_results(vacancy):
        if not result.goes_forward:
            continue
        candidate = result.candidate
        done = services.submitted_count(candidate)
        if done < panel:
            lines.append(f"{candidate.reference}: {done} of {panel} panel scores submitted")
        elif candidate.scores_agreed_at is None:
            lines.append(f"{candidate.reference}: waiting for the chair to agree the scores")
    return lines


def recruiter_block(user: User) -> HomeSection | None:
    team_ids = user.team_ids(Role.RECRUITER)
    if not team_ids:
        return None
    vacancies = _live(
        list(
            db.session.scalars(
                select(Vacancy).where(Vacancy.team_id.in_(team_ids)).order_by(Vacancy.closing_date)
            )
        )
    )
    block = HomeSection("Recruitment")
    block.links.append(("Create a vacancy", url_for("recruitment.new_vacancy")))
    if not vacancies:
        block.lines.append("You have no open vacancies.")
        return block
    counts = Counter(v.state for v in vacancies)
    block.lines.append(
        "Open vacancies by stage: "
        + ", ".join(f"{STATE_LABELS[s].lower()} {counts[s]}" for s in STATES if counts[s])
        + "."
    )
    soon = today() + timedelta(days=CLOSING_SOON_DAYS)
    for vacancy in vacancies:
        if vacancy.state in ("open", "shortlisting") and vacancy.closing_date <= soon:
            block.lines.append(f"{vacancy.title} closes on {uk_date(vacancy.closing_date)}.")
        for line in _waiting_on_scores(vacancy):
            block.lines.append(f"{vacancy.title}, {line}.")
        block.links.append((f"{vacancy.title} ({vacancy.state_label.lower()})", _link(vacancy)))
    return block


def hr_block(user: User) -> HomeSection | None:
    if Role.HR not in user.role_set:
        return None
    block = HomeSection("Recruitment records")
    vacancies = list(
        db.session.scalars(
            select(Vacancy)
            .where(scope.in_hosted_teams(Vacancy.team_id, user))
            .order_by(Vacancy.closing_date)
        )
    )
    live = _live(vacancies)
    block.lines.append(
        f"{len(live)} {'vacancy is' if len(live) == 1 else 'vacancies are'} in progress."
    )
    to_close = [v for v in live if v.state in ("appointed", "withdrawn")]
    for vacancy in to_close:
        block.lines.append(f"{vacancy.title} is {vacancy.state_label.lower()}: close it.")
    since = utcnow() - timedelta(days=30)
    imports = list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action.in_(["candidates_imported", "staff_imported"]),
                AuditEvent.at >= since,
                scope.audit_events(user, Role.HR),
            )
            .order_by(AuditEvent.at.desc())
            .limit(5)
        )
    )
    for event in imports:
        detail = event.detail or {}
        if event.action == "candidates_imported":
            what = f"{detail.get('candidates', 0)} candidates"
        else:
            what = f"staff ({detail.get('created', 0)} new, {detail.get('updated', 0)} updated)"
        block.lines.append(f"Imported {what} on {uk_datetime(event.at)}.")
    months = candidate_months()
    horizon = today() + timedelta(days=RETENTION_WARNING_DAYS)
    for vacancy in vacancies:
        if vacancy.purged_at is not None or not vacancy.candidates:
            continue
        due = add_months(vacancy.closing_date, months)
        if due <= horizon:
            block.lines.append(
                f"{vacancy.title}: candidate data is due for deletion on {uk_date(due)} "
                "(retention period)."
            )
    for vacancy in live:
        block.links.append(
            (
                f"{vacancy.title} workbook (.xlsx)",
                url_for("recruitment.workbook", vacancy_id=vacancy.id),
            )
        )
    block.links.append(("All vacancies", url_for("recruitment.index")))
    return block


def panel_block(user: User) -> HomeSection | None:
    """What this interview panel member has to score, and when."""
    vacancies = list(
        db.session.scalars(
            select(Vacancy)
            .where(
                Vacancy.id.in_(
                    select(PanelMember.vacancy_id).where(
                        PanelMember.user_id == user.id, PanelMember.role == "interviewer"
                    )
                ),
                Vacancy.state.in_(services.SCORING_STATES),
            )
            .order_by(Vacancy.closing_date)
        )
    )
    vacancies = [v for v in vacancies if on_panel(user, v, "interviewer")]
    if not vacancies:
        if Role.PANEL_MEMBER in user.role_set:
            return HomeSection(
                "Interview panel", ["You have no interviews to score at the moment."]
            )
        return None
    block = HomeSection("Interview panel")
    for vacancy in vacancies:
        for result in services.shortlist_results(vacancy):
            candidate = result.candidate
            if not result.goes_forward or services.has_submitted(candidate, user):
                continue
            when = (
                f"interview {uk_datetime(candidate.slot.starts_at)}"
                if candidate.slot
                else "no interview slot yet"
            )
            block.lines.append(f"{vacancy.title}: score {candidate.reference} ({when}).")
            block.links.append(
                (
                    f"Score {candidate.reference} for {vacancy.title}",
                    url_for(
                        "recruitment.interview", vacancy_id=vacancy.id, candidate_id=candidate.id
                    ),
                )
            )
        block.links.append((vacancy.title, _link(vacancy)))
    if not block.lines:
        block.lines.append("You have submitted your scores for every candidate so far.")
    return block


BLOCKS = (recruiter_block, hr_block, panel_block)
