"""Organisation isolation as a property: whatever list is asked for, with whatever page,
filter or search text, by an organisation's administrator, HR, recruiter or API token, no
row of another organisation comes back.

Each seed builds three organisations (two in one collaborative, one in another) with
teams, people, vacancies, candidates, audit events and API tokens, every name carrying its
organisation's marker and a number. Then random requests of every list page and API list
endpoint: random page numbers and sizes, filters, and search texts taken from the other
organisations' names (never with a number, so an echoed search box is not a leak). The
answer must hold none of another organisation's identifiers (names, emails, slugs,
titles), the organisation workbook included.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from competency_app.accounts.models import Role, User
from competency_app.accounts.services import record
from competency_app.api.tokens import create_token
from competency_app.extensions import db
from competency_app.recruitment.services import add_candidate, create_vacancy
from tests.factories import (
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
)

SEEDS = [3, 17, 2026]
MARKERS = ["ashby", "brent", "corby"]  # the first two share a collaborative
REQUESTS_PER_PAGE = 4


@dataclass
class Org:
    marker: str
    identifiers: set[str] = field(default_factory=set)  # lower-case, each with a number
    searches: list[str] = field(default_factory=list)  # texts without a digit
    people: dict[str, int] = field(default_factory=dict)  # role -> a user id
    tokens: dict[str, str] = field(default_factory=dict)  # role -> secret
    team_slugs: list[str] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    vacancy_ids: list[int] = field(default_factory=list)


def _person(org: Org, local: str, *roles: Role, team=None, organisation=None) -> User:
    user = make_user(local, *roles, team=team, organisation=organisation)
    org.identifiers |= {user.name.lower(), user.email.lower()}
    org.person_ids.append(user.id)
    return user


def build(rng: random.Random, framework_ready: bool) -> list[Org]:
    assert framework_ready
    first = None
    orgs = []
    far = make_collaborative("far-region")
    for index, marker in enumerate(MARKERS):
        if index == 0:
            organisation = make_organisation(f"{marker}-trust")
            first = organisation
        elif index == 1:
            organisation = make_organisation(f"{marker}-trust", collaborative=first.collaborative)
        else:
            organisation = make_organisation(f"{marker}-trust", collaborative=far)
        org = Org(marker)
        org.searches += [marker, marker.title(), f"{marker} kw", f"{marker}.", "kw", "team"]
        hr = _person(org, f"{marker}.hr.{index}", Role.HR, organisation=organisation)
        admin = _person(org, f"{marker}.admin.{index}", Role.ADMIN, organisation=organisation)
        org.people.update(hr=hr.id, admin=admin.id)
        for t in range(1, rng.randint(2, 3) + 1):
            slug = f"{marker}-ward-{t}"
            team = make_team(slug, f"{marker.title()} ward {t} team", organisation=organisation)
            org.team_slugs.append(slug)
            org.identifiers |= {slug, team.name.lower()}
            sup = _person(
                org, f"{marker}.sup.{t}", Role.SUPERVISOR, team=team, organisation=organisation
            )
            manager = _person(
                org, f"{marker}.mgr.{t}", Role.MANAGER, team=team, organisation=organisation
            )
            recruiter = _person(
                org, f"{marker}.rec.{t}", Role.RECRUITER, team=team, organisation=organisation
            )
            for k in range(1, rng.randint(2, 5) + 1):
                kw = make_user(
                    f"{marker}.kw.{t}{k}",
                    Role.PRACTITIONER,
                    team=team,
                    supervisor=sup,
                    organisation=organisation,
                )
                org.identifiers |= {kw.name.lower(), kw.email.lower()}
                org.person_ids.append(kw.id)
            org.people.setdefault("recruiter", recruiter.id)
            org.people.setdefault("manager", manager.id)
            for v in range(1, rng.randint(1, 2) + 1):
                title = f"{marker.title()} post {t}{v}"
                vacancy = create_vacancy(
                    team,
                    title,
                    date.today() + timedelta(days=rng.randint(5, 60)),
                    [sup, manager],
                    [sup, manager],
                    manager,
                    recruiter,
                )
                org.vacancy_ids.append(vacancy.id)
                org.identifiers.add(title.lower())
                for c in range(1, rng.randint(1, 3) + 1):
                    name = f"{marker.title()} Candidate {t}{v}{c}"
                    add_candidate(vacancy, name, f"{marker}.cand.{t}{v}{c}@example.org", None)
                    org.identifiers |= {name.lower(), f"{marker}.cand.{t}{v}{c}@example.org"}
        for role in ("manager", "hr", "admin"):
            owner = db.session.get(User, org.people[role])
            name = f"{marker} token {role} 1"
            org.tokens[role] = create_token(owner, name, 30).secret
            org.identifiers.add(name)
        # events the organisation's people caused, and ones the system recorded about them
        admin_user = db.session.get(User, admin.id)
        for n in range(rng.randint(3, 8)):
            record("export", admin_user, target=f"{marker}-export-{n}", rows=n)
            org.identifiers.add(f"{marker}-export-{n}")
        record(
            "user_disabled",
            None,
            target=f"{marker}.system.1@example.nhs.uk",
            organisation_id=organisation.id,
        )
        org.identifiers.add(f"{marker}.system.1@example.nhs.uk")
        orgs.append(org)
    commit()
    return orgs


def _random_query(rng: random.Random, searches: list[str]) -> str:
    return rng.choice(searches + [""])


def _requests(rng: random.Random, role: str, own: Org, others: list[Org]) -> list[tuple]:
    """(path, query string parameters, bearer role or None) for `role`'s lists."""
    searches = [s for other in others for s in other.searches]
    out: list[tuple] = []

    def page(path: str, **params):
        for _ in range(REQUESTS_PER_PAGE):
            args = {}
            for name, choices in params.items():
                value = rng.choice(choices)
                if value is not None:
                    args[name] = value
            out.append((path, args, None))

    pages = lambda: [None, "1", str(rng.randint(1, 4)), "999", "0", "-2", "x"]  # noqa: E731
    search = lambda: [None, "", *rng.sample(searches, 3)]  # noqa: E731
    page("/")
    page("/jobs")
    if role == "admin":
        page("/admin")
        page("/admin/people", q=search(), page=pages())
        page("/admin/teams")
        page("/admin/audit", who=search(), page=pages(), action=[None, "", "export"])
        page("/account/api-tokens")
    if role in ("admin", "hr"):
        page("/exports")
        page("/training/compliance")
    if role in ("hr", "recruiter"):
        page("/recruitment")
    api = [
        ("/api/v1/teams", {"name": search(), "page": pages(), "per_page": [None, "1", "100"]}),
        (
            "/api/v1/vacancies",
            {
                "page": pages(),
                "per_page": [None, "2", "100"],
                "status": [None, "open", "closed"],
                "team": [None, *own.team_slugs, *[o.team_slugs[0] for o in others]],
            },
        ),
    ]
    if role in ("admin", "hr", "manager"):
        slug = rng.choice(own.team_slugs)
        api.append((f"/api/v1/teams/{slug}/members", {"page": pages(), "per_page": [None, "3"]}))
    for other in others:  # another organisation's team, by its slug: refused, nothing named
        api.append((f"/api/v1/teams/{rng.choice(other.team_slugs)}/members", {}))
    for path, params in api:
        for _ in range(REQUESTS_PER_PAGE):
            args = {k: v for k, choices in params.items() if (v := rng.choice(choices))}
            out.append((path, args, None))
            if role in own.tokens:
                out.append((path, args, role))
    return out


