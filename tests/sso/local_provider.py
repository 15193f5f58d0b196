"""A real OpenID Connect provider for the sign-in tests: `oidc-provider` under Node.

`provider/provider.mjs` runs the certified npm package with its own sign-in and consent pages
and the test users below. The first use installs it (`npm ci`, from the committed lock file)
when `provider/node_modules` is missing. Without Node the tests that need it skip, unless
REQUIRE_BROWSER=1 or CI is set, where a missing Node fails the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID = "competency-app"
CLIENT_SECRET = "a-test-client-secret-of-the-local-provider"
PROVIDER_PASSWORD = "provider-password-2026"
NAME = "Test Trust account"


def provider_user(sub: str, email: str, *, verified: bool = True, groups=()) -> dict:
    return {
        "sub": sub,
        "email": email,
        "email_verified": verified,
        "name": email.split("@")[0].replace(".", " ").title(),
        "password": PROVIDER_PASSWORD,
        "groups": list(groups),
    }


# The provider's directory: people the app knows, and people it does not.
USERS = [
    provider_user("sub-pat", "pat.prac@example.nhs.uk"),
    provider_user("sub-ada", "ada.admin@example.nhs.uk"),
    provider_user("sub-stranger", "stranger@example.nhs.uk"),
    provider_user("sub-unverified", "una.verified@example.nhs.uk", verified=False),
    provider_user("sub-sue", "sue.super@example.nhs.uk", groups=["kw-north-supervisors"]),
    provider_user("sub-new-pat", "pat.prac.new@example.nhs.uk"),
    provider_user("sub-newcomer", "nina.newcomer@example.nhs.uk", groups=["kw-north-managers"]),
    provider_user("sub-mo", "mo.mapped@example.nhs.uk", groups=["kw-north-managers"]),
    # a directory whose name holds a line break, and one whose address has a display part
    {**provider_user("sub-carla", "carla.crlf@example.nhs.uk"), "name": "Carla\r\nBcc: x"},
    provider_user("sub-odd", "odd<evil@attacker.example>"),
]


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI"):
            pytest.fail("Node is needed for the local OpenID provider and is missing")
        pytest.skip("Node is not installed: the local OpenID provider cannot run")
    return node


def ensure_installed() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install the local OpenID provider")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        timeout=300,
    )


class LocalProvider:
    """One running provider process; `issuer` is its address on 127.0.0.1."""

    def __init__(
        self,
        redirect_uris: list[str],
        users: list[dict] = USERS,
        *,
        post_logout_redirect_uris: Sequence[str] = (),
        end_session: bool = True,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ):
        """`end_session` False: a provider without RP-initiated logout (no
        end_session_endpoint in its discovery document). Each provider started listens on
        its own port (its own issuer); `client_id` and `client_secret` register this app."""
        self.client_id, self.client_secret = client_id, client_secret
        node = node_or_skip()
        ensure_installed()
        self.log = tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log")  # noqa: SIM115
        env = {
            **os.environ,
            "OIDC_TEST_CLIENTS": json.dumps(
                [
                    {
                        "client_id": client_id,
                        "client_secret": client_secret,
                        "redirect_uris": redirect_uris,
                        "post_logout_redirect_uris": list(post_logout_redirect_uris),
                    }
                ]
            ),
            "OIDC_TEST_USERS": json.dumps(users),
            "OIDC_TEST_CONTROL": "1",
            "OIDC_TEST_NO_LOGOUT": "" if end_session else "1",
        }
        self.process = subprocess.Popen(
            [node, "provider.mjs"],
            cwd=PROVIDER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.issuer = self._wait_for_issuer()

    def _wait_for_issuer(self, timeout: float = 30) -> str:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                line = self.process.stdout.readline()
                if line.startswith("listening "):
                    return line.split()[1]
                if not line:
                    break
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"the OpenID provider did not start: {self.log.read()[-2000:]!r}")

    def spoil_next_id_token(self, how: str) -> None:
        """The next token response carries an ID token spoiled in this way (provider.mjs)."""
        response = requests.post(
            f"{self.issuer}/test-control/next-id-token", data={"spoil": how}, timeout=10
        )
        assert response.status_code == 204

    def set_groups(self, sub: str, groups: list[str]) -> None:
        """Change a person's groups in the provider's directory (their next ID token)."""
        response = requests.post(
            f"{self.issuer}/test-control/groups",
            data={"sub": sub, "groups": json.dumps(groups)},
            timeout=10,
        )
        assert response.status_code == 204

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()

    def settings(self, **changes) -> dict:
        """App settings for this provider (override any with `changes`)."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_SCOPES": "openid email profile groups",
            "OIDC_DISPLAY_NAME": NAME,
            "OIDC_GROUPS_CLAIM": "",
            "OIDC_GROUP_ROLES": (),
            "OIDC_CREATE_ACCOUNTS": False,
            "OIDC_NEW_ACCOUNT_TEAM": "",
            "OIDC_TOKEN_AUTH_METHOD": "client_secret_basic",
            **changes,
        }

    def entry(self, display_name: str, **changes) -> dict:
        """This provider as an entry of OIDC_PROVIDERS."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "display_name": display_name,
            "scopes": "openid email profile groups",
            **changes,
        }

    def authorise(
        self,
        authorisation_url: str,
        email: str,
        *,
        consent: bool = True,
        browser: requests.Session | None = None,
    ) -> str:
        """Sign in at the provider's own pages as `email` (a person of USERS) and allow or
        deny access; returns the URL the provider sends the browser back to. `browser`
        keeps the provider's cookies from one call to the next (one shared computer);
        without it every call is a new browser."""
        browser = browser or requests.Session()
        url = authorisation_url
        for _ in range(12):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            assert response.status_code == 200, response.text[:500]
            action = urlsplit(url).path
            if 'name="password"' in response.text:
                data = {"login": email, "password": PROVIDER_PASSWORD}
                response = browser.post(
                    f"{self.issuer}{action}/login", data=data, allow_redirects=False, timeout=10
                )
            else:
                step = "confirm" if consent else "abort"
                response = browser.post(
                    f"{self.issuer}{action}/{step}", allow_redirects=False, timeout=10
                )
            assert response.status_code in (302, 303), response.text[:500]
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider never sent the browser back")

    def asks_for_credentials(self, authorisation_url: str, browser: requests.Session) -> bool:
        """Whether the provider asks this browser for a password (rather than sending it
        straight back to the app as someone still signed in there)."""
        url = authorisation_url
        for _ in range(12):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code not in (302, 303):
                return 'name="password"' in response.text
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return False
        raise AssertionError("the provider kept redirecting")

    def end_session(self, end_session_url: str, browser: requests.Session) -> str:
        """Answer the provider's sign-out question with yes; returns where it sends the
        browser then."""
        page = browser.get(end_session_url, allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.text[:500]
        action = re.search(r'<form id="op.logoutForm" method="post" action="([^"]+)"', page.text)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
        assert action and xsrf, page.text[:500]
        response = browser.post(
            urljoin(end_session_url, action.group(1)),
            data={"xsrf": xsrf.group(1), "logout": "yes"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 303, response.text[:500]
        return response.headers["Location"]


@contextlib.contextmanager
def app_settings(app, settings: dict):
    """Apply `settings` to the session's app for one test, then put the old values back."""
    missing = object()
    saved = {key: app.config.get(key, missing) for key in settings}
    app.config.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is missing:
                app.config.pop(key, None)
            else:
                app.config[key] = value
