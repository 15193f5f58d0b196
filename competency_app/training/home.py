"""The home page's training sections, as plain data (`ui/home.py` turns them into its
sections: a feature never imports `ui`)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, Team, User
from competency_app.common.dates import uk_date
from competency_app.common.home import HomeSection
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training import required
from competency_app.training.services import LATE, person_assignments, team_assignments


def _modules(count: int) -> str:
    return f"{count} {'module' if count == 1 else 'modules'}"


def keyworker_section(user: User) -> HomeSection | None:
    """A keyworker's required training that needs doing and the modules assigned to them."""
    if Role.PRACTITIONER not in user.role_set:
        return None
    version = current_version(structure=True)
    if version is None:
        return None
    section = HomeSection("Your training")
    standings = required.person_standings(user, version)
    for standing in standings:
        title = standing.module.title
        if standing.status == required.OVERDUE:
            assert standing.expires_on is not None  # overdue means a refresh date passed
            section.lines.append(
                f"Required training overdue: {title} "
                f"(its refresh was due {uk_date(standing.expires_on)})."
            )
        elif standing.status == required.DUE:
            section.lines.append(f"Required training to complete: {title}.")
        elif standing.status == required.EXPIRING:
            assert standing.expires_on is not None
            section.lines.append(
                f"Required training expiring: {title} (repeat by {uk_date(standing.expires_on)})."
            )
    if standings and all(s.status == required.IN_DATE for s in standings):
        section.lines.append("Your required training is in date.")
    modules = {m.key: m.title for m in version.modules}
    open_items = [p for p in person_assignments(user) if not p.done]
    for item in open_items:
        a = item.assignment
        title = modules.get(a.module_key, a.module_key)
        state = "overdue since" if item.status == LATE else "due by"
        section.lines.append(f"Assigned to you: {title}, {state} {uk_date(a.due_on)}.")
    if not standings and not open_items:
        return None
    section.links.append(
        ("Your assigned and required training", url_for("coverage.development", user_id=user.id))
    )
    return section


def manager_section(user: User) -> HomeSection | None:
    """For each team the person manages: required training overdue and expiring, and the
    assigned modules' progress, with a link to the compliance view."""
    team_ids = user.team_ids(Role.MANAGER)
    if not team_ids:
        return None
    version = current_version(structure=True)
    if version is None or not required.required_modules(version):
        return None
    section = HomeSection("Your teams' required training")
    teams = db.session.scalars(select(Team).where(Team.id.in_(team_ids)).order_by(Team.name))
    for team in teams:
        people = required.team_keyworkers(team)
        compliance = required.compliance_for(people, version)
        overdue = compliance.count(required.OVERDUE)
        never = compliance.count(required.DUE)
        expiring = compliance.count(required.EXPIRING)
        progress = team_assignments(people)
        late = sum(1 for p in progress if p.status == LATE)
        section.lines.append(
            f"{team.name}: {compliance.percent}% compliant; {overdue} overdue, "
            f"{never} never done, {expiring} expiring; {_modules(len(progress))} assigned "
            f"({sum(1 for p in progress if p.done)} completed, {late} overdue)."
        )
        section.links.append(
            (
                f"{team.name} required training",
                url_for("training.team_compliance", slug=team.slug),
            )
        )
    return section


def hr_section(user: User) -> HomeSection | None:
    """For HR: the organisation's required-training figure (each keyworker once), with a
    link to the organisation's compliance view."""
    if Role.HR not in user.role_set:
        return None
    version = current_version(structure=True)
    if version is None or not required.required_modules(version):
        return None
    keyworkers = required.organisation_keyworkers(organisation_id=scope.employer_id(user, Role.HR))
    overall = required.compliance_for(keyworkers, version)
    section = HomeSection("Required training across the organisation")
    if not overall.people:
        section.lines.append(f"No {version.settings.words.practitioners} yet.")
    else:
        section.lines.append(
            f"{overall.percent}% compliant ({overall.compliant} of {overall.required}); "
            f"{overall.count(required.OVERDUE)} overdue, {overall.count(required.DUE)} never "
            f"done, {overall.count(required.EXPIRING)} expiring; "
            f"{overall.fully_compliant} of {len(overall.people)} "
            f"{version.settings.words.practitioners} in date on all of it."
        )
    section.links.append(
        ("Required training across the organisation", url_for("training.organisation_compliance"))
    )
    return section
