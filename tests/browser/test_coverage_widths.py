"""Every coverage page fits the screen at 1,280 and 390 px, passes axe, and shows the
matrix in a layout people can read: sticky first column and header with a scroll cue on
wide screens, one card per element on narrow ones (without JavaScript too)."""

from __future__ import annotations

import pytest

from competency_app.accounts.models import Role
from competency_app.assessments import services
from competency_app.extensions import db
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import commit, make_team, make_user, reflect_on_values
from tests.fixtures.second_framework import elements, write_second_framework

WIDTHS = (1280, 390)
MEMBERS = [
    "aisha.khan-adeyemi",
    "ben.hughes",
    "chloe.evans-whitfield",
    "daniel.okafor",
    "emma.walsh",
    "farid.rahman",
    "grace.lewis",
    "harry.patel",
    "isla.macdonald",
]
# Values for the URL arguments of coverage pages; a new page with another argument must
# be given one here, so that no coverage page escapes this test.
ELEMENT_KEYS = ("4b", "2")


def rate_team(slug: str, name: str) -> int:
    """A supervisor, a manager and nine members with varied validated levels; returns the
    first member's id."""
    team = make_team(slug, name)
    supervisor = make_user(f"sue.{slug}", Role.SUPERVISOR, team=team)
    make_user(f"max.{slug}", Role.MANAGER, team=team)
    first = None
    for p, local in enumerate(MEMBERS):
        person = make_user(f"{local}.{slug}", Role.PRACTITIONER, team=team, supervisor=supervisor)
        first = first or person.id
        assessment = services.start_assessment(person)
        scale = [lvl.value for lvl in assessment.framework_version.settings.scale.levels]
        for e, element in enumerate(services.elements_of(assessment.framework_version)):
            # every third (member, element) at the top of the scale, the rest a mixture
            top = (p + e) % 3 == 0
            levels = {
                s.id: (scale[-1] if top else scale[(i + p) % len(scale)], "")
                for i, s in enumerate(element.skills)
            }
            services.save_element(assessment, person, element, levels, None)
        reflect_on_values(assessment, person)
        services.submit(assessment, person, None)
        services.validate(assessment, supervisor, {}, None)
    commit()
    return first


def coverage_urls(app, slug: str, member_id: int, element_keys) -> list[str]:
    """Every HTML page of the coverage blueprint, its arguments filled in."""
    values = {"slug": [slug], "key": list(element_keys), "user_id": [member_id]}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("coverage.") or "GET" not in rule.methods:
            continue
        if rule.rule.startswith("/api/") or "fmt" in rule.arguments:
            continue  # JSON and images: no page to lay out
        missing = rule.arguments - set(values)
        assert not missing, f"give {rule.rule} a value for {missing} in this test"
        combos = [{}]
        for name in sorted(rule.arguments):
            combos = [{**c, name: v} for c in combos for v in values[name]]
        with app.test_request_context():
            from flask import url_for

            urls += [url_for(rule.endpoint, **args) for args in combos]
    return sorted(set(urls))


def open_signed_in(browser, live_server, width: int, local: str, javascript: bool = True):
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": width, "height": 900},
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, local)
    page.wait_for_url("**/")
    return context, page


def measure(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.fixture
def keyworking_team(app, framework):
    with app.app_context():
        member = rate_team("north", "North keyworking team")
        db.session.remove()
    return member


def test_every_coverage_page_fits_at_both_widths(
    app, browser, live_server, keyworking_team, axe_check
):
    urls = coverage_urls(app, "north", keyworking_team, ELEMENT_KEYS)
    assert "/teams/north/coverage" in urls and "/teams/north/training-plan" in urls
    figures = []
    for width in WIDTHS:
        context, page = open_signed_in(browser, live_server, width, "max.north")
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, url
            axe_check(page)
            scroll, inner = measure(page)
            figures.append(f"{width} px {url}: scrollWidth {scroll}, innerWidth {inner}")
            name = url.strip("/").replace("/", "_")
            screenshot(page, f"widths-{name}-{width}")
            assert scroll <= inner, f"{url} is {scroll} px wide on a {inner} px screen"
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "coverage-widths.txt").write_text("\n".join(figures) + "\n")


