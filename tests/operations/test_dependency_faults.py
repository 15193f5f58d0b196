"""Dependencies taken away and given back with real processes: a redis-server the test
starts and stops under the sign-in limits, a TCP proxy cut in front of PostgreSQL. Each
answer while down is a 503 (JSON under /api and /healthz), never a 500, and the app recovers
without a restart. Errors the database raises for bad input are not outages."""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager

import pytest
import redis
from limits.errors import StorageError
from limits.storage import storage_from_string
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from competency_app import create_app
from competency_app.accounts.models import Role
from competency_app.accounts.permissions import PUBLIC, access
from competency_app.api.tokens import create_token
from competency_app.common.outages import database_unreachable, failure_name, store_unreachable
from competency_app.config import rate_limit_storage_options
from competency_app.extensions import db, limiter
from competency_app.jobs.queue import configure_queue
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user
from tests.notifications.conftest import free_port
from tests.operations.faults import RedisServer, TcpProxy, requires_redis_server

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@contextmanager
def separate_app(session_app, **settings):
    """An app of the test's own on the session's database (unless `settings` say otherwise),
    answering errors as production does (no exception passed through to the test). The
    extensions are shared by every app of the process: the session app's are given back."""
    saved = limiter._storage, limiter._limiter
    overrides = {
        "SQLALCHEMY_DATABASE_URI": session_app.config["SQLALCHEMY_DATABASE_URI"],
        "PROPAGATE_EXCEPTIONS": False,
        **settings,
    }
    app = create_app("testing", overrides)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        limiter._storage, limiter._limiter = saved
        configure_queue(session_app)


def timed(call, *args, **kwargs):
    started = time.perf_counter()
    response = call(*args, **kwargs)
    return response, time.perf_counter() - started


def post_sign_in(client, password: str = PASSWORD):
    return client.post(
        "/login",
        data={
            "email": "max.manager@example.nhs.uk",
            "password": password,
            "csrf_token": csrf_from(client.get("/login").get_data(as_text=True)),
        },
    )


@pytest.fixture
def manager(app, framework):
    with app.app_context():
        user = make_user("max.manager", Role.MANAGER, team=make_team("north"))
        secret = create_token(user, "reporting", 90).secret
        commit()
    return secret


@requires_redis_server
def test_sign_in_answers_503_while_the_limits_store_is_down_and_recovers(
    app, manager, tmp_path, caplog
):
    server = RedisServer(tmp_path)
    server.start()
    try:
        with separate_app(app, RATELIMIT_STORAGE_URI=server.url) as limited:
            client = limited.test_client()
            assert post_sign_in(client, "not-the-password").status_code == 200  # counted
            health = client.get("/healthz")
            assert health.status_code == 200
            assert health.get_json()["rate_limit_store"] == "up"

            server.stop()
            stranger = limited.test_client()
            assert stranger.get("/login").status_code == 200  # the form needs no limits
            with caplog.at_level(logging.ERROR, logger="competency_app"):
                response, seconds = timed(lambda: post_sign_in(stranger))
            assert response.status_code == 503, response.status_code
            page = response.get_data(as_text=True)
            assert "Sorry, the service is unavailable" in page and "Traceback" not in page
            assert "Signing in cannot be checked safely" in page
            assert response.headers["Retry-After"] == "60"
            assert seconds < 3
            assert (
                "sign-in limits' store unavailable (StorageError "
                "(redis.exceptions.ConnectionError)) on POST /login"
            ) in caplog.text
            health = stranger.get("/healthz")
            assert health.status_code == 503
            assert health.get_json() == {
                "status": "unavailable",
                "database": "up",
                "rate_limit_store": "down",
                "job_queue": "in-process",
            }
            assert stranger.get("/healthz/live").status_code == 200
            print(f"limits store down: sign-in {response.status_code} in {seconds:.3f} s")

            server.start()  # the same port: the app was not restarted
            response, seconds = timed(lambda: post_sign_in(stranger))
            assert response.status_code == 303, response.status_code
            assert stranger.get("/healthz").status_code == 200
            print(f"limits store back: sign-in {response.status_code} in {seconds:.3f} s")
    finally:
        server.stop()


