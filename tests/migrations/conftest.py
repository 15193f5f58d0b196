"""A scratch database for migration tests, apart from the suite's own.

SQLite: a new file per test. PostgreSQL (TEST_DATABASE_URL): a database named after the
suite's with `_upgrade` appended, on the same server, created for the session and dropped
after it; each test starts it with an empty schema. The suite's own database is not touched.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from competency_app import create_app
from competency_app.extensions import db


@pytest.fixture(autouse=True)
def _clean_database():
    """These tests use their own database, not the session app's (no table emptying)."""
    yield


def _postgresql_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def _postgresql_scratch():
    base = _postgresql_url()
    if base is None:
        yield None
        return
    url = make_url(base)
    name = f"{url.database}_upgrade"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def scratch_url(tmp_path, _postgresql_scratch) -> str:
    """An empty database for one test."""
    if _postgresql_scratch is None:
        return f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    engine = create_engine(_postgresql_scratch)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return _postgresql_scratch


@pytest.fixture
def scratch_app(scratch_url):
    """The app on the scratch database, inside an app context (migrations run in it)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
