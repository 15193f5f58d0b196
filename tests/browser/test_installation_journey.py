"""The installation administrator's pages, and the sign-in page with two organisations'
providers, in Chromium at a phone's and a desktop's width, with an axe scan of each page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Role
from competency_app.extensions import db
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, commit, make_organisation, make_team, make_user
from tests.sso.local_provider import PROVIDER_PASSWORD, LocalProvider, app_settings, provider_user

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "")) if os.environ.get("SCREENSHOT_DIR") else None


def shot(page, name: str) -> None:
    screenshot(page, name)
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")


@pytest.fixture
def installation(app):
    with app.app_context():
        make_team("north", "North keyworking team")
        make_user("ian.install", Role.INSTALLATION_ADMIN)
        commit()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_installation_administrator_sets_up_an_organisation(
    page, app, installation, axe_check, width
):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    sign_in(page, "ian.install@example.nhs.uk")
    axe_check(page)
    page.get_by_role("link", name="Installation", exact=True).first.click()
    page.wait_for_url("**/installation")
    axe_check(page)
    page.get_by_role("button", name="Create a collaborative").click()
    page.get_by_label("Short name").fill("North Region")  # refused: capitals and a space
    page.get_by_label("Collaborative name").fill("North region")
    page.get_by_role("button", name="Create collaborative").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("lower-case letters")
    axe_check(page)
    page.get_by_label("Short name").fill("north-region")
    page.get_by_role("button", name="Create collaborative").click()
    page.wait_for_url("**/installation")
    page.get_by_role("link", name="Add an organisation to North region").click()
    page.get_by_label("Organisation name").fill("North Trust")
    page.get_by_label("Short name").fill("north-trust")
    page.get_by_label("Email domains").fill("north.nhs.uk northcare.org")
    axe_check(page)
    shot(page, f"c-installation-organisation-new-{width}")
    page.get_by_role("button", name="Add organisation").click()
    page.wait_for_url("**/first-administrator")
    axe_check(page)
    page.get_by_label("Full name").fill("Nora North")
    page.get_by_label("Email address").fill("nora@north.nhs.uk")
    page.get_by_role("button", name="Add administrator").click()
    link = page.get_by_test_id("set-password-link").inner_text()
    assert "/set-password/" in link
    axe_check(page)
    shot(page, f"c-installation-first-admin-{width}")
    page.goto("/installation")
    expect(page.locator("body")).to_contain_text("north.nhs.uk, northcare.org")
    axe_check(page)
    shot(page, f"c-installation-index-{width}")
    page.get_by_role("link", name="Change North Trust").click()
    page.get_by_label("Email domains").fill("north.nhs.uk")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stop using northcare.org for North Trust?"
    )
    axe_check(page)
    shot(page, f"c-installation-confirm-{width}")
    page.get_by_role("button", name="Yes, save the changes").click()
    page.wait_for_url("**/installation")
    expect(page.locator("body")).to_contain_text("Changes to North Trust saved.")
    with app.app_context():
        nora = services.user_by_email("nora@north.nhs.uk")
        assert nora.organisation.slug == "north-trust" and nora.role_set == {Role.ADMIN}
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"collaborative_created", "organisation_created", "organisation_changed"} <= actions
    assert "first_admin_created" in actions


# ---- two organisations, two providers ------------------------------------------------


@pytest.fixture(scope="module")
def providers(live_server):
    callback, signed_out = f"{live_server}/login/sso/callback", f"{live_server}/login"
    north = LocalProvider(
        [callback],
        [provider_user("n-pat", "pat.prac@example.nhs.uk")],
        post_logout_redirect_uris=[signed_out],
        client_id="competency-north",
        client_secret="north-secret-of-the-browser-test",
    )
    south = LocalProvider(
        [callback],
        [
            provider_user("s-sid", "sid.south@south.nhs.uk"),
            provider_user("s-pat", "pat.prac@example.nhs.uk"),
        ],
        post_logout_redirect_uris=[signed_out],
        client_id="competency-south",
        client_secret="south-secret-of-the-browser-test",
    )
    yield north, south
    north.stop()
    south.stop()


@pytest.fixture
def two_organisations(app, providers):
    north, south = providers
    with app.app_context():
        team = make_team("north", "North keyworking team")
        team.organisation.email_domains = "example.nhs.uk"
        make_user("pat.prac", Role.PRACTITIONER, team=team)
        trust = make_organisation("south-trust", domains="south.nhs.uk")
        south_team = make_team("south", "South keyworking team", organisation=trust)
        services.create_user(
            "sid.south@south.nhs.uk",
            "Sid South",
            PASSWORD,
            [services.RoleGrant(Role.PRACTITIONER, south_team)],
            None,
            organisation=trust,
        )
        commit()
    settings = north.settings(
        OIDC_DISPLAY_NAME="North Trust account",
        OIDC_PROVIDERS={"south-trust": south.entry("South Trust account")},
    )
    with app_settings(app, settings):
        yield north, south


def at_provider(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()


def test_the_sign_in_page_with_two_providers(page, live_server, two_organisations, axe_check):
    for width, (wide, high) in WIDTHS.items():
        page.set_viewport_size({"width": wide, "height": high})
        page.goto("/login")
        axe_check(page)
        expect(page.get_by_role("button", name="Sign in with North Trust account")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in with South Trust account")).to_be_visible()
        shot(page, f"c-sign-in-two-providers-{width}")
    # the email-first path: South's address goes to South's provider
    page.get_by_label("Work email address").fill("sid.south@south.nhs.uk")
    page.get_by_role("button", name="Continue").click()
    at_provider(page, "sid.south@south.nhs.uk")
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("body")).to_contain_text("Sid South")
    axe_check(page)
    page.get_by_role("button", name="Sign out").click()
    # an unknown domain comes back with the address typed
    page.goto("/login")
    page.get_by_label("Work email address").fill("someone@elsewhere.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("elsewhere.org")
    expect(page.get_by_label("Work email address")).to_have_value("someone@elsewhere.org")
    axe_check(page)
    shot(page, "c-sign-in-unknown-domain-1280")


def test_south_provider_refuses_a_north_person(page, live_server, two_organisations, axe_check):
    page.goto("/login")
    page.get_by_role("button", name="Sign in with South Trust account").click()
    at_provider(page, "pat.prac@example.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sign in with your own organisation's account"
    )
    axe_check(page)
    shot(page, "c-sign-in-wrong-organisation-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    page.get_by_role("link", name="Choose your organisation's sign-in").click()
    page.get_by_role("button", name="Sign in with North Trust account").click()
    # the north provider still remembers nobody: sign in there as Pat
    at_provider(page, "pat.prac@example.nhs.uk")
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("body")).to_contain_text("Pat Prac")
