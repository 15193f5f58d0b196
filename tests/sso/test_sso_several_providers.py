"""Several organisations, each with its own OpenID provider: two real providers (two
oidc-provider processes, each with its own issuer, client and directory), each signing in
only its own organisation's people."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Role, SsoIdentity, User
from competency_app.accounts.sso import PROVIDER_KEY
from competency_app.config import check_sign_in_settings, parse_providers
from competency_app.extensions import db
from tests.conftest import csrf_from
from tests.factories import PASSWORD, commit, make_organisation, make_team, make_user
from tests.sso.conftest import CALLBACK, SIGNED_OUT
from tests.sso.local_provider import LocalProvider, app_settings, provider_user

NORTH_USERS = [
    provider_user("north-pat", "pat.prac@example.nhs.uk"),
    # a South Trust person in the north directory too: North's provider must refuse them
    provider_user("north-sid", "sid.south@south.nhs.uk"),
]
SOUTH_USERS = [
    provider_user("south-sid", "sid.south@south.nhs.uk"),
    # North's keyworker, with an account at South's provider: South's provider must refuse
    provider_user("south-pat", "pat.prac@example.nhs.uk"),
    provider_user("south-newcomer", "nell.new@south.nhs.uk"),
    # an address at the first organisation's domain, unknown here
    provider_user("south-eve", "eve.else@example.nhs.uk"),
]
NORTH_NAME = "North Trust account"
SOUTH_NAME = "South Trust account"


@pytest.fixture(scope="module")
def north():
    running = LocalProvider(
        [CALLBACK],
        NORTH_USERS,
        post_logout_redirect_uris=[SIGNED_OUT],
        client_id="competency-north",
        client_secret="the-north-client-secret",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def south():
    running = LocalProvider(
        [CALLBACK],
        SOUTH_USERS,
        post_logout_redirect_uris=[SIGNED_OUT],
        client_id="competency-south",
        client_secret="the-south-client-secret",
    )
    yield running
    running.stop()


@pytest.fixture
def people(app):
    """The first organisation (North's provider: the single OIDC_* settings) with Pat;
    South Trust (its own provider, in OIDC_PROVIDERS) with Sid."""
    with app.app_context():
        north_team = make_team("north")
        north_team.organisation.email_domains = "example.nhs.uk"
        make_user("pat.prac", Role.PRACTITIONER, team=north_team)
        trust = make_organisation("south-trust", domains="south.nhs.uk")
        south_team = make_team("south", organisation=trust)
        services.create_user(
            "sid.south@south.nhs.uk",
            "Sid South",
            PASSWORD,
            [services.RoleGrant(Role.PRACTITIONER, south_team)],
            None,
            organisation=trust,
        )
        commit()
        return {"north": north_team.organisation_id, "south": trust.id}


@pytest.fixture
def both(app, north, south):
    settings = north.settings(
        OIDC_DISPLAY_NAME=NORTH_NAME,
        OIDC_PROVIDERS={"south-trust": south.entry(SOUTH_NAME)},
    )
    with app_settings(app, settings):
        yield


def sign_in_at(client, provider, start_url: str, email: str):
    response = client.get(start_url)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].startswith(provider.issuer)
    callback = provider.authorise(response.headers["Location"], email)
    parts = urlsplit(callback)
    assert parts.path == "/login/sso/callback"
    return client.get(f"{parts.path}?{parts.query}")


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def links(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (link.user.email, link.issuer)
            for link in db.session.scalars(select(SsoIdentity).order_by(SsoIdentity.id))
        ]


def test_the_sign_in_page_offers_each_organisation_and_an_email_first_path(app, people, both):
    response = app.test_client().get("/login")
    page = response.get_data(as_text=True)
    assert f"Sign in with {NORTH_NAME}" in page and f"Sign in with {SOUTH_NAME}" in page
    assert 'href="/login/sso"' in page
    assert 'href="/login/sso?organisation=south-trust"' in page
    assert 'name="work_email"' in page and 'name="password"' in page
    # both providers' origins may receive the sign-in and sign-out forms
    policy = response.headers["Content-Security-Policy"]
    assert f"form-action 'self' {app.config['OIDC_ISSUER']} " in policy
    assert app.config["OIDC_PROVIDERS"]["south-trust"]["issuer"] in policy


def test_each_provider_signs_in_its_own_organisations_people(app, people, both, north, south):
    pat = app.test_client()
    assert sign_in_at(pat, north, "/login/sso", "pat.prac@example.nhs.uk").status_code == 303
    assert "Pat Prac" in pat.get("/").get_data(as_text=True)
    sid = app.test_client()
    start = "/login/sso?organisation=south-trust"
    assert sign_in_at(sid, south, start, "sid.south@south.nhs.uk").status_code == 303
    assert "Sid South" in sid.get("/").get_data(as_text=True)
    assert links(app) == [
        ("pat.prac@example.nhs.uk", north.issuer),
        ("sid.south@south.nhs.uk", south.issuer),
    ]
    first, second = events(app, "sign_in")
    assert first.detail == {"method": "sso", "linked": True}
    assert second.detail == {"method": "sso", "linked": True, "provider": "south-trust"}
    assert second.organisation_id == people["south"]
    # the second sign-in through South's provider finds Sid by the link
    again = app.test_client()
    assert sign_in_at(again, south, start, "sid.south@south.nhs.uk").status_code == 303
    assert events(app, "sign_in")[-1].detail["linked"] is False


@pytest.mark.parametrize(
    ("start", "which", "email", "employer"),
    [
        ("/login/sso?organisation=south-trust", "south", "pat.prac@example.nhs.uk", "north"),
        ("/login/sso", "north", "sid.south@south.nhs.uk", "south"),
    ],
)
def test_a_provider_refuses_another_organisations_person(
    app, people, both, north, south, start, which, email, employer
):
    provider = {"north": north, "south": south}[which]
    client = app.test_client()
    response = sign_in_at(client, provider, start, email)
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page[:800]
    assert "Sign in with your own organisation&#39;s account" in page
    assert "Choose your organisation's sign-in" in page
    [refused] = events(app, "sso_sign_in_failed")
    assert refused.detail["reason"] == "wrong_organisation"
    assert refused.target == email
    assert refused.organisation_id == people[employer]  # the account's employer's log
    assert events(app, "sign_in") == []
    assert links(app) == []  # nobody linked to another organisation's provider
    assert client.get("/").status_code == 302  # nobody signed in


def test_a_link_made_before_does_not_let_another_organisations_provider_in(
    app, people, both, north, south
):
    """Pat is linked to South's subject (as if linked before Pat's employer had its own
    provider): South's provider still signs in only South's people."""
    with app.app_context():
        pat = db.session.scalar(select(User).where(User.email == "pat.prac@example.nhs.uk"))
        db.session.add(
            SsoIdentity(
                user_id=pat.id,
                issuer=south.issuer,
                subject="south-pat",
                linked_at=pat.created_at,
                last_used_at=None,
            )
        )
        commit()
    client = app.test_client()
    start = "/login/sso?organisation=south-trust"
    response = sign_in_at(client, south, start, "pat.prac@example.nhs.uk")
    assert response.status_code == 403
    assert events(app, "sso_sign_in_failed")[0].detail["reason"] == "wrong_organisation"


def test_the_work_email_picks_the_organisations_provider(app, people, both, north, south):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login/sso?next=/framework",
        data={"csrf_token": token, "work_email": " Sid.South@South.nhs.uk "},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(south.issuer)
    assert parse_qs(urlsplit(location).query)["client_id"] == ["competency-south"]
    with client.session_transaction() as session:
        assert session[PROVIDER_KEY] == "south-trust"
    callback = south.authorise(location, "sid.south@south.nhs.uk")
    parts = urlsplit(callback)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 303 and response.headers["Location"] == "/framework"
    # the first organisation's domain goes to its provider (the OIDC_* one)
    other = app.test_client()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    response = other.post(
        "/login/sso", data={"csrf_token": token, "work_email": "pat.prac@example.nhs.uk"}
    )
    assert response.headers["Location"].startswith(north.issuer)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "someone@elsewhere.org",
            "No organisation here signs in people with an email address at elsewhere.org",
        ),
        ("", "Enter your work email address"),
    ],
)
def test_a_work_email_no_organisation_lists_comes_back(app, people, both, typed, message):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login/sso", data={"csrf_token": token, "work_email": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "There is a problem" in page
    assert f'value="{typed}"' in page if typed else True
    assert events(app, "sso_sign_in_failed") == []


def test_just_in_time_accounts_join_the_providers_organisation(app, people, north, south):
    entry = south.entry(SOUTH_NAME, create_accounts=True, new_account_team="south")
    settings = north.settings(OIDC_DISPLAY_NAME=NORTH_NAME, OIDC_PROVIDERS={"south-trust": entry})
    with app_settings(app, settings):
        client = app.test_client()
        start = "/login/sso?organisation=south-trust"
        assert sign_in_at(client, south, start, "nell.new@south.nhs.uk").status_code == 303
        with app.app_context():
            nell = db.session.scalar(select(User).where(User.email == "nell.new@south.nhs.uk"))
            assert nell.organisation_id == people["south"]
            assert [(a.role, a.team.slug) for a in nell.roles] == [(Role.PRACTITIONER, "south")]
        # no account at South Trust for an address of the first organisation's domain
        refused = app.test_client()
        response = sign_in_at(refused, south, start, "eve.else@example.nhs.uk")
        assert response.status_code == 403
        [event] = events(app, "sso_sign_in_failed")
        assert event.detail["reason"] == "wrong_organisation"
        assert event.organisation_id == people["south"]  # the provider's organisation's log
        with app.app_context():
            assert (
                db.session.scalar(select(User.id).where(User.email == "eve.else@example.nhs.uk"))
                is None
            )


def test_sign_out_goes_to_the_provider_that_signed_in(app, people, both, south):
    client = app.test_client()
    start = "/login/sso?organisation=south-trust"
    assert sign_in_at(client, south, start, "sid.south@south.nhs.uk").status_code == 303
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(south.issuer)
    assert parse_qs(urlsplit(location).query)["client_id"] == ["competency-south"]


def test_both_providers_can_be_named_by_organisation(app, people, north, south):
    """Without the OIDC_* settings: the first organisation named in OIDC_PROVIDERS too."""
    providers = {
        "keyworking-service": north.entry(NORTH_NAME),
        "south-trust": south.entry(SOUTH_NAME),
    }
    with app_settings(app, {"OIDC_ISSUER": "", "OIDC_PROVIDERS": providers}):
        page = app.test_client().get("/login").get_data(as_text=True)
        assert 'href="/login/sso?organisation=keyworking-service"' in page
        assert 'href="/login/sso?organisation=south-trust"' in page
        client = app.test_client()
        start = "/login/sso?organisation=keyworking-service"
        assert sign_in_at(client, north, start, "pat.prac@example.nhs.uk").status_code == 303
        refused = app.test_client()
        response = sign_in_at(refused, north, start, "sid.south@south.nhs.uk")
        assert response.status_code == 403
        assert app.test_client().get("/login/sso?organisation=nowhere").status_code == 404


def test_providers_setting_from_json_or_a_yaml_file(tmp_path):
    text = json.dumps(
        {
            "south-trust": {
                "issuer": "https://id.south.example",
                "client_id": "a",
                "client_secret": "b",
                "display_name": "South",
            }
        }
    )
    assert parse_providers(text)["south-trust"]["issuer"] == "https://id.south.example"
    path = tmp_path / "providers.yaml"
    path.write_text(
        "south-trust:\n  issuer: https://id.south.example\n  client_id: a\n"
        "  client_secret: b\n  display_name: South\n"
        "  group_roles: kw-south=manager@south\n",
        encoding="utf-8",
    )
    parsed = parse_providers(str(path))
    assert parsed["south-trust"]["group_roles"] == (("kw-south", "manager", "south"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "OIDC_PROVIDERS is not valid JSON"),
        ("/no/such/file.yaml", "neither a JSON object nor a readable file"),
        ('{"South Trust": {}}', "the key must be an organisation's short name"),
        ('{"south": {"issuer": "x"}}', "set client_id, client_secret, display_name"),
        (
            '{"south": {"issuer": "x", "client_id": "a", "client_secret": "b", '
            '"display_name": "S", "colour": "red"}}',
            "unknown setting 'colour'",
        ),
        (
            '{"south": {"issuer": "x", "client_id": "a", "client_secret": "b", '
            '"display_name": "S", "group_roles": "g=admin@south"}}',
            "a group can give only",
        ),
    ],
)
def test_a_malformed_providers_setting_stops_the_app(text, message):
    with pytest.raises(RuntimeError, match=message):
        parse_providers(text)


def test_providers_need_their_own_names_and_openid():
    entry = {"issuer": "x", "client_id": "a", "client_secret": "b", "display_name": "Ours"}
    with pytest.raises(RuntimeError, match="its own display_name"):
        check_sign_in_settings(
            {
                "OIDC_ISSUER": "https://id.example",
                "OIDC_CLIENT_ID": "a",
                "OIDC_CLIENT_SECRET": "b",
                "OIDC_SCOPES": "openid",
                "OIDC_DISPLAY_NAME": "Ours",
                "OIDC_PROVIDERS": {"south": entry},
            }
        )
    with pytest.raises(RuntimeError, match="scopes must include openid"):
        check_sign_in_settings({"OIDC_PROVIDERS": {"south": {**entry, "scopes": "email"}}})
    # providers alone are enough to turn passwords off
    check_sign_in_settings({"LOCAL_PASSWORDS": False, "OIDC_PROVIDERS": {"south": entry}})


def test_a_provider_for_an_organisation_not_here_is_not_offered(app, people, north, south):
    providers = {"ghost-trust": south.entry(SOUTH_NAME)}
    with app_settings(
        app, {**north.settings(OIDC_DISPLAY_NAME=NORTH_NAME), "OIDC_PROVIDERS": providers}
    ):
        page = app.test_client().get("/login").get_data(as_text=True)
        assert SOUTH_NAME not in page and f"Sign in with {NORTH_NAME}" in page
        assert app.test_client().get("/login/sso?organisation=ghost-trust").status_code == 404
