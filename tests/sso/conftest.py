"""The local OpenID provider, started once for the sign-in tests (see local_provider.py)."""

from __future__ import annotations

import pytest

from tests.sso.local_provider import LocalProvider

CALLBACK = "http://localhost/login/sso/callback"  # the test client's address
SIGNED_OUT = "http://localhost/login"  # where the provider sends people after signing out


@pytest.fixture(scope="session")
def provider():
    running = LocalProvider([CALLBACK], post_logout_redirect_uris=[SIGNED_OUT])
    yield running
    running.stop()
