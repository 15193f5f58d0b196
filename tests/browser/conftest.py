"""Browser fixtures: the app served on 127.0.0.1 in a thread, Debian's Chromium, axe-core.

Browser tests skip when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (as in CI),
where a missing browser is a failure. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    # Werkzeug's development server can leave a static file open when the browser drops a
    # connection (favicons); that is the test server's behaviour, not the application's.
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
    if CHROMIUM.exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
    skip = pytest.mark.skip(reason="Debian's Chromium is not installed (/usr/bin/chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(app):
    """Serve the session's app on a free loopback port for the whole session."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []

    def on_console(message):
        # A form sent back with errors answers 400 by design: not a page fault.
        if message.type == "error" and "status of 400" not in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


# Every visible form control's accessible name, as a screen reader announces it: from
# aria-labelledby, aria-label, its <label>s, a button's text or value, else its title. A
# radio or checkbox is announced within its group, so its group's legend leads its name.
CONTROL_NAMES = """
() => {
  const clean = (text) => (text || "").replace(/\\s+/g, " ").trim();
  const byIds = (ids) => ids.split(/\\s+/).map((id) => {
    const target = document.getElementById(id);
    return target ? target.textContent : "";
  }).join(" ");
  const nameOf = (el) => {
    if (el.getAttribute("aria-labelledby")) return clean(byIds(el.getAttribute("aria-labelledby")));
    if (el.getAttribute("aria-label")) return clean(el.getAttribute("aria-label"));
    if (el.labels && el.labels.length) {
      return clean(Array.from(el.labels).map((l) => l.textContent).join(" "));
    }
    if (el.tagName === "BUTTON") return clean(el.textContent);
    if (el.tagName === "INPUT" && ["submit", "button", "reset"].includes(el.type)) {
      return clean(el.value);
    }
    return clean(el.getAttribute("title") || el.getAttribute("placeholder"));
  };
  const controls = document.querySelectorAll("input, select, textarea, button");
  const names = [];
  for (const el of controls) {
    if (el.type === "hidden" || el.getClientRects().length === 0) continue;
    let name = nameOf(el);
    if (["radio", "checkbox"].includes(el.type)) {
      const legend = el.closest("fieldset")?.querySelector("legend");
      if (legend) name = clean(legend.textContent) + " – " + name;
    }
    names.push({name, id: el.id || el.name || el.tagName.toLowerCase()});
  }
  return names;
}
"""


def duplicate_control_names(page) -> dict[str, list[str]]:
    """Accessible names shared by two or more visible form controls of the page (with the
    ids or names of the controls): a screen-reader user cannot tell those apart."""
    seen: dict[str, list[str]] = {}
    for control in page.evaluate(CONTROL_NAMES):
        if control["name"]:
            seen.setdefault(control["name"].casefold(), []).append(control["id"])
    return {name: ids for name, ids in seen.items() if len(ids) > 1}


class AxeChecker:
    """Runs axe-core on a page; collects serious and critical violations per URL."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.pages_checked: list[str] = []

    def __call__(self, page) -> None:
        # A click that navigates returns before the next page has loaded: scanning then
        # reads a document being replaced (null documentElement, half-painted colours).
        page.wait_for_load_state("load")
        results = self.axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        self.pages_checked.append(page.url)
        assert not bad, f"axe violations on {page.url}:\n" + "\n".join(bad)
        # No page wider than the screen: wide tables scroll inside their own box.
        wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide <= screen, f"{page.url} is {wide} px wide on a {screen} px screen"
        # No two form controls share an accessible name.
        shared = duplicate_control_names(page)
        assert not shared, f"form controls sharing an accessible name on {page.url}: " + "; ".join(
            f"{name!r} ({', '.join(ids)})" for name, ids in shared.items()
        )


@pytest.fixture(scope="session")
def axe_check():
    return AxeChecker()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
