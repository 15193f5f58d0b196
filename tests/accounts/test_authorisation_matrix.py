"""Every route × method × role against one table of expected outcomes.

A route missing from EXPECTED fails the test, so a new page cannot ship without a rule.
"Allowed" means the request reached the view (any answer but 403 or the sign-in redirect);
POSTs carry a valid CSRF token and a form that would write if it got through, so a 403 is
the access rule's refusal (not CSRF's) and a refused write is checked to have changed nothing;
an allowed POST need not succeed (a 400 for a form that does not validate still reached the
view).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import session as flask_session
from flask import url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from competency_app.accounts.models import Role
from competency_app.accounts.permissions import PUBLIC
from competency_app.api.tokens import create_token
from competency_app.assessments.models import Assessment
from competency_app.assessments.services import start_assessment
from competency_app.extensions import db
from competency_app.jobs.services import request_job
from competency_app.recruitment.services import (
    add_candidate,
    create_vacancy,
    invite_panel_member,
    save_shortlist,
    shortlist_criteria,
)
from competency_app.supervision.models import SupervisionSession
from competency_app.supervision.services import schedule_sessions
from competency_app.training.services import assign_module
from tests.factories import PASSWORD, commit, make_team, make_user

ROLES = [
    "anonymous",
    "practitioner",
    "supervisor",
    "manager",
    "recruiter",
    "hr",
    "admin",
    "panel_member",  # a lay member invited onto the north vacancy's interview panel
    "regional_lead",  # sees the collaborative's figures: no organisation's pages
    "installation_admin",  # creates organisations, reads every audit log: no one's people
]
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
ADMIN = {"admin"}
HR_ADMIN = {"hr", "admin"}
PRACTITIONER = {"practitioner"}
INSTALLATION = {"installation_admin"}
SUPERVISOR = {"supervisor"}
CAN_SEE_PERSON = {"practitioner", "supervisor", "manager", "hr", "admin"}
# the roles that may hold API tokens
TOKEN_ROLES = ["manager", "hr", "admin", "regional_lead"]
REGIONAL = {"regional_lead"}

# (endpoint, method, object) -> roles allowed. "object" names which sample the URL uses:
# "own" objects belong to the requester's team / themselves, "other" to another team.
EXPECTED: dict[tuple[str, str, str], set[str]] = {
    ("auth.login", "GET", "-"): EVERYONE,
    ("auth.login", "POST", "-"): EVERYONE,
    ("auth.sso_start", "GET", "-"): EVERYONE,
    ("auth.sso_start", "POST", "-"): EVERYONE,
    ("auth.sso_callback", "GET", "-"): EVERYONE,
    ("auth.logout", "POST", "-"): SIGNED_IN,
    ("auth.change_password", "GET", "-"): SIGNED_IN,
    ("auth.change_password", "POST", "-"): SIGNED_IN,
    ("auth.set_password", "GET", "-"): EVERYONE,
    ("auth.set_password", "POST", "-"): EVERYONE,
    ("ui.home", "GET", "-"): SIGNED_IN,
    ("ui.assets", "GET", "-"): EVERYONE,
    ("health.healthz", "GET", "-"): EVERYONE,
    ("health.live", "GET", "-"): EVERYONE,
    ("framework.overview", "GET", "-"): SIGNED_IN,
    ("framework.values", "GET", "-"): SIGNED_IN,
    ("framework.element", "GET", "-"): SIGNED_IN,
    ("framework.elearning", "GET", "-"): SIGNED_IN,
    ("framework.person_specification", "GET", "-"): SIGNED_IN,
    ("framework.versions", "GET", "-"): SIGNED_IN,
    ("framework.compare", "GET", "-"): SIGNED_IN,
    ("admin.index", "GET", "-"): ADMIN,
    ("admin.teams", "GET", "-"): ADMIN,
    ("admin.teams", "POST", "-"): ADMIN,
    ("admin.people", "GET", "-"): ADMIN,
    ("admin.new_person", "GET", "-"): ADMIN,
    ("admin.new_person", "POST", "-"): ADMIN,
    ("admin.person", "GET", "-"): ADMIN,
    ("admin.person", "POST", "-"): ADMIN,
    ("admin.reset_password", "GET", "-"): ADMIN,
    ("admin.reset_password", "POST", "-"): ADMIN,
    ("admin.remove_sign_in_link", "GET", "-"): ADMIN,
    ("admin.remove_sign_in_link", "POST", "-"): ADMIN,
    ("admin.audit", "GET", "-"): ADMIN | {"installation_admin"},
    ("installation.index", "GET", "-"): INSTALLATION,
    ("installation.new_collaborative", "GET", "-"): INSTALLATION,
    ("installation.new_collaborative", "POST", "-"): INSTALLATION,
    ("installation.new_organisation", "GET", "-"): INSTALLATION,
    ("installation.new_organisation", "POST", "-"): INSTALLATION,
    ("installation.edit_organisation", "GET", "-"): INSTALLATION,
    ("installation.edit_organisation", "POST", "-"): INSTALLATION,
    ("installation.first_admin", "GET", "-"): INSTALLATION,
    ("installation.first_admin", "POST", "-"): INSTALLATION,
    ("assessments.my_assessments", "GET", "-"): PRACTITIONER,
    ("assessments.start", "POST", "-"): PRACTITIONER,
    ("assessments.queue", "GET", "-"): SUPERVISOR,
    ("coverage.my_plan", "GET", "-"): SIGNED_IN,
    ("exports.index", "GET", "-"): HR_ADMIN,
    ("exports.organisation_workbook", "GET", "-"): HR_ADMIN,
    ("exports.organisation_workbook_job", "POST", "-"): HR_ADMIN,
    ("exports.team_workbook_job", "POST", "own"): {"manager", "hr", "admin"},
    ("exports.team_workbook_job", "POST", "other"): HR_ADMIN,
    ("jobs.mine", "GET", "-"): SIGNED_IN,
    # a job's page and file: only the people who asked for it ("own": all of them asked)
    ("jobs.progress", "GET", "own"): SIGNED_IN,
    ("jobs.progress", "GET", "other"): set(),
    ("jobs.download", "GET", "own"): SIGNED_IN,
    ("jobs.download", "GET", "other"): set(),
    # try a failed job again: its requesters who may still ask for its kind (the
    # organisation workbook: HR and admins)
    ("jobs.try_again", "POST", "own"): HR_ADMIN,
    ("jobs.try_again", "POST", "other"): set(),
    ("notifications.index", "GET", "-"): SIGNED_IN,
    ("notifications.mark_read", "POST", "-"): SIGNED_IN,
    ("notifications.settings", "GET", "-"): SIGNED_IN,
    ("notifications.settings", "POST", "-"): SIGNED_IN,
    ("imports.upload", "GET", "-"): HR_ADMIN,
    ("imports.preview", "POST", "-"): HR_ADMIN,
    ("imports.apply", "POST", "-"): HR_ADMIN,
    ("imports.links_csv", "POST", "-"): HR_ADMIN,
    ("imports.roster", "GET", "-"): HR_ADMIN,
    ("exports.team_workbook", "GET", "own"): {"manager", "hr", "admin"},
    ("exports.team_workbook", "GET", "other"): HR_ADMIN,
    ("recruitment.index", "GET", "-"): SIGNED_IN - {"admin", "regional_lead", "installation_admin"},
    ("recruitment.new_vacancy", "GET", "-"): {"recruiter"},
    ("recruitment.new_vacancy", "POST", "-"): {"recruiter"},
    # the JSON API: lists are filtered to what the caller may see (tests/api/)
    ("api.teams", "GET", "-"): SIGNED_IN,
    ("api.vacancies", "GET", "-"): SIGNED_IN,
    ("api.openapi", "GET", "-"): SIGNED_IN,
    ("api_pages.docs", "GET", "-"): SIGNED_IN,
    ("api_pages.tokens", "GET", "-"): {"manager", "hr", "admin", "regional_lead"},
    ("api_pages.tokens", "POST", "-"): {"manager", "hr", "admin", "regional_lead"},
    # the regional view: figures of the lead's collaborative, for its regional lead only
    ("regional.index", "GET", "-"): REGIONAL,
    ("regional.skill", "GET", "-"): REGIONAL,
    ("regional.forecast", "GET", "-"): REGIONAL,
    ("regional.workbook_job", "POST", "-"): REGIONAL,
    ("api.regional", "GET", "-"): REGIONAL,
}
# API tokens: "own" is the manager's token, "other" the south manager's: only the owner
# revokes a token.
for method in ("GET", "POST"):
    EXPECTED[("api_pages.revoke", method, "own")] = {"manager"}
    EXPECTED[("api_pages.revoke", method, "other")] = set()
# Recruitment: "own" is the north vacancy, whose shortlisters and interviewers are the
# supervisor and the manager (the manager chairs) with a lay panel member interviewing;
# "other" is a south vacancy. Candidate data is for the vacancy's panels, the team's
# recruiters and HR: never admins by role. The lay member sees the vacancy's page (its
# candidates going to interview) and their own scoring pages, nothing else.
VACANCY_VIEWERS = {"supervisor", "manager", "recruiter", "hr"}
MANAGES = {"recruiter", "hr"}
for endpoint, methods, own in [
    ("recruitment.vacancy", ["GET"], VACANCY_VIEWERS | {"panel_member"}),
    ("recruitment.ranking", ["GET"], VACANCY_VIEWERS),
    ("recruitment.add_candidate", ["POST"], MANAGES),
    ("recruitment.import_candidates", ["POST"], MANAGES),
    ("recruitment.workbook", ["GET"], MANAGES),
    ("recruitment.shortlist", ["GET", "POST"], {"supervisor", "manager"}),
    ("recruitment.interview", ["GET", "POST"], {"supervisor", "manager", "panel_member"}),
    ("recruitment.agree", ["POST"], {"manager"}),
    ("recruitment.task", ["GET", "POST"], {"manager"}),
    ("recruitment.moderate", ["GET", "POST"], MANAGES | {"manager"}),
    ("recruitment.stage", ["POST"], MANAGES | {"manager"}),
    ("recruitment.slot", ["GET", "POST"], MANAGES),
    ("recruitment.invite", ["POST"], MANAGES),
    ("recruitment.offer", ["POST"], MANAGES),
    ("recruitment.appoint", ["GET", "POST"], MANAGES),
    # the conditional offer's pre-employment checks: HR and the team's recruiters only
    ("offers.conditional_offer", ["GET"], MANAGES),
    ("offers.record_check", ["POST"], MANAGES),
    # a copy of a candidate's data (their subject access request): HR alone, the controller
    # of the application; not the recruiters, the panel, nor administrators by role
    ("candidate_data.page", ["GET"], {"hr"}),
    ("candidate_data.start", ["POST"], {"hr"}),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = own
        EXPECTED[(endpoint, method, "other")] = {"hr"} if own & {"hr"} else set()
# Team pages: "own" is the team of the supervisor and manager, "other" another team.
for endpoint in [
    "coverage.team_coverage",
    "coverage.element_detail",
    "coverage.training_plan",
    "coverage.coverage_chart",
    "api.coverage_api",
    "api.members",
    "api.gaps",
    "api.training_compliance",
]:
    EXPECTED[(endpoint, "GET", "own")] = {"supervisor", "manager", "hr", "admin"}
    EXPECTED[(endpoint, "GET", "other")] = {"hr", "admin"}
# Required training: a team's compliance for those who see the team; the organisation's
# for HR. Assigning and cancelling training: the team's managers.
EXPECTED[("training.team_compliance", "GET", "own")] = {"supervisor", "manager", "hr", "admin"}
EXPECTED[("training.team_compliance", "GET", "other")] = {"hr", "admin"}
EXPECTED[("training.organisation_compliance", "GET", "-")] = HR_ADMIN
# An organisation's local courses: its HR and administrators list and add them.
EXPECTED[("training.local_course_list", "GET", "-")] = HR_ADMIN
EXPECTED[("training.local_course_list", "POST", "-")] = HR_ADMIN
for endpoint in ["training.assign", "training.cancel_assignment"]:
    for method in ["GET", "POST"]:
        EXPECTED[(endpoint, method, "own")] = {"manager"}
        EXPECTED[(endpoint, method, "other")] = set()
EXPECTED[("coverage.development", "GET", "own")] = CAN_SEE_PERSON
EXPECTED[("coverage.development", "GET", "other")] = {"hr", "admin"}
# only the person records their own completions: others get 403 inside the view
EXPECTED[("coverage.development", "POST", "own")] = PRACTITIONER
EXPECTED[("coverage.development", "POST", "other")] = set()
# Routes about one person's assessment or profile: "own" is the practitioner's (supervised
# by the supervisor, in the manager's team); "other" is someone in another team.
for endpoint, method in [
    ("assessments.overview", "GET"),
    ("assessments.summary", "GET"),
    ("assessments.assessment_history", "GET"),
    ("assessments.profile", "GET"),
    ("assessments.profile_chart", "GET"),
    # the reflections on the core values: read by whoever may see the person
    ("assessments.reflect_on_values", "GET"),
]:
    EXPECTED[(endpoint, method, "own")] = CAN_SEE_PERSON
    EXPECTED[(endpoint, method, "other")] = {"hr", "admin"}
for endpoint, methods in [
    ("assessments.rate_element", ["GET", "POST"]),
    ("assessments.save_reflections", ["POST"]),
    ("assessments.submit", ["POST"]),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = PRACTITIONER
        EXPECTED[(endpoint, method, "other")] = set()
for endpoint, methods in [
    ("assessments.validate", ["GET"]),
    ("assessments.sign_off", ["POST"]),
    ("assessments.validate_element", ["GET", "POST"]),
    ("assessments.review_values", ["GET", "POST"]),
    ("assessments.return_to_practitioner", ["POST"]),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = SUPERVISOR
        EXPECTED[(endpoint, method, "other")] = set()

# Supervision: "own" is the practitioner's session (supervised by the supervisor, in the
# manager's team); "other" a session of someone in another team.
EXPECTED[("supervision.overview", "GET", "-")] = {"supervisor", "manager"}
# a peer or group session, booked once for several supervisees (one record each)
EXPECTED[("supervision.new_group", "GET", "-")] = {"supervisor", "manager"}
EXPECTED[("supervision.new_group", "POST", "-")] = {"supervisor", "manager"}
EXPECTED[("supervision.person_sessions", "GET", "own")] = CAN_SEE_PERSON
EXPECTED[("supervision.person_sessions", "GET", "other")] = HR_ADMIN
EXPECTED[("supervision.record", "GET", "own")] = CAN_SEE_PERSON
EXPECTED[("supervision.record", "GET", "other")] = HR_ADMIN
EXPECTED[("supervision.record_pdf", "GET", "own")] = CAN_SEE_PERSON
EXPECTED[("supervision.record_pdf", "GET", "other")] = HR_ADMIN
for endpoint, methods in [
    ("supervision.schedule", ["GET", "POST"]),
    ("supervision.reschedule", ["GET", "POST"]),
    ("supervision.actions", ["POST"]),
    ("supervision.assign", ["POST"]),
    ("supervision.cancel", ["GET", "POST"]),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = {"supervisor", "manager"}
        EXPECTED[(endpoint, method, "other")] = set()

# A copy of a person's data: the person, and HR and administrators of their employer.
EXPECTED[("privacy.mine", "GET", "-")] = SIGNED_IN
EXPECTED[("privacy.request_mine", "POST", "-")] = SIGNED_IN
for endpoint, method in [("privacy.person", "GET"), ("privacy.request_person", "POST")]:
    EXPECTED[(endpoint, method, "own")] = {"practitioner", "hr", "admin"}
    EXPECTED[(endpoint, method, "other")] = HR_ADMIN
# Erasing a person's record: HR and administrators of their employer, never their own.
for method in ("GET", "POST"):
    EXPECTED[("privacy.erase", method, "own")] = HR_ADMIN
    EXPECTED[("privacy.erase", method, "other")] = HR_ADMIN
EXPECTED[("privacy.notice", "GET", "-")] = EVERYONE
EXPECTED[("privacy.review", "GET", "-")] = HR_ADMIN
EXPECTED[("privacy.confirm", "POST", "-")] = HR_ADMIN

IGNORED_ENDPOINTS = {"static"}  # Flask's static files: public assets, no data


@pytest.fixture
def world(app, framework):
    """Two teams; one person per role in team A; a subject person for admin pages."""
    with app.app_context():
        north, south = make_team("north"), make_team("south")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        people = {
            "practitioner": make_user(
                "pat.prac", Role.PRACTITIONER, team=north, supervisor=supervisor
            ),
            "supervisor": supervisor,
            "manager": make_user("max.manager", Role.MANAGER, team=north),
            "recruiter": make_user("rae.recruit", Role.RECRUITER, team=north),
            "hr": make_user("hana.hr", Role.HR),
            "admin": make_user("ada.admin", Role.ADMIN),
            "regional_lead": make_user("rex.regional", Role.REGIONAL_LEAD),
            "installation_admin": make_user("ivy.install", Role.INSTALLATION_ADMIN),
        }
        subject = make_user("sol.subject", Role.PRACTITIONER, team=south)
        own = start_assessment(people["practitioner"])
        other = start_assessment(subject)
        south_sup = make_user("sam.south", Role.SUPERVISOR, team=south)
        south_rec = make_user("ria.south", Role.RECRUITER, team=south)
        closing = date.today() + timedelta(days=30)
        north_vacancy = create_vacancy(
            north,
            "Keyworker",
            closing,
            [supervisor, people["manager"]],
            [supervisor, people["manager"]],
            people["manager"],
            people["recruiter"],
        )
        south_vacancy = create_vacancy(
            south,
            "Keyworker",
            closing,
            [south_sup, south_rec],
            [south_sup, south_rec],
            south_sup,
            south_rec,
        )
        own_session = schedule_sessions(
            people["practitioner"], supervisor, date.today() + timedelta(days=10), time(10, 0)
        )[0]
        other_session = SupervisionSession(
            supervisee_id=subject.id,
            supervisor_id=south_sup.id,
            starts_at=datetime.now(UTC) + timedelta(days=10),
            created_at=datetime.now(UTC),
            created_by_id=south_sup.id,
        )
        db.session.add(other_session)
        db.session.flush()
        version = own.framework_version
        due = date.today() + timedelta(days=30)
        own_assignment = assign_module(
            people["practitioner"], version.modules[0].key, due, people["manager"], version
        )
        other_assignment = assign_module(subject, version.modules[0].key, due, south_sup, version)
        north_candidate = add_candidate(north_vacancy, "Cara Candidate", "", None)
        south_candidate = add_candidate(south_vacancy, "Sid Candidate", "", None)
        south_manager = make_user("sam.manager", Role.MANAGER, team=south)
        tokens = {
            role: create_token(people[role], f"{role} token", 30).secret for role in TOKEN_ROLES
        }
        own_token = create_token(people["manager"], "to revoke", 30).token
        other_token = create_token(south_manager, "south", 30).token
        # the north candidate goes to interview; a lay member joins its interview panel
        marks = {
            c.key: (True, None) if c.requirement == "essential" else (None, 3)
            for c in shortlist_criteria(north_vacancy)
        }
        for shortlister in (supervisor, people["manager"]):
            save_shortlist(north_candidate, shortlister, marks)
        people["panel_member"], _token = invite_panel_member(
            north_vacancy, "Lee Lay", "lee.lay@example.org", people["recruiter"]
        )
        own_params = {"organisation": north.organisation_id, "probe": "own"}
        own_job, _ = request_job("organisation_workbook", own_params, people["hr"])
        for person in people.values():
            request_job("organisation_workbook", own_params, person)
        other_params = {"organisation": north.organisation_id, "probe": "other"}
        other_job, _ = request_job("organisation_workbook", other_params, subject)
        for job in (own_job, other_job):  # failed, so that "try again" applies to them
            job.state, job.active_key, job.error = "failed", None, "The worker stopped."
        commit()
        samples = {
            "-": {
                "user_id": subject.id,
                "key": "1a",
                "slug": north.slug,
                "filename": "images/favicon.svg",
                "token": "not-a-real-token",
                "skill_key": "1a.s1",
                "collaborative": north.organisation.collaborative.slug,
                "organisation": north.organisation.slug,
            },
            "own": {
                "assessment_id": own.id,
                "user_id": people["practitioner"].id,
                "key": "1a",
                "fmt": "svg",
                "slug": north.slug,
                "vacancy_id": north_vacancy.id,
                "candidate_id": north_candidate.id,
                "check_key": "dbs-enhanced",
                "session_id": own_session.id,
                "token_id": own_token.id,
                "assignment_id": own_assignment.id,
                "job_id": own_job.id,
            },
            "other": {
                "assessment_id": other.id,
                "user_id": subject.id,
                "key": "1a",
                "fmt": "svg",
                "slug": south.slug,
                "vacancy_id": south_vacancy.id,
                "candidate_id": south_candidate.id,
                "check_key": "dbs-enhanced",
                "session_id": other_session.id,
                "token_id": other_token.id,
                "assignment_id": other_assignment.id,
                "job_id": other_job.id,
            },
        }
        ids = {role: user.id for role, user in people.items()}
        probes = {
            "own": {"assessment_id": own.id},
            "other": {"assessment_id": other.id},
            "skill_id": version_first_skill(version),
            "value_id": version.values[0].id,
            "module_key": version.modules[0].key,
            "team_id": north.id,
            "tokens": tokens,
            "practitioner_id": people["practitioner"].id,
        }
        return ids, samples, probes


def version_first_skill(version) -> int:
    from competency_app.assessments.services import elements_of

    return elements_of(version)[0].skills[0].id


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_an_access_rule(app):
    missing = [
        rule.endpoint
        for rule, _method in _routes(app)
        if not hasattr(app.view_functions[rule.endpoint], "access_rule")
    ]
    assert missing == []


def test_every_route_is_in_the_table(app):
    in_app = {(rule.endpoint, method) for rule, method in _routes(app)}
    in_table = {(endpoint, method) for endpoint, method, _ in EXPECTED}
    assert in_app - in_table == set(), "routes without an expected outcome"
    assert in_table - in_app == set(), "table rows for routes that no longer exist"


def test_public_routes_are_only_the_expected_ones(app):
    public = {
        rule.endpoint
        for rule, _ in _routes(app)
        if app.view_functions[rule.endpoint].access_rule is PUBLIC
    }
    assert public == {
        "auth.login",
        "auth.sso_start",
        "auth.sso_callback",
        "auth.set_password",
        "ui.assets",
        "health.healthz",
        "health.live",
        "privacy.notice",
    }


def _session_ids(app, ids) -> dict[str, str]:
    from competency_app.accounts.models import User

    with app.app_context():
        return {role: db.session.get(User, user_id).get_id() for role, user_id in ids.items()}


def _fingerprint() -> tuple:
    """Every row of every table, in key order: a denied request must leave it identical."""
    parts = []
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        parts.append((table.name, hashlib.sha256(repr(rows).encode()).hexdigest()))
    return tuple(parts)


def _probe_form(endpoint: str, variant: str, probes: dict) -> dict:
    """A form that would write if the request got through (an allowed one may still fail)."""
    version = None
    if endpoint.startswith("assessments.") and variant in ("own", "other"):
        with db.session.no_autoflush:
            version = db.session.get(Assessment, probes[variant]["assessment_id"]).row_version
    skill, value = probes["skill_id"], probes["value_id"]
    future = (date.today() + timedelta(days=40)).isoformat()
    forms = {
        "admin.teams": {"slug": "probe-team", "name": "Probe team"},
        "admin.new_person": {
            "email": "probe.person@example.nhs.uk",
            "name": "Probe Person",
            "roles": "admin",
        },
        "admin.person": {"roles": "admin", "active": "y"},
        "installation.new_collaborative": {"name": "Probe region", "slug": "probe-region"},
        "installation.new_organisation": {"name": "Probe Trust", "slug": "probe-trust"},
        "installation.edit_organisation": {"name": "Probe rename", "domains": "probe.org"},
        "installation.first_admin": {"name": "Probe Admin", "email": "probe.admin@example.org"},
        "recruitment.add_candidate": {"name": "Probe Candidate"},
        "recruitment.interview": {"action": "save"},
        "recruitment.invite": {"invite_name": "Probe Person", "invite_email": "probe@example.org"},
        "recruitment.slot": {
            "slot_date": (date.today() + timedelta(days=40)).isoformat(),
            "slot_time": "10:00",
            "place": "Probe room",
        },
        # deciding waits for agreed scores: an allowed request is refused, not a move
        "recruitment.stage": {"to": "decided"},
        "recruitment.appoint": {"email": "probe.starter@example.nhs.uk"},
        "offers.record_check": {"outcome": "satisfactory", "checked_on": date.today().isoformat()},
        "recruitment.new_vacancy": {"title": "Probe", "team": str(probes["team_id"])},
        "assessments.rate_element": {"row_version": version, f"level-{skill}": "1"},
        "assessments.save_reflections": {"row_version": version, f"value-{value}": "probe"},
        "assessments.submit": {"row_version": version},
        "assessments.sign_off": {"row_version": version},
        "assessments.validate_element": {"row_version": version, f"level-{skill}": "agree"},
        "assessments.review_values": {"row_version": version, f"outcome-{value}": "evidenced"},
        "assessments.return_to_practitioner": {"row_version": version, "return_comment": "probe"},
        "api_pages.tokens": {"name": "Probe token", "days": "30"},
        "privacy.confirm": {
            "people": str(probes["practitioner_id"]),
            "reason": "probe",
            "confirm": "yes",
        },
        "notifications.settings": {"kinds": "assessment_submitted"},
        "coverage.development": {
            "module": probes["module_key"],
            "completed_on": (date.today() - timedelta(days=1)).isoformat(),
        },
        "supervision.schedule": {"day": future, "time": "10:00"},
        "supervision.reschedule": {"day": future, "time": "11:00"},
        "supervision.actions": {"agreed_actions": "probe", "prompt-workload": "probe"},
        "supervision.new_group": {
            "kind": "group",
            "people": [str(probes["practitioner_id"])],
            "day": future,
            "time": "10:00",
        },
        "supervision.assign": {"module": probes["module_key"], "due_on": future},
        "training.local_course_list": {
            "title": "Probe course",
            "description": "Probe",
            "develops": "1a",
        },
        "training.assign": {
            "person": probes["practitioner_id"],
            "module": probes["module_key"],
            "due_on": (date.today() + timedelta(days=30)).isoformat(),
        },
        "auth.change_password": {
            "current_password": PASSWORD,
            "new_password": "probe passphrase 2026",
            "confirm_password": "probe passphrase 2026",
        },
    }
    return {k: str(v) for k, v in forms.get(endpoint, {}).items()}


def test_authorisation_matrix(app, world, capsys):
    """Every cell with CSRF on and a valid token, so a refusal is the access rule's own."""
    ids, samples, probes = world
    assert app.config["WTF_CSRF_ENABLED"]
    with app.test_request_context():
        token = generate_csrf()  # signed form token; its raw half goes in each session
        raw_token = flask_session["csrf_token"]
    checked = unexpected_allows = unexpected_denies = denied_writes = 0
    methods = {"GET": 0, "POST": 0}
    problems = []
    known = None  # the data's fingerprint, kept while only refused requests run
    for (endpoint, method, variant), allowed_roles in EXPECTED.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        args = {name: samples[variant][name] for name in rule.arguments}
        with app.test_request_context():
            url = url_for(endpoint, **args)
        # a sign-out in an earlier cell bumps that person's session version
        session_ids = _session_ids(app, ids)
        for role in ROLES:
            # each request runs in its own app context (no current_user left over)
            client = app.test_client()
            with client.session_transaction() as session:
                session["csrf_token"] = raw_token
                if role != "anonymous":
                    session["_user_id"] = session_ids[role]
                    session["_fresh"] = True
            data = None
            if method == "POST":
                with app.app_context():
                    known = known or _fingerprint()
                    data = {"csrf_token": token, **_probe_form(endpoint, variant, probes)}
            response = client.open(url, method=method, data=data)
            response.close()  # file responses (assets) hold an open file until closed
            status, location = response.status_code, response.headers.get("Location", "")
            if method == "POST":
                assert status != 400 or b"form has expired" not in response.data, (
                    f"{role} {method} {url}: the CSRF token was refused, not the person"
                )
            # the access rule sends strangers to sign in with a next= link (the API: 401)
            denied = status in (401, 403) or "/login?next=" in location
            if endpoint == "auth.login" and role != "anonymous":
                denied = False  # signed-in people are sent home: not a denial
            expected = role in allowed_roles
            checked += 1
            methods[method] += 1
            outcome = f"{role} {method} {url} -> {status} {location}"
            if expected and denied:
                unexpected_denies += 1
                problems.append(f"DENIED {outcome}")
            elif not expected and not denied:
                unexpected_allows += 1
                problems.append(f"ALLOWED {outcome}")
            if not denied:
                known = None  # an allowed request may write (even a GET: exports are audited)
            elif method == "POST":
                denied_writes += 1
                with app.app_context():
                    if _fingerprint() != known:
                        problems.append(f"CHANGED DATA {outcome}")
    with capsys.disabled():
        print(
            f"\nauthorisation matrix: {checked} cells checked ({methods['GET']} GET, "
            f"{methods['POST']} POST), {unexpected_allows} unexpected allows, "
            f"{unexpected_denies} unexpected denies, {denied_writes} refused POSTs changed "
            "nothing"
        )
    assert problems == []
    assert checked == len(EXPECTED) * len(ROLES)
    assert methods["POST"] >= 30 * len(ROLES)  # writes are probed, not only pages


