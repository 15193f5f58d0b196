"""The home page: for each of the person's roles, what they have to do now.

Each feature contributes a section builder to `SECTION_BUILDERS`; a builder returns None
when it has nothing for this person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from competency_app.accounts import organisations, scope
from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.assessments import services as assessments
from competency_app.assessments.models import Status
from competency_app.assessments.profile import profile_of
from competency_app.clock import utcnow
from competency_app.common.home import HomeSection as Section
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.schema import Words
from competency_app.framework.services import current_version
from competency_app.notifications import services as notifications
from competency_app.privacy import retention_views as privacy_home
from competency_app.recruitment import home as recruitment_home
from competency_app.regional import home as regional_home
from competency_app.supervision import home as supervision
from competency_app.training import home as training_home
from competency_app.ui import admin_home


def _practitioner(user: User) -> Section | None:
    if Role.PRACTITIONER not in user.role_set:
        return None
    supervisor = accounts.supervisor_of(user)
    section = Section("Your self-assessment")
    current = assessments.open_assessment(user)
    version = current_version(structure=True)
    if version is not None:
        section.lines += supervision.keyworker_lines(user, version, utcnow())
        section.items += supervision.keyworker_items(user, version, utcnow())
    if current is None:
        section.links.append(("Start a self-assessment", url_for("assessments.my_assessments")))
    elif current.status.editable:
        state = assessments.progress(current)
        rated = f"{state.rated} of {state.total} skills rated."
        # a returned one is announced by `keyworker_lines` (for which session, by when)
        section.lines.append(
            f"Self-assessment {current.cycle}: {rated}"
            if current.status == Status.RETURNED
            else f"Self-assessment {current.cycle} is {current.status.label.lower()}: {rated}"
        )
        section.links.append(
            (
                "Continue your self-assessment",
                url_for("assessments.overview", assessment_id=current.id),
            )
        )
    else:  # submitted: `keyworker_lines` says when and by whom it will be looked at
        section.links.append(
            (
                "Your submitted self-assessment",
                url_for("assessments.overview", assessment_id=current.id),
            )
        )
    profile = profile_of(user)
    if profile is not None and profile.expired:
        section.lines.append(
            f"{len(profile.expired)} validated skills have expired: reassess them next time."
        )
    if profile is not None and profile.to_revalidate:
        count = len(profile.to_revalidate)
        section.lines.append(
            f"{count} validated {'skill was' if count == 1 else 'skills were'} reworded in the "
            "framework since: validated against earlier wording, "
            f"{'it needs' if count == 1 else 'they need'} validating again."
        )
    section.links.append(("Your profile", url_for("assessments.profile", user_id=user.id)))
    section.links.append(
        ("Your development plan", url_for("coverage.development", user_id=user.id))
    )
    section.lines.append(
        f"Your supervisor is {supervisor.name}."
        if supervisor
        else "You have no supervisor yet: ask your manager."
    )
    section.links += supervision.keyworker_links(user)
    section.links.append(("Read the competency framework", url_for("framework.overview")))
    return section


def _supervisor(user: User) -> Section | None:
    if Role.SUPERVISOR not in user.role_set:
        return None
    people = accounts.supervisees(user)
    section = Section("Supervision")
    waiting = assessments.submitted_for(user)
    section.lines.append(
        f"{len(waiting)} {'assessment awaits' if len(waiting) == 1 else 'assessments await'} "
        "your validation."
    )
    section.links.append(("Open the supervision queue", url_for("assessments.queue")))
    section.links += [
        (f"{p.name}'s profile", url_for("assessments.profile", user_id=p.id)) for p in people
    ]
    if people:
        names = ", ".join(p.name for p in people)
        section.lines.append(
            f"You supervise {len(people)} {'person' if len(people) == 1 else 'people'}: {names}."
        )
    else:
        section.lines.append("No one is linked to you as a supervisee yet.")
    return section


def _manager(user: User) -> Section | None:
    team_ids = user.team_ids(Role.MANAGER)
    if not team_ids:
        return None
    version = current_version(structure=True)
    words = version.settings.words if version is not None else Words()
    section = Section("Your teams")
    for team in db.session.scalars(select(Team).where(Team.id.in_(team_ids)).order_by(Team.name)):
        if version is None:
            line = f"{team.name}: {words.count(len(accounts.team_members(team)))}"
        else:
            # the coverage page's own headline: elements and the core values counted apart
            cov = coverage_for_team(team, version)
            line = f"{team.name}: {words.count(len(cov.members))}; {cov.headline}"
            section.links.append(
                (f"{team.name} coverage", url_for("coverage.team_coverage", slug=team.slug))
            )
        section.lines.append(line + ".")
    return section


def _supervision_due(user: User) -> Section | None:
    """Supervisors: their supervisees' overdue self-assessments, waiting validations and
    upcoming sessions."""
    version = current_version(structure=True)
    if version is None:
        return None
    return supervision.supervisor_block(user, version, utcnow())


def _team_supervision(user: User) -> Section | None:
    """Managers: the teams' overdue self-assessments, validations waiting and expiring."""
    version = current_version(structure=True)
    if version is None:
        return None
    return supervision.manager_block(user, version, utcnow())


