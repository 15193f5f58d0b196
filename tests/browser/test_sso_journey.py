"""Sign-in through the organisation's OpenID provider in Chromium, against a real provider.

The local `oidc-provider` (tests/sso/provider/) serves its own sign-in and consent pages;
each refused case is checked for its page (with an axe scan) and its audit event.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from competency_app.accounts.models import AuditEvent, Role
from competency_app.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, commit, make_team, make_user
from tests.sso.local_provider import NAME, PROVIDER_PASSWORD, LocalProvider, app_settings

BUTTON = f"Sign in with {NAME}"


@pytest.fixture(scope="module")
def provider(live_server):
    running = LocalProvider(
        [f"{live_server}/login/sso/callback"], post_logout_redirect_uris=[f"{live_server}/login"]
    )
    yield running
    running.stop()


@pytest.fixture
def organisation(app):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        commit()


@pytest.fixture
def sso(app, provider):
    with app_settings(app, provider.settings()):
        yield provider


def refusals(app) -> list[str]:
    with app.app_context():
        return [
            e.detail["reason"]
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "sso_sign_in_failed")
                .order_by(AuditEvent.id)
            )
        ]


def through_provider(page, email: str, *, allow: bool = True) -> None:
    """From the app's sign-in page, sign in at the provider's own pages."""
    page.goto("/login")
    page.get_by_role("button", name=BUTTON).click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow" if allow else "Deny").click()


def test_a_keyworker_signs_in_through_the_provider_and_out(
    page, browser, live_server, organisation, sso, axe_check
):
    page.goto("/login")
    axe_check(page)
    assert page.get_by_label("Password").count() == 1  # the password form stays beside it
    screenshot(page, "sso-login-page")
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)  # no wider than a phone's screen either
    page.set_viewport_size({"width": 1280, "height": 900})
    through_provider(page, "pat.prac@example.nhs.uk")
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    axe_check(page)
    screenshot(page, "sso-home")
    cookies = page.context.cookies(live_server)
    # signing out here signs out at the provider too: it asks, then sends the browser back
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{sso.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{live_server}/login?state=*")
    assert page.get_by_role("status").inner_text() == (
        f"You have signed out of this service and of {NAME}."
    )
    axe_check(page)
    screenshot(page, "sso-signed-out-at-provider")
    # the next person at this computer is asked for their own password by the provider
    page.get_by_role("button", name=BUTTON).click()
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    assert page.get_by_label("Password").count() == 1
    # the cookie copied before signing out opens nothing any more
    replay = browser.new_context(base_url=live_server)
    replay.add_cookies(cookies)
    stolen = replay.new_page()
    stolen.goto("/")
    assert "/login" in stolen.url
    replay.close()


def test_an_unknown_person_gets_a_clear_page(page, app, organisation, sso, axe_check):
    through_provider(page, "stranger@example.nhs.uk")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "There is no account for you in this service"
    axe_check(page)
    screenshot(page, "sso-unknown-person")
    assert refusals(app) == ["unknown_user"]
    page.goto("/")
    assert "/login" in page.url


def test_denied_consent_gets_a_clear_page(page, app, organisation, sso, axe_check):
    through_provider(page, "pat.prac@example.nhs.uk", allow=False)
    assert page.get_by_role("heading", level=1).inner_text() == "You did not allow the sign-in"
    axe_check(page)
    assert refusals(app) == ["access_denied"]


@pytest.mark.parametrize(
    ("spoiling", "reason"),
    [
        ("tampered", "tampered_token"),
        ("wrong-audience", "wrong_audience"),
        ("wrong-nonce", "wrong_nonce"),
        ("expired", "expired_token"),
    ],
)
def test_a_spoiled_id_token_gets_a_clear_page(
    page, app, organisation, sso, axe_check, spoiling, reason
):
    sso.spoil_next_id_token(spoiling)
    through_provider(page, "pat.prac@example.nhs.uk")
    assert page.get_by_role("heading", level=1).inner_text() == "We could not verify your sign-in"
    axe_check(page)
    screenshot(page, f"sso-refused-{spoiling}")
    assert refusals(app) == [reason]
    page.goto("/")
    assert "/login" in page.url


def test_the_callback_replayed_in_another_browser_is_refused(
    page, browser, app, live_server, organisation, sso
):
    callbacks = []
    page.on(
        "request",
        lambda request: (
            callbacks.append(request.url) if "/login/sso/callback" in request.url else None
        ),
    )
    through_provider(page, "pat.prac@example.nhs.uk")
    page.wait_for_url(f"{live_server}/")
    other = browser.new_context(base_url=live_server)
    attacker = other.new_page()
    attacker.goto(callbacks[0])
    assert "already been used" in attacker.locator("h1").inner_text()
    assert refusals(app) == ["replayed"]
    other.close()


def test_with_local_passwords_off_the_form_is_gone_and_a_password_is_refused(
    page, app, organisation, provider, axe_check
):
    with app_settings(app, provider.settings()):
        page.goto("/login")  # a page loaded while passwords were still allowed
    with app_settings(app, provider.settings(LOCAL_PASSWORDS=False)):
        page.get_by_label("Email address").fill("pat.prac@example.nhs.uk")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        assert page.get_by_role("heading", level=1).inner_text() == "Password sign-in is turned off"
        page.goto("/")
        assert "/login" in page.url
        assert page.get_by_label("Password").count() == 0
        assert page.get_by_role("button", name=BUTTON).count() == 1
        axe_check(page)
        screenshot(page, "sso-login-page-passwords-off")
        through_provider(page, "pat.prac@example.nhs.uk")
        page.wait_for_url("**/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
