"""Interview slots, and the lay and expert-by-experience members invited onto a panel."""

from __future__ import annotations

from datetime import datetime

from competency_app.accounts import password_links
from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, User
from competency_app.accounts.services import record
from competency_app.common.text import (
    control_character_problem,
    email_problem,
    has_control_characters,
)
from competency_app.extensions import db
from competency_app.recruitment import signals
from competency_app.recruitment.base import RecruitmentError, _record_candidate, _require_state
from competency_app.recruitment.models import Candidate, InterviewSlot, PanelMember, Vacancy
from competency_app.recruitment.permissions import can_manage_vacancy as can_manage
from competency_app.recruitment.permissions import on_panel

# ---- interview slots -------------------------------------------------------------------------


def set_slot(candidate: Candidate, starts_at: datetime, place: str, actor: User) -> InterviewSlot:
    vacancy = candidate.vacancy
    if not can_manage(actor, vacancy):
        raise RecruitmentError("Only the team's recruiters and HR set interview slots.", status=403)
    _require_state(vacancy, ("open", "shortlisting", "interviewing"), "setting interview slots")
    place = place.strip()
    if not place or len(place) > 500:
        raise RecruitmentError("Enter the place or the video link (up to 500 characters)", "place")
    slot = candidate.slot or InterviewSlot(candidate_id=candidate.id)
    slot.starts_at, slot.place = starts_at, place
    db.session.add(slot)
    db.session.flush()
    _record_candidate(
        "interview_slot_set",
        actor,
        candidate,
    )
    return slot


# ---- lay and expert-by-experience panel members -------------------------------------------


def invite_panel_member(vacancy: Vacancy, name: str, email: str, actor: User) -> tuple[User, str]:
    """Invite a lay or expert-by-experience member onto this vacancy's interview panel: an
    account with the panel member role and no password, and a one-time, expiring link to
    choose one. Returns the person and the link's token (shown once)."""
    if not can_manage(actor, vacancy):
        raise RecruitmentError(
            "Only the team's recruiters and HR invite panel members.", status=403
        )
    _require_state(vacancy, ("open", "shortlisting", "interviewing"), "inviting panel members")
    errors: dict[str, str] = {}
    name, email = name.strip(), accounts.normalise_email(email or "")
    if not name or len(name) > 200:
        errors["invite_name"] = "Enter the panel member's full name (up to 200 characters)"
    elif has_control_characters(name):
        errors["invite_name"] = control_character_problem("Panel member's full name")
    if problem := email_problem(email):
        errors["invite_email"] = problem
    existing = accounts.user_by_email(email) if "invite_email" not in errors else None
    if existing is not None and existing.role_set != {Role.PANEL_MEMBER}:
        errors["invite_email"] = (
            f"{email} belongs to a member of staff: choose them as an interviewer instead"
        )
    if errors:
        raise RecruitmentError.of(errors)
    # inviting again someone who has not chosen a password yet sends a fresh link
    again = existing is not None and on_panel(existing, vacancy, "interviewer")
    if again and existing is not None and existing.password_hash != accounts.NO_PASSWORD:
        raise RecruitmentError(
            f"{email} is already on this vacancy's interview panel", "invite_email"
        )
    if existing is None:
        user = accounts.create_user(
            email,
            name,
            accounts.temporary_password(),
            [accounts.RoleGrant(Role.PANEL_MEMBER, None)],
            None,  # made by the invitation, recorded below with the recruiter's name
        )
        user.password_hash = accounts.NO_PASSWORD
    else:
        user = existing
    if not again:
        db.session.add(
            PanelMember(vacancy_id=vacancy.id, user_id=user.id, role="interviewer", lay=True)
        )
    db.session.flush()
    db.session.refresh(vacancy)
    token = password_links.issue_links([user.id], actor, reason="panel invitation")[user.id]
    record(
        "panel_member_invited",
        actor,
        target=f"vacancy:{vacancy.id}",
        organisation_id=vacancy.team.organisation_id,
        vacancy=vacancy.id,
        user=user.id,
    )
    signals.panel_member_invited.send(
        None, vacancy_id=vacancy.id, user_id=user.id, link=password_links.link_url(token)
    )
    return user, token