@requires_redis_server
def test_healthz_reports_the_job_queue_down(app, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    try:
        with separate_app(app, JOBS_REDIS_URL=server.url) as queued:
            client = queued.test_client()
            assert client.get("/healthz").get_json()["job_queue"] == "up"
            server.stop()
            response = client.get("/healthz")
            assert response.status_code == 503
            assert response.get_json()["job_queue"] == "down"
            assert response.get_json()["database"] == "up"
    finally:
        server.stop()


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="a TCP proxy cut applies to PostgreSQL (TEST_DATABASE_URL)"
)
def test_database_cut_gives_json_503_with_or_without_a_cookie_and_recovers(app, manager):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    # connect_timeout: a connection the proxy accepts but never answers fails in 2 s
    through_proxy = url.set(
        host="127.0.0.1", port=proxy.port, query={**url.query, "connect_timeout": "2"}
    ).render_as_string(hide_password=False)
    try:
        with separate_app(app, SQLALCHEMY_DATABASE_URI=through_proxy) as cut_app:
            signed_in, stranger = cut_app.test_client(), cut_app.test_client()
            assert sign_in(signed_in, "max.manager@example.nhs.uk", PASSWORD).status_code == 303
            bearer = {"Authorization": f"Bearer {manager}"}
            assert signed_in.get("/api/v1/teams").status_code == 200
            assert stranger.get("/api/v1/teams", headers=bearer).status_code == 200

            proxy.stop()
            answers, slowest = {}, 0.0
            for who, client, headers in (
                ("stranger", stranger, {}),
                ("cookie", signed_in, {}),
                ("token", stranger, bearer),
            ):
                for path in ("/healthz", "/healthz/live", "/api/v1/teams", "/"):
                    response, seconds = timed(client.get, path, headers=headers)
                    slowest = max(slowest, seconds)
                    answers[who, path] = response.status_code
                    assert "Traceback" not in response.get_data(as_text=True)
                    if path == "/healthz/live":  # liveness: the process answers
                        assert response.status_code == 200 and response.data == b"ok"
                    elif path.startswith(("/api/", "/healthz")):
                        assert response.is_json, (who, path)
                        if (who, path) != ("stranger", "/api/v1/teams"):  # 401 needs no data
                            assert response.status_code == 503, (who, path, answers)
                            if path.startswith("/api/"):
                                assert response.headers["Retry-After"] == "60"
                    elif who == "cookie":  # a page (a token is for the API only)
                        assert response.status_code == 503, (who, path)
                        assert "cannot reach its database" in response.get_data(as_text=True)
            assert answers["stranger", "/api/v1/teams"] == 401
            assert signed_in.get("/healthz").get_json()["database"] == "down"
            assert post_sign_in(stranger).status_code == 503
            print(f"database cut: {answers}, slowest answer {slowest:.3f} s")
            assert slowest < 2

            proxy.hang()  # the address answers nothing: the connect timeout bounds the wait
            response, seconds = timed(lambda: signed_in.get("/api/v1/teams"))
            assert response.status_code == 503 and response.is_json
            print(f"database unanswering: {response.status_code} in {seconds:.2f} s")
            assert seconds < 4

            proxy.stop()
            proxy.start()  # back, with the same app
            response, seconds = timed(lambda: signed_in.get("/api/v1/teams"))
            assert response.status_code == 200, response.status_code
            assert signed_in.get("/healthz").status_code == 200
            assert stranger.get("/api/v1/teams", headers=bearer).status_code == 200
            assert sign_in(stranger, "max.manager@example.nhs.uk", PASSWORD).status_code == 303
            print(f"database back: first API answer 200 in {seconds:.3f} s")
    finally:
        proxy.stop()


def test_a_nul_in_a_path_is_404_not_an_outage(app, client, manager):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    assert client.get("/teams/%00/coverage").status_code == 404
    assert client.get("/teams/north%00/coverage").status_code == 404
    response = client.get("/api/v1/teams/%00/coverage")
    assert response.status_code == 404 and response.is_json
    assert client.get("/teams/north/coverage").status_code == 200


