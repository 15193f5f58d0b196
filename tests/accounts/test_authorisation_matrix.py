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
from datetime import date, timedelta

import pytest
from flask import session as flask_session
from flask import url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from competency_app.accounts.models import Role
from competency_app.accounts.permissions import PUBLIC
from competency_app.assessments.models import Assessment
from competency_app.assessments.services import start_assessment
from competency_app.extensions import db
from competency_app.jobs.services import request_job
from competency_app.recruitment.services import add_candidate, create_vacancy
from tests.factories import PASSWORD, commit, make_team, make_user

ROLES = ["anonymous", "practitioner", "supervisor", "manager", "recruiter", "hr", "admin"]
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
ADMIN = {"admin"}
HR_ADMIN = {"hr", "admin"}
PRACTITIONER = {"practitioner"}
SUPERVISOR = {"supervisor"}
CAN_SEE_PERSON = {"practitioner", "supervisor", "manager", "hr", "admin"}

# (endpoint, method, object) -> roles allowed. "object" names which sample the URL uses:
# "own" objects belong to the requester's team / themselves, "other" to another team.
EXPECTED: dict[tuple[str, str, str], set[str]] = {
    ("auth.login", "GET", "-"): EVERYONE,
    ("auth.login", "POST", "-"): EVERYONE,
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
    ("admin.audit", "GET", "-"): ADMIN,
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
    ("recruitment.index", "GET", "-"): SIGNED_IN - {"admin"},
    ("recruitment.new_vacancy", "GET", "-"): {"recruiter"},
    ("recruitment.new_vacancy", "POST", "-"): {"recruiter"},
}
# Recruitment: "own" is the north vacancy, whose shortlisters and interviewers are the
# supervisor and the manager (the manager chairs); "other" is a south vacancy. Candidate
# data is for the vacancy's panels, the team's recruiters and HR: never admins by role.
VACANCY_VIEWERS = {"supervisor", "manager", "recruiter", "hr"}
for endpoint, methods, own in [
    ("recruitment.vacancy", ["GET"], VACANCY_VIEWERS),
    ("recruitment.ranking", ["GET"], VACANCY_VIEWERS),
    ("recruitment.add_candidate", ["POST"], {"recruiter", "hr"}),
    ("recruitment.import_candidates", ["POST"], {"recruiter", "hr"}),
    ("recruitment.workbook", ["GET"], {"recruiter", "hr"}),
    ("recruitment.shortlist", ["GET", "POST"], {"supervisor", "manager"}),
    ("recruitment.interview", ["GET", "POST"], {"supervisor", "manager"}),
    ("recruitment.agree", ["POST"], {"manager"}),
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
    "coverage.coverage_api",
]:
    EXPECTED[(endpoint, "GET", "own")] = {"supervisor", "manager", "hr", "admin"}
    EXPECTED[(endpoint, "GET", "other")] = {"hr", "admin"}
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
]:
    EXPECTED[(endpoint, method, "own")] = CAN_SEE_PERSON
    EXPECTED[(endpoint, method, "other")] = {"hr", "admin"}
for endpoint, methods in [
    ("assessments.rate_element", ["GET", "POST"]),
    ("assessments.reflect_on_values", ["GET", "POST"]),
    ("assessments.submit", ["POST"]),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = PRACTITIONER
        EXPECTED[(endpoint, method, "other")] = set()
for endpoint, methods in [
    ("assessments.validate", ["GET", "POST"]),
    ("assessments.return_to_practitioner", ["POST"]),
]:
    for method in methods:
        EXPECTED[(endpoint, method, "own")] = SUPERVISOR
        EXPECTED[(endpoint, method, "other")] = set()

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
        north_candidate = add_candidate(north_vacancy, "Cara Candidate", "", None)
        south_candidate = add_candidate(south_vacancy, "Sid Candidate", "", None)
        own_job, _ = request_job("organisation_workbook", {"probe": "own"}, people["hr"])
        for person in people.values():
            request_job("organisation_workbook", {"probe": "own"}, person)
        other_job, _ = request_job("organisation_workbook", {"probe": "other"}, subject)
        commit()
        samples = {
            "-": {
                "user_id": subject.id,
                "key": "1a",
                "slug": north.slug,
                "filename": "images/favicon.svg",
                "token": "not-a-real-token",
            },
            "own": {
                "assessment_id": own.id,
                "user_id": people["practitioner"].id,
                "key": "1a",
                "fmt": "svg",
                "slug": north.slug,
                "vacancy_id": north_vacancy.id,
                "candidate_id": north_candidate.id,
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
                "job_id": other_job.id,
            },
        }
        ids = {role: user.id for role, user in people.items()}
        version = own.framework_version
        probes = {
            "own": {"assessment_id": own.id},
            "other": {"assessment_id": other.id},
            "skill_id": version_first_skill(version),
            "value_id": version.values[0].id,
            "module_key": version.modules[0].key,
            "team_id": north.id,
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
        "auth.set_password",
        "ui.assets",
        "health.healthz",
        "health.live",
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
    forms = {
        "admin.teams": {"slug": "probe-team", "name": "Probe team"},
        "admin.new_person": {
            "email": "probe.person@example.nhs.uk",
            "name": "Probe Person",
            "roles": "admin",
        },
        "admin.person": {"roles": "admin", "active": "y"},
        "recruitment.add_candidate": {"name": "Probe Candidate"},
        "recruitment.interview": {"action": "save"},
        "recruitment.new_vacancy": {"title": "Probe", "team": str(probes["team_id"])},
        "assessments.rate_element": {"row_version": version, f"level-{skill}": "1"},
        "assessments.reflect_on_values": {"row_version": version, f"value-{value}": "probe"},
        "assessments.submit": {"row_version": version},
        "assessments.validate": {"row_version": version},
        "assessments.return_to_practitioner": {"row_version": version, "return_comment": "probe"},
        "notifications.settings": {"kinds": "assessment_submitted"},
        "coverage.development": {
            "module": probes["module_key"],
            "completed_on": (date.today() - timedelta(days=1)).isoformat(),
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
