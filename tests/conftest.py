"""Shared fixtures: one app per test session, a clean database for every test.

The database is SQLite in a temporary folder, or the PostgreSQL database named by
TEST_DATABASE_URL. The schema is built by the real Alembic migrations, every table is
emptied after each test, and the schema is dropped at the end, so a run leaves nothing.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from competency_app import create_app
from competency_app.common.caches import clear_caches
from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.extensions import db, limiter
from competency_app.framework.loader import parse_framework
from competency_app.framework.services import load_framework

ROOT = Path(__file__).resolve().parent.parent


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory)},
    )
    with app.app_context():
        _drop_everything()
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        _drop_everything()
        db.engine.dispose()


def _drop_everything() -> None:
    """Remove tables left by an interrupted earlier run (PostgreSQL keeps them)."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_database(request, app):
    """Each test starts with empty tables and the real clock."""
    yield
    app.config.pop("FROZEN_NOW", None)
    limiter.reset()
    clear_caches()
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture(scope="session")
def framework_bytes() -> bytes:
    return Path(os.environ.get("FRAMEWORK_PATH", DEFAULT_FRAMEWORK_PATH)).read_bytes()


@pytest.fixture(scope="session")
def framework_document(framework_bytes):
    return parse_framework(framework_bytes, "framework.yaml")


@pytest.fixture
def framework(app, framework_document):
    """The real framework loaded as version 1."""
    with app.app_context():
        version = load_framework(framework_document, "framework.yaml", loaded_by="test").version
        db.session.commit()
        number = version.number
        db.session.remove()
    return number


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email: str, password: str, follow: bool = False):
    """Sign in through the real form (CSRF token included)."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=follow,
    )


def post_form(client, path: str, data: dict | None = None, follow: bool = False):
    """POST to `path` with the CSRF token taken from the page at `path`."""
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=follow)


def preview_import(client, kind: str, text: str, filename: str = "import.csv"):
    """Upload `text` as a CSV to the import preview (`kind`: roster or completions)."""
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    return client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(text.encode()), filename)},
        content_type="multipart/form-data",
    )