def test_database_errors_that_are_not_outages_are_4xx_or_500(app, caplog):
    """Real errors from the database under test, through the app's handlers: a value it
    refuses is a 400, a fault (a missing table) a 500; neither is the outage page."""
    with separate_app(app) as probe_app:

        @access(PUBLIC)
        def cast(value: str):
            # PostgreSQL refuses the value (DataError); SQLite converts what it can
            statement = "SELECT CAST(:value AS integer)" if ON_POSTGRESQL else "SELECT :value"
            db.session.execute(text(statement), {"value": value})
            return "read"

        @access(PUBLIC)
        def missing_table():
            db.session.execute(text("SELECT * FROM no_such_table"))
            return "read"

        probe_app.add_url_rule("/probe/cast/<value>", view_func=cast)
        probe_app.add_url_rule("/api/probe/cast/<value>", "api_cast", view_func=cast)
        probe_app.add_url_rule("/probe/missing", view_func=missing_table)
        client = probe_app.test_client()
        with caplog.at_level(logging.WARNING, logger="competency_app"):
            assert client.get("/probe/cast/12").status_code == 200
            if ON_POSTGRESQL:
                assert client.get("/probe/cast/twelve").status_code == 400
                response = client.get("/api/probe/cast/twelve")
                assert response.status_code == 400 and response.is_json
                assert "DataError (psycopg.errors.InvalidTextRepresentation 22P02)" in caplog.text
            response = client.get("/probe/missing")
        assert response.status_code == 500
        assert "unavailable" not in response.get_data(as_text=True)
        expected = "ProgrammingError" if ON_POSTGRESQL else "OperationalError (sqlite3"
        assert f"unhandled {expected}" in caplog.text


def _raised(call, *args) -> BaseException:
    try:
        call(*args)
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


def test_the_classification_of_database_failures_sqlite(tmp_path):
    """Real sqlite3 failures: only a file that cannot be opened or stays locked is an outage."""
    missing = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.sqlite3'}")
    assert database_unreachable(_raised(missing.connect))
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", connect_args={"timeout": 0.1})
    with engine.connect() as one:
        one.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
        one.execute(text("INSERT INTO t VALUES (1)"))
        one.commit()
        bad_input = [
            _raised(lambda: one.execute(text("SELECT * FROM no_such_table"))),
            _raised(lambda: one.execute(text("INSERT INTO t VALUES (1)"))),
            _raised(lambda: one.execute(text("SELECT 1 +"))),
        ]
        one.rollback()
        one.exec_driver_sql("BEGIN IMMEDIATE")
        with engine.connect() as other:
            locked = _raised(lambda: other.exec_driver_sql("BEGIN IMMEDIATE"))
        one.rollback()
    engine.dispose()
    assert [database_unreachable(error) for error in bad_input] == [False, False, False]
    assert database_unreachable(locked), failure_name(locked)  # busy past the timeout
    assert not database_unreachable(ValueError("not a database error"))


@pytest.mark.skipif(not ON_POSTGRESQL, reason="psycopg's errors need PostgreSQL")
def test_the_classification_of_database_failures_postgresql(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    engine = create_engine(url)
    not_outages = {}
    for name, statement, values in (
        ("NUL", "SELECT :v", {"v": "a\x00b"}),
        ("division by zero", "SELECT 1 / 0", {}),
        ("not a number", "SELECT CAST(:v AS integer)", {"v": "abc"}),
        ("missing table", "SELECT * FROM no_such_table", {}),
        ("cancelled", "SET LOCAL statement_timeout = 10; SELECT pg_sleep(1)", {}),
    ):
        with engine.connect() as connection:
            not_outages[name] = _raised(connection.execute, text(statement), values)
    assert {name: database_unreachable(e) for name, e in not_outages.items()} == dict.fromkeys(
        not_outages, False
    )
    with engine.connect() as victim, engine.connect() as killer:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar()
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.2)
        terminated = _raised(lambda: victim.execute(text("SELECT 1")))
    refused = _raised(create_engine(url.set(host="127.0.0.1", port=free_port())).connect)
    engine.dispose()
    assert "QueryCanceled 57014" in failure_name(not_outages["cancelled"])
    assert "AdminShutdown 57P01" in failure_name(terminated)
    assert database_unreachable(terminated)
    assert database_unreachable(refused), failure_name(refused)