def test_wide_matrix_keeps_names_in_view_and_says_it_scrolls(browser, live_server, keyworking_team):
    context, page = open_signed_in(browser, live_server, 1280, "max.north")
    page.goto("/teams/north/coverage")
    box = page.locator(".app-matrix-wide .app-table-scroll")
    assert box.is_visible() and not page.locator(".app-matrix-stacked").is_visible()
    overflows = box.evaluate("b => b.scrollWidth > b.clientWidth")
    assert overflows  # nine members do not fit beside the element names at 1,280 px
    cue = page.locator(".app-matrix-wide .app-scroll-cue")
    assert cue.is_visible() and cue.inner_text().startswith("Scroll sideways to see all 9 members")
    first_column = box.locator("tbody th").first
    header = box.locator("thead th").first
    assert first_column.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert header.evaluate("e => getComputedStyle(e).position") == "sticky"
    # scrolled to the far right, the element names are still where they were
    before = first_column.bounding_box()["x"]
    box.evaluate("b => { b.scrollLeft = b.scrollWidth }")
    assert first_column.bounding_box()["x"] == pytest.approx(before, abs=1)
    assert page.locator("thead th", has_text="Isla").first.is_visible()
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_narrow_matrix_is_one_card_per_element(browser, live_server, keyworking_team, javascript):
    context, page = open_signed_in(browser, live_server, 390, "max.north", javascript)
    page.goto("/teams/north/coverage")
    assert not page.locator(".app-matrix-wide").is_visible()
    cards = page.locator(".app-matrix-stacked details")
    assert cards.count() == 8
    cards.first.locator("summary").click()
    text = cards.first.inner_text()
    for local in MEMBERS:
        assert local.split(".")[0].title() in text
    assert measure(page)[0] <= 390
    screenshot(page, f"widths-narrow-matrix-{'script' if javascript else 'no-script'}")
    context.close()


@pytest.fixture
def rehabilitation_team(app, runner, framework, tmp_path):
    result = runner.invoke(args=["load-framework", str(write_second_framework(tmp_path))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        member = rate_team("east", "East rehabilitation team")
        db.session.remove()
    return member


def test_second_framework_pages_fit_at_both_widths(app, browser, live_server, rehabilitation_team):
    """The same templates as above (axe-checked there), with 13 elements and 299 skills."""
    keys = (elements()[-1]["id"],)  # the element named by its id (no short label)
    urls = [u for u in coverage_urls(app, "east", rehabilitation_team, keys) if "/coverage" in u]
    for width in WIDTHS:
        context, page = open_signed_in(browser, live_server, width, "max.east")
        for url in urls:
            assert page.goto(url).status == 200, url
            scroll, inner = measure(page)
            assert scroll <= inner, f"{url} is {scroll} px wide on a {inner} px screen"
        page.goto("/teams/east/coverage")
        screenshot(page, f"widths-rehabilitation-coverage-{width}")
        context.close()


FRAMEWORK_PAGES = (
    "/framework",
    "/framework/values",
    "/framework/elearning",
    "/framework/person-specification",
    "/framework/elements/4b",
    "/framework/versions",
)


def test_framework_pages_fit_at_both_widths(browser, live_server, keyworking_team, axe_check):
    for width in WIDTHS:
        context, page = open_signed_in(browser, live_server, width, "max.north")
        for url in FRAMEWORK_PAGES:
            assert page.goto(url).status == 200, url
            axe_check(page)
            scroll, inner = measure(page)
            assert scroll <= inner, f"{url} is {scroll} px wide on a {inner} px screen"
        context.close()