def _admin(user: User) -> Section | None:
    if Role.ADMIN not in user.role_set:
        return None
    since = utcnow() - timedelta(hours=24)
    failures = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "sign_in_failed",
            AuditEvent.at >= since,
            scope.audit_events(user),
        )
    )
    section = Section("Administration")
    section.lines.append(f"{scope.count_people(user)} people have accounts.")
    attempts = "attempt" if failures == 1 else "attempts"
    section.lines.append(f"{failures} failed sign-in {attempts} in the last 24 hours.")
    section.links += [
        ("Manage people", url_for("admin.people")),
        ("Manage teams", url_for("admin.teams")),
        ("Read the audit log", url_for("admin.audit")),
    ]
    return section


def _installation(user: User) -> Section | None:
    if not scope.is_installation_admin(user):
        return None
    overview = organisations.overview()
    count = sum(len(rows) for _, rows in overview)
    without_admin = [
        r.organisation.name for _, rows in overview for r in rows if not r.administrators
    ]
    section = Section("Installation")
    section.lines.append(
        f"{len(overview)} {'collaborative' if len(overview) == 1 else 'collaboratives'}, "
        f"{count} {'organisation' if count == 1 else 'organisations'}."
    )
    if without_admin:
        section.lines.append(f"Without an administrator: {', '.join(without_admin)}.")
    section.links += [
        ("Collaboratives and organisations", url_for("installation.index")),
        ("Create a collaborative", url_for("installation.new_collaborative")),
    ]
    return section


def _notifications(user: User) -> Section | None:
    """The latest notifications, the same ones that are emailed."""
    recent = notifications.recent_for(user)
    if not recent:
        return None
    unread = notifications.unread_count(user)
    section = Section("Notifications")
    section.lines.append(f"{unread} new." if unread else "Nothing new.")
    section.links += [(notifications.title_of(n), n.link) for n in recent]
    section.links.append(("All your notifications", url_for("notifications.index")))
    return section


SECTION_BUILDERS: list[Callable[[User], Section | None]] = [
    _notifications,
    _practitioner,
    training_home.keyworker_section,
    _supervisor,
    _supervision_due,
    _manager,
    _team_supervision,
    training_home.manager_section,
    training_home.hr_section,
    _admin,
    admin_home.admin_pages,
    privacy_home.home_section,
    regional_home.regional_section,
    _installation,
    *recruitment_home.BLOCKS,
]


def home_sections(user: User) -> list[Section]:
    return [s for s in (build(user) for build in SECTION_BUILDERS) if s is not None]