@requires_redis_server
def test_the_classification_of_redis_failures(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    storage = storage_from_string(server.url, **rate_limit_storage_options(server.url))
    client = redis.Redis.from_url(server.url)
    client.set("text", "not a number")
    wrong_type = _raised(lambda: client.incr("text"))
    server.stop()
    store_down = _raised(lambda: storage.incr("key", 60))
    queue_down = _raised(client.ping)
    client.close()
    assert isinstance(store_down, StorageError)
    assert store_unreachable(store_down) and store_unreachable(queue_down)
    assert not store_unreachable(wrong_type)  # a command refused is a fault, not an outage
    assert failure_name(store_down) == "StorageError (redis.exceptions.ConnectionError)"


def test_postgresql_connections_give_up_after_seconds_unless_the_url_says(app):
    nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with separate_app(app, SQLALCHEMY_DATABASE_URI=nowhere) as default:
        options = default.config["SQLALCHEMY_ENGINE_OPTIONS"]
        assert options["connect_args"] == {"connect_timeout": 5}
        assert options["pool_pre_ping"] is True
    with separate_app(app, SQLALCHEMY_DATABASE_URI=nowhere + "?connect_timeout=2") as chosen:
        assert "connect_args" not in chosen.config["SQLALCHEMY_ENGINE_OPTIONS"]


@requires_redis_server
def test_a_sign_off_with_the_job_queue_down_commits_and_coverage_stays_right(
    app, framework, tmp_path, caplog
):
    """Redis stopped before the supervisor's click: the sign-off commits (the job that keeps
    the team's stored figures cannot be queued, and that is logged, not raised); the stored
    figures stay of the epoch before, so a process with a cold cache works the team's out,
    the same as worked out afresh."""
    from competency_app.assessments import services as assessments
    from competency_app.assessments.models import Assessment, Status
    from competency_app.clock import utcnow
    from competency_app.common.caches import clear_caches
    from competency_app.coverage import stored
    from competency_app.coverage.services import coverage_for_team, team_practitioners
    from competency_app.framework.services import current_version
    from tests.notifications.test_notifications import rate_everything

    server = RedisServer(tmp_path)
    server.start()
    try:
        with separate_app(app, JOBS_REDIS_URL=server.url) as queued, queued.app_context():
            north = make_team("north")
            sue = make_user("sue.super", Role.SUPERVISOR, team=north)
            kim = make_user("kim.keyworker", Role.PRACTITIONER, team=north, supervisor=sue)
            assessment = assessments.start_assessment(kim)
            rate_everything(assessment, kim, level=3)  # and reflect on every core value
            assessments.submit(assessment, kim, None)
            commit()
            server.stop()
            assessments.validate(assessment, sue, {}, None)
            with caplog.at_level(logging.ERROR):
                commit()  # the queue is down: nothing raised after the commit
            assert "could not run the work queued for after the commit" in caplog.text
            db.session.expire_all()
            assert db.session.get_one(Assessment, assessment.id).status is Status.VALIDATED
            version, now = current_version(), utcnow()
            ids = [m.id for m in team_practitioners(north, on=now)]
            assert stored.stored_figures(north, version, ids, now) is None  # job never ran
            clear_caches()
            cold = coverage_for_team(north, version, now)
            fresh = coverage_for_team(north, version, now, cached=False)
            assert [(e.element.key, e.status) for e in cold.elements] == [
                (e.element.key, e.status) for e in fresh.elements
            ]
            assert all(s.holders == 1 for s in cold.skills)  # kim's level 3 counts
    finally:
        server.stop()
