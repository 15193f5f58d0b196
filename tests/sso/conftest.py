"""The local OpenID provider, started once for the sign-in tests (see local_provider.py)."""

from __future__ import annotations

import pytest

from tests.sso.local_provider import LocalProvider

CALLBACK = "http://localhost/login/sso/callback"  # the test client's address


@pytest.fixture(scope="session")
def provider():
    running = LocalProvider([CALLBACK])
    yield running
    running.stop()