def _text(response) -> str:
    if response.mimetype and "spreadsheetml" in response.mimetype:
        with zipfile.ZipFile(io.BytesIO(response.data)) as book:
            return " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return response.get_data(as_text=True)


def _leaks(text: str, others: list[Org]) -> list[str]:
    lowered = text.lower().replace("&#39;", "'").replace("&amp;", "&")
    return sorted(i for other in others for i in other.identifiers if i in lowered)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_list_returns_another_organisations_rows(app, framework, seed, capsys):
    rng = random.Random(seed)
    with app.app_context():
        orgs = build(rng, framework is not None)
        session_ids = {
            (org.marker, role): db.session.get(User, user_id).get_id()
            for org in orgs
            for role, user_id in org.people.items()
        }
    checked = 0
    problems: list[str] = []
    for own in orgs:
        others = [o for o in orgs if o is not own]
        for role in ("admin", "hr", "recruiter", "manager"):
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = session_ids[(own.marker, role)]
                session["_fresh"] = True
            bearer_client = app.test_client()
            for path, args, bearer in _requests(rng, role, own, others):
                if bearer:
                    headers = {"Authorization": f"Bearer {own.tokens[bearer]}"}
                    response = bearer_client.get(path, query_string=args, headers=headers)
                else:
                    response = client.get(path, query_string=args)
                checked += 1
                assert response.status_code < 500, (path, args)
                # a filter's own value comes back in the paging links: not a leak
                leaks = [i for i in _leaks(_text(response), others) if i not in args.values()]
                if leaks:
                    how = "token" if bearer else "session"
                    problems.append(f"{own.marker} {role} ({how}) {path} {args}: {leaks[:3]}")
            # the organisation workbook, for HR: its teams and people only
            if role == "hr":
                response = client.get("/exports/organisation.xlsx")
                assert response.status_code == 200
                checked += 1
                text = _text(response)
                assert f"{own.marker} ward 1 team" in text.lower()  # its own teams are there
                if leaks := _leaks(text, others):
                    problems.append(f"{own.marker} hr organisation workbook: {leaks[:3]}")
            # another organisation's person on the admin pages: not found
            if role == "admin":
                for other in others:
                    person_id = rng.choice(other.person_ids)
                    assert client.get(f"/admin/people/{person_id}").status_code == 404
    with capsys.disabled():
        print(f"\norganisation isolation (seed {seed}): {checked} requests, {len(problems)} leaks")
    assert problems == [], "\n".join(problems[:20])
    assert checked > 200


