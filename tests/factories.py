"""Small builders for people and teams, through the real services."""

from __future__ import annotations

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Collaborative, Organisation, Role, Team, User
from competency_app.extensions import db

PASSWORD = "correct horse battery"


def make_collaborative(slug: str = "region", name: str | None = None) -> Collaborative:
    collaborative = Collaborative(slug=slug, name=name or f"{slug.title()} collaborative")
    db.session.add(collaborative)
    db.session.flush()
    return collaborative


def make_organisation(
    slug: str, collaborative: Collaborative | None = None, domains: str = ""
) -> Organisation:
    """A further employer: in `collaborative`, else in the first organisation's."""
    if collaborative is None:
        collaborative = services.default_organisation().collaborative
    organisation = Organisation(
        collaborative=collaborative,
        slug=slug,
        name=slug.replace("-", " ").title(),
        email_domains=domains,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_team(
    slug: str = "north", name: str | None = None, organisation: Organisation | None = None
) -> Team:
    return services.create_team(
        slug, name or f"{slug.title()} team", actor=None, organisation=organisation
    )


def make_user(
    local: str,
    *roles: Role,
    team: Team | None = None,
    supervisor: User | None = None,
    password: str = PASSWORD,
    organisation: Organisation | None = None,
) -> User:
    grants = [services.RoleGrant(role, team if role.team_scoped else None) for role in roles]
    return services.create_user(
        f"{local}@example.nhs.uk",
        local.replace(".", " ").title(),
        password,
        grants,
        actor=None,
        supervisor=supervisor,
        organisation=organisation,
    )


def commit() -> None:
    db.session.commit()


def reflect_on_values(assessment, person) -> None:
    """A reflection on every core value (required before an assessment is submitted)."""
    from competency_app.assessments import services as assessments

    texts = {v.id: f"How I show {v.title.lower()}" for v in assessment.framework_version.values}
    assessments.save_reflections(assessment, person, texts, None)


def latest_audit(action: str):
    """The newest audit event of `action` (in an app context)."""
    from sqlalchemy import select

    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )


def validated_assessment(person, supervisor, level: int = 2):
    """A whole assessment of `person`, every skill at `level`, values reflected on,
    submitted and signed off by `supervisor` (in an app context)."""
    from competency_app.assessments import services as assessments

    assessment = assessments.start_assessment(person)
    for element in assessments.elements_of(assessment.framework_version):
        assessments.save_element(
            assessment, person, element, {s.id: (level, "") for s in element.skills}, None
        )
    reflect_on_values(assessment, person)
    assessments.submit(assessment, person, None)
    assessments.validate(assessment, supervisor, {}, None)
    return assessment


def clear_checks(candidate, actor) -> None:
    """Record every pre-employment check of `candidate`'s offer as satisfactory today, so
    they can be appointed (the checks are the ones their framework version lists)."""
    from competency_app.clock import today
    from competency_app.recruitment import checks

    for check in checks.checks_for(candidate.vacancy):
        checks.record_check(candidate, check.id, "satisfactory", today(), "", actor)