def _timeless(answer):
    """The answer without the moment it was computed at (two requests, two moments)."""
    return {k: v for k, v in answer.items() if k != "as_at"} if isinstance(answer, dict) else answer


def test_api_token_matrix(app, world, capsys):
    """Every API route × every role that may hold a token, sent as a bearer token: the same
    outcome as that role's session (EXPECTED) and, when allowed, the same answer."""
    ids, samples, probes = world
    session_ids = _session_ids(app, ids)
    api_rows = [(key, roles) for key, roles in EXPECTED.items() if key[0].startswith("api.")]
    assert {key[0] for key, _ in api_rows} >= {
        "api.teams",
        "api.coverage_api",
        "api.members",
        "api.training_compliance",
    }
    checked = 0
    problems = []
    for (endpoint, method, variant), allowed_roles in api_rows:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        args = {name: samples[variant][name] for name in rule.arguments}
        with app.test_request_context():
            url = url_for(endpoint, **args)
        for role in TOKEN_ROLES:
            bearer = app.test_client().open(
                url,
                method=method,
                headers={"Authorization": f"Bearer {probes['tokens'][role]}"},
            )
            session_client = app.test_client()
            with session_client.session_transaction() as session:
                session["_user_id"] = session_ids[role]
                session["_fresh"] = True
            by_session = session_client.open(url, method=method)
            checked += 1
            denied = bearer.status_code in (401, 403)
            outcome = f"{role} token {method} {url} -> {bearer.status_code}"
            if (role in allowed_roles) == denied:
                problems.append(("DENIED " if denied else "ALLOWED ") + outcome)
            if bearer.status_code != by_session.status_code or _timeless(bearer.json) != _timeless(
                by_session.json
            ):
                problems.append(f"DIFFERS FROM THE SESSION {outcome}")
            assert "Set-Cookie" not in bearer.headers, "a token request must not start a session"
    with capsys.disabled():
        print(f"\nAPI token matrix: {checked} cells checked, {len(problems)} problems")
    assert problems == []
    # a token is refused on the pages: it is for the API only
    page = app.test_client().get(
        "/teams/north/coverage", headers={"Authorization": f"Bearer {probes['tokens']['admin']}"}
    )
    assert page.status_code == 302 and "/login" in page.headers["Location"]