def test_the_last_administrator_is_counted_per_organisation(app_ctx):
    """Another organisation's administrators do not count: each keeps one of its own."""
    from competency_app.accounts.permissions import role_change_refusal

    make_user("ann.admin", Role.ADMIN)
    make_user("amy.admin", Role.ADMIN)
    other = make_organisation("solo-trust", collaborative=make_collaborative("solo"))
    only = make_user("oli.only", Role.ADMIN, organisation=other)
    refusal = role_change_refusal(None, only, {Role.HR})
    assert refusal is not None and "last active administrator" in refusal
    assert role_change_refusal(None, only, None, active=False) is not None
    db.session.rollback()


def test_system_events_about_a_person_or_vacancy_go_to_its_organisations_log(app_ctx, framework):
    from competency_app.accounts import services
    from competency_app.accounts.models import AuditEvent

    other = make_organisation("log-trust", collaborative=make_collaborative("logs"))
    team = make_team("log-ward", organisation=other)
    person = make_user("lou.log", Role.PRACTITIONER, team=team, organisation=other)
    manager = make_user("lee.log", Role.MANAGER, team=team, organisation=other)
    recruiter = make_user("lyn.log", Role.RECRUITER, team=team, organisation=other)
    supervisor = make_user("liz.log", Role.SUPERVISOR, team=team, organisation=other)
    services.set_active(person, False, None)  # the command line: no actor
    panel = [manager, supervisor]
    closing = date.today() + timedelta(days=9)
    vacancy = create_vacancy(team, "Log post", closing, panel, panel, manager, recruiter)
    add_candidate(vacancy, "Lola Candidate", "", None)
    events = db.session.scalars(
        db.select(AuditEvent).where(
            AuditEvent.action.in_(["user_disabled", "vacancy_created", "candidate_added"])
        )
    ).all()
    assert {e.action for e in events} >= {"user_disabled", "vacancy_created"}
    assert {e.organisation_id for e in events} == {other.id}
    db.session.rollback()
