"""Start-up refuses throttling that would not hold; ids out of range; the API's refusals in
JSON; HSTS over HTTPS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from competency_app import create_app
from competency_app.accounts.models import Role
from competency_app.config import load_settings, require_job_queue, require_shared_rate_limits
from competency_app.extensions import limiter
from competency_app.routing import _up_to
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

ROOT = Path(__file__).resolve().parents[2]


def _gunicorn(tmp_path, **env) -> subprocess.CompletedProcess:
    """gunicorn with the repository's gunicorn.conf.py, as production starts it."""
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("RATELIMIT_STORAGE_URI", "APP_ENV")},
        "SECRET_KEY": "x" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}",
        "GUNICORN_BIND": "127.0.0.1:0",
        "JSON_LOGS": "0",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "competency_app:create_app()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,  # a server that started would be stopped here and fail the test
    )


@pytest.mark.parametrize("app_env", ["production", "development"])
def test_two_workers_with_memory_rate_limits_refuse_to_start(tmp_path, app_env):
    result = _gunicorn(tmp_path, APP_ENV=app_env, GUNICORN_WORKERS="2")
    assert result.returncode != 0
    assert "Set RATELIMIT_STORAGE_URI to a Redis URL" in result.stderr
    assert "Booting worker" not in result.stderr  # refused before any worker served


def test_the_rule_refuses_memory_in_production_or_with_workers_only(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    development = load_settings("development")
    require_shared_rate_limits(development, workers=1)  # the demo: one process, memory is fine
    with pytest.raises(RuntimeError, match="2 workers"):
        require_shared_rate_limits(development, workers=2)
    shared = {
        **load_settings("production"),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/2",
        "JOBS_IN_PROCESS": True,
    }
    require_shared_rate_limits(shared, workers=8)
    saved = limiter._storage, limiter._limiter  # init_app replaces the session app's storage
    try:
        create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://", **shared})
    finally:
        limiter._storage, limiter._limiter = saved


def test_production_without_a_job_queue_refuses_to_start(monkeypatch):
    """Without JOBS_REDIS_URL production jobs would silently run inside web requests."""
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    for name in ("JOBS_REDIS_URL", "JOBS_IN_PROCESS"):
        monkeypatch.delenv(name, raising=False)
    shared = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_STORAGE_URI": "redis://x:1/0"}
    with pytest.raises(RuntimeError, match=r"JOBS_REDIS_URL is not set.*JOBS_IN_PROCESS=1"):
        create_app("production", shared)
    production = {**load_settings("production"), **shared}
    require_job_queue({**production, "JOBS_REDIS_URL": "redis://redis-host:6379/1"})
    monkeypatch.setenv("JOBS_IN_PROCESS", "1")  # one small site, on purpose
    require_job_queue(load_settings("production"))
    require_job_queue(load_settings("development"))  # the demo runs jobs in-process


@pytest.fixture
def signed_in_admin(app, client, framework):
    with app.app_context():
        make_user("ada.admin", Role.ADMIN)
        make_user("pat.prac", Role.PRACTITIONER, team=make_team("north"))
        commit()
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    return client


@pytest.mark.parametrize("value", [2**63, 2**64 + 5, 2**31, 10**30])
def test_ids_out_of_range_are_404_on_every_route(app, signed_in_admin, value):
    int_rules = [r for r in app.url_map.iter_rules() if "int" in str(r)]
    assert len(int_rules) >= 12
    for rule in int_rules:
        path = str(rule)
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__
            replacement = str(value) if "Integer" in converter else "1a"
            path = path.replace(f"<int:{name}>", replacement).replace(f"<{name}>", replacement)
        path = path.replace("<fmt>", "svg")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = signed_in_admin.open(path, method=method)
            assert response.status_code == 404, f"{method} {path}"


def test_profile_of_id_two_to_the_63_is_404(signed_in_admin):
    assert signed_in_admin.get("/people/9223372036854775808/profile").status_code == 404


def test_api_refusals_are_json(app, client, framework):
    with app.app_context():
        north = make_team("north")
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        make_user("max.manager", Role.MANAGER, team=north)
        commit()
    response = client.get("/api/v1/teams/north/coverage")
    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"] == "unauthorised"
    assert "Location" not in response.headers
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    response = client.get("/api/v1/teams/north/coverage")
    assert response.status_code == 403
    assert response.is_json and response.get_json()["error"] == "forbidden"
    response = client.get("/api/v1/teams/no-such-team/coverage")
    assert response.status_code in (403, 404) and response.is_json
    manager = app.test_client()
    sign_in(manager, "max.manager@example.nhs.uk", PASSWORD)
    assert manager.get("/api/v1/teams/north/coverage").get_json()["team"]["slug"] == "north"


def test_hsts_over_https_only(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    header = client.get("/login", base_url="https://localhost").headers
    assert header["Strict-Transport-Security"].startswith("max-age=31536000")
    # a forged X-Forwarded-Proto is ignored unless a trusted proxy is configured
    forged = client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" not in forged
    saved = limiter._storage, limiter._limiter
    try:
        behind_proxy = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "TRUSTED_PROXIES": 1,
            },
        )
        https_only = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "PREFERRED_URL_SCHEME": "https",
            },
        )
    finally:
        limiter._storage, limiter._limiter = saved
    response = behind_proxy.test_client().get(
        "/healthz/live", headers={"X-Forwarded-Proto": "https"}
    )
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert (
        "max-age="
        in https_only.test_client().get("/healthz/live").headers["Strict-Transport-Security"]
    )


def test_numbers_in_query_strings_out_of_range_or_odd_are_refused_cleanly(signed_in_admin):
    for raw in ("9223372036854775808", "2147483648", "²", "0"):
        assert signed_in_admin.get(f"/framework/values?version={raw}").status_code == 404, raw
        assert signed_in_admin.get(f"/admin/audit?page={raw}").status_code == 200, raw
        response = signed_in_admin.get(f"/framework/versions/compare?from={raw}&to=1")
        assert response.status_code == 400, raw


@pytest.mark.parametrize("limit", [0, 1, 9, 10, 99, 100, 305, 2**31 - 1])
def test_the_id_pattern_matches_exactly_zero_to_the_bound(limit):
    # Werkzeug matches a URL's shape before converting: the bound lives in the pattern too,
    # so a GET-only and a POST-only rule of one shape both answer 404 beyond it (not 405).
    pattern = re.compile(_up_to(limit) + r"\Z")
    candidates = [*range(min(limit, 2000) + 50), limit - 1, limit, limit + 1, limit * 10 + 7]
    for number in (n for n in candidates if n >= 0):
        assert bool(pattern.match(str(number))) == (number <= limit), number
