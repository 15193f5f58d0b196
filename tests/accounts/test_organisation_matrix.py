"""The authorisation matrix's organisation dimension: every route × method × role against
an object in the requester's own organisation, in another organisation of the same
collaborative, and in an organisation of another collaborative.

The requesters are the people of `test_authorisation_matrix.world`, all employed by the
first organisation; their "own" objects are that world's (the north team, its keyworker,
vacancy, session, training, job and token), so the "own" column is that matrix's. Each
other organisation gets the same objects in a team it hosts, held by its own people: no
requester reaches one of them, whatever their role (0 expected allows). A "secondee" is
employed by the second organisation and works in the north team: the north team's
supervisor and manager see them as any member, the first organisation's HR and
administrators do not (their employer's keep their record).

Denied means 401, 403, 404 (another organisation's person, to not reveal they exist) or
the sign-in redirect. A refused POST changes nothing. A route missing from the table fails.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from flask import session as flask_session
from flask import url_for
from flask_wtf.csrf import generate_csrf

from competency_app.accounts.models import Role
from competency_app.api.tokens import create_token
from competency_app.assessments.services import start_assessment
from competency_app.extensions import db
from competency_app.jobs.services import request_job
from competency_app.recruitment.services import add_candidate, create_vacancy
from competency_app.supervision.services import schedule_sessions
from competency_app.training.services import assign_module
from tests.accounts import test_authorisation_matrix as matrix
from tests.accounts.test_authorisation_matrix import world  # noqa: F401 - a fixture
from tests.factories import (
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
)

ROLES = [
    "admin",
    "hr",
    "recruiter",
    "manager",
    "supervisor",
    "practitioner",
    "regional_lead",
    "installation_admin",
]
ELSEWHERE = ("same", "other")  # another organisation: same collaborative, another one
# URL arguments that name no organisation's data (a framework key, a file, a format)
NEUTRAL_ARGUMENTS = {"key", "fmt", "filename", "token", "check_key", "skill_key"}
# URL arguments naming something about one person: the secondee's version exists
PERSONAL_ARGUMENTS = {"user_id", "assessment_id", "session_id", "assignment_id"}


def _object_routes(app) -> dict[tuple[str, str], set[str]]:
    """(endpoint, method) -> its URL arguments, for every route."""
    return {(rule.endpoint, method): set(rule.arguments) for rule, method in matrix._routes(app)}


def _own(endpoint: str, method: str) -> set[str]:
    """The authorisation matrix's outcome for the requester's own object (or no object)."""
    for variant in ("own", "-"):
        roles = matrix.EXPECTED.get((endpoint, method, variant))
        if roles is not None:
            return set(roles) & set(ROLES)
    raise KeyError((endpoint, method))


# (endpoint, method, variant) -> roles allowed, variant one of "-" (no organisation's object
# in the URL), "own", "same", "other", "secondee". Built from the rule that holds everywhere
# (nothing of another organisation is reachable) with the exceptions written out below.
def expected_table(app) -> dict[tuple[str, str, str], set[str]]:
    table: dict[tuple[str, str, str], set[str]] = {}
    for (endpoint, method), arguments in _object_routes(app).items():
        if (endpoint, method) not in ROWS:
            continue  # reported by test_every_route_has_an_organisation_row
        if not arguments - NEUTRAL_ARGUMENTS:
            table[(endpoint, method, "-")] = _own(endpoint, method)
            continue
        table[(endpoint, method, "own")] = _own(endpoint, method)
        for variant in ELSEWHERE:
            table[(endpoint, method, variant)] = set()
        if arguments & PERSONAL_ARGUMENTS:
            # the host team's supervisor and manager; never the host's HR or administrators
            table[(endpoint, method, "secondee")] = _own(endpoint, method) - {
                "practitioner",
                "hr",
                "admin",
            }
    table.update(EXCEPTIONS)
    return table


# Every route × method must be named here: a new route fails until its organisation rule
# is decided ("scoped": the rule above; anything else goes in EXCEPTIONS).
ROWS: set[tuple[str, str]] = {(endpoint, method) for endpoint, method, _variant in matrix.EXPECTED}
EXCEPTIONS: dict[tuple[str, str, str], set[str]] = {
    # the audit log: each reads their own organisation's (tests/accounts/test_organisation_
    # isolation.py checks its rows); the installation administrator every organisation's
    ("admin.audit", "GET", "-"): {"admin", "installation_admin"},
    # the installation administrator keeps every collaborative's organisations
    **{
        (endpoint, method, variant): {"installation_admin"}
        for endpoint, methods in [
            ("installation.new_organisation", ("GET", "POST")),
            ("installation.edit_organisation", ("GET", "POST")),
            ("installation.first_admin", ("GET", "POST")),
        ]
        for method in methods
        for variant in ("own", *ELSEWHERE)
    },
}


def _objects(organisation, slug: str, version, closing: date) -> dict:
    """A team hosted by `organisation` with its people, an assessment, a vacancy with a
    candidate, a supervision session, a training assignment, a job and a token."""
    team = make_team(f"{slug}-team", organisation=organisation)
    supervisor = make_user(f"sup.{slug}", Role.SUPERVISOR, team=team, organisation=organisation)
    keyworker = make_user(
        f"kw.{slug}",
        Role.PRACTITIONER,
        team=team,
        supervisor=supervisor,
        organisation=organisation,
    )
    manager = make_user(f"mgr.{slug}", Role.MANAGER, team=team, organisation=organisation)
    recruiter = make_user(f"rec.{slug}", Role.RECRUITER, team=team, organisation=organisation)
    hr = make_user(f"hr.{slug}", Role.HR, organisation=organisation)
    make_user(f"admin.{slug}", Role.ADMIN, organisation=organisation)
    assessment = start_assessment(keyworker)
    vacancy = create_vacancy(
        team,
        "Keyworker",
        closing,
        [supervisor, manager],
        [supervisor, manager],
        manager,
        recruiter,
    )
    candidate = add_candidate(vacancy, f"{slug.title()} Candidate", "", None)
    session = schedule_sessions(
        keyworker, supervisor, date.today() + timedelta(days=12), time(11, 0)
    )[0]
    due = date.today() + timedelta(days=30)
    assignment = assign_module(keyworker, version.modules[0].key, due, manager, version)
    token = create_token(manager, f"{slug} token", 30).token
    job, _ = request_job("organisation_workbook", {"organisation": organisation.id}, hr)
    job.state, job.active_key, job.error = "failed", None, "The worker stopped."
    return {
        "assessment_id": assessment.id,
        "user_id": keyworker.id,
        "key": "1a",
        "fmt": "svg",
        "slug": team.slug,
        "vacancy_id": vacancy.id,
        "candidate_id": candidate.id,
        "check_key": "dbs-enhanced",
        "session_id": session.id,
        "token_id": token.id,
        "assignment_id": assignment.id,
        "job_id": job.id,
        "collaborative": organisation.collaborative.slug,
        "organisation": organisation.slug,
    }


@pytest.fixture
def organisations(app, world):  # noqa: F811 - the fixture imported above
    ids, samples, probes = world
    from competency_app.accounts.models import Team, User
    from competency_app.assessments.models import Assessment

    with app.app_context():
        north = db.session.scalar(db.select(Team).where(Team.slug == "north"))
        home = north.organisation
        version = db.session.get(Assessment, probes["own"]["assessment_id"]).framework_version
        neighbour = make_organisation("neighbour-trust", collaborative=home.collaborative)
        elsewhere = make_organisation("faraway-trust", collaborative=make_collaborative("far"))
        closing = date.today() + timedelta(days=30)
        samples = dict(samples)
        samples["same"] = _objects(neighbour, "neighbour", version, closing)
        samples["other"] = _objects(elsewhere, "faraway", version, closing)
        # a secondee: employed by the neighbour, a keyworker in the north team supervised by
        # its supervisor
        supervisor = db.session.get(User, ids["supervisor"])
        manager = db.session.get(User, ids["manager"])
        secondee = make_user(
            "sam.secondee",
            Role.PRACTITIONER,
            team=north,
            supervisor=supervisor,
            organisation=neighbour,
        )
        session = schedule_sessions(
            secondee, supervisor, date.today() + timedelta(days=14), time(9, 0)
        )[0]
        assignment = assign_module(
            secondee,
            version.modules[0].key,
            date.today() + timedelta(days=30),
            manager,
            version,
        )
        samples["secondee"] = {
            **samples["own"],
            "assessment_id": start_assessment(secondee).id,
            "user_id": secondee.id,
            "session_id": session.id,
            "assignment_id": assignment.id,
        }
        assert secondee.organisation_id != home.id
        assert samples["same"]["slug"] != north.slug
        commit()
        probes = dict(probes)
        for variant in ("same", "other", "secondee"):
            probes[variant] = {"assessment_id": samples[variant]["assessment_id"]}
        return ids, samples, probes


def test_every_route_has_an_organisation_row(app):
    in_app = set(_object_routes(app))
    assert in_app - ROWS == set(), "routes without an organisation rule"
    table = expected_table(app)
    assert {(e, m) for e, m, _ in table} == in_app
    # every route naming an organisation's object is checked in all three organisations
    for (endpoint, method), arguments in _object_routes(app).items():
        if arguments - NEUTRAL_ARGUMENTS:
            for variant in ("own", *ELSEWHERE):
                assert (endpoint, method, variant) in table


def _is_denied(status: int, location: str, variant: str) -> bool:
    """Refused by the access rule, or (for another organisation's object or a secondee's)
    not found: a view answers 404 for its own reasons too (a job's file not made yet), so
    a 404 counts as a refusal only where the object is beyond the requester's scope."""
    if status in (401, 403) or "/login?next=" in location:
        return True
    return status == 404 and variant not in ("own", "-")


def _sample(samples: dict, endpoint: str, method: str, variant: str) -> dict:
    """The URL's objects: the authorisation matrix's "-" sample stands for the requester's
    own organisation where that matrix has no "own" row (the administration pages' person,
    in another team of the same organisation)."""
    if variant == "own" and (endpoint, method, "own") not in matrix.EXPECTED:
        return samples["-"]
    return samples[variant]


def test_organisation_matrix(app, organisations, capsys):
    ids, samples, probes = organisations
    table = expected_table(app)
    with app.test_request_context():
        token = generate_csrf()
        raw_token = flask_session["csrf_token"]
    checked = unexpected_allows = unexpected_denies = denied_writes = 0
    by_variant: dict[str, int] = {}
    problems = []
    known = None
    for (endpoint, method, variant), allowed_roles in table.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        sample = _sample(samples, endpoint, method, variant)
        args = {name: sample[name] for name in rule.arguments}
        with app.test_request_context():
            url = url_for(endpoint, **args)
        session_ids = matrix._session_ids(app, ids)
        # the probe forms read the assessment named by the variant (as "other")
        variant_probes = {**probes, "other": probes.get(variant, probes["own"])}
        for role in ROLES:
            client = app.test_client()
            with client.session_transaction() as session:
                session["csrf_token"] = raw_token
                session["_user_id"] = session_ids[role]
                session["_fresh"] = True
            data = None
            if method == "POST":
                with app.app_context():
                    known = known or matrix._fingerprint()
                    form_variant = "own" if variant == "own" else "other"
                    data = {
                        "csrf_token": token,
                        **matrix._probe_form(endpoint, form_variant, variant_probes),
                    }
            response = client.open(url, method=method, data=data)
            response.close()
            status, location = response.status_code, response.headers.get("Location", "")
            if method == "POST":
                assert status != 400 or b"form has expired" not in response.data
            denied = _is_denied(status, location, variant)
            if endpoint == "auth.login":
                denied = False  # signed-in people are sent home
            expected = role in allowed_roles
            checked += 1
            by_variant[variant] = by_variant.get(variant, 0) + 1
            outcome = f"{role} {method} {url} ({variant}) -> {status} {location}"
            if expected and denied:
                unexpected_denies += 1
                problems.append(f"DENIED {outcome}")
            elif not expected and not denied:
                unexpected_allows += 1
                problems.append(f"ALLOWED {outcome}")
            if not denied:
                known = None
            elif method == "POST":
                denied_writes += 1
                with app.app_context():
                    if matrix._fingerprint() != known:
                        problems.append(f"CHANGED DATA {outcome}")
    with capsys.disabled():
        print(
            f"\norganisation matrix: {checked} cells checked ({by_variant}), "
            f"{unexpected_allows} unexpected allows, {unexpected_denies} unexpected denies, "
            f"{denied_writes} refused POSTs changed nothing"
        )
    assert problems == [], "\n".join(problems)
    assert by_variant["same"] == by_variant["other"] >= 60 * len(ROLES)
    assert by_variant["secondee"] >= 20 * len(ROLES)


def test_a_person_of_another_organisation_is_not_found_on_the_admin_pages(app, organisations):
    """404, the answer for no such person: the page does not reveal that they exist."""
    ids, samples, _probes = organisations
    session_id = matrix._session_ids(app, ids)["admin"]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    for variant in ("same", "other", "secondee"):
        user_id = samples[variant]["user_id"]
        for path in ("", "/reset-password", "/sign-in-link"):
            assert client.get(f"/admin/people/{user_id}{path}").status_code == 404
    assert client.get("/admin/people/999999").status_code == 404
    # a person of the administrator's own organisation still answers
    assert client.get(f"/admin/people/{samples['-']['user_id']}").status_code == 200
