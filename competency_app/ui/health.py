"""Health checks for load balancers, the 503 answer when a service the app depends on cannot
be reached, and request logs without personal data."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request
from limits.errors import StorageError
from sqlalchemy import exc, text
from werkzeug.exceptions import BadRequest, InternalServerError

from competency_app.accounts.permissions import PUBLIC, access
from competency_app.common.outages import (
    database_unreachable,
    failure_name,
    store_unreachable,
)
from competency_app.config import is_per_process_storage
from competency_app.extensions import db, limiter, login_manager

blueprint = Blueprint("health", __name__)
log = logging.getLogger("competency_app.requests")
errors_log = logging.getLogger("competency_app")

# Answered as JSON, as a load balancer or a reporting tool reads it.
JSON_PATHS = ("/api/", "/healthz")
UNAVAILABLE = {
    "database": "The service cannot reach its database. Try again in a few minutes.",
    "sign-in limits' store": "Signing in cannot be checked safely just now. Try again in a "
    "few minutes.",
    "Redis": "Part of the service is not answering. Try again in a few minutes.",
}
# A probe of Redis waits this long at most (seconds) before reporting it down.
PROBE_TIMEOUT = 2


@blueprint.get("/healthz")
@access(PUBLIC)
def healthz():
    """Each service the app depends on, `up` or `down` (`in-process` when the settings name
    none: the demo's sign-in limits and jobs); 503 when one of them is down, for the load
    balancer."""
    report = {
        "database": _probe("database", _database_answers),
        "rate_limit_store": "in-process"
        if is_per_process_storage(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
        else _probe("rate limit store", limiter.storage.check),
        "job_queue": _probe("job queue", _queue_answers)
        if current_app.config.get("JOBS_REDIS_URL")
        else "in-process",
    }
    down = "down" in report.values()
    return jsonify(status="unavailable" if down else "ok", **report), 503 if down else 200


def _probe(name: str, answers: Callable[[], object]) -> str:
    try:
        if answers():
            return "up"
        errors_log.error("health check: the %s did not answer", name)
    except (exc.SQLAlchemyError, redis.RedisError, StorageError) as error:
        errors_log.error("health check: the %s is unreachable (%s)", name, failure_name(error))
    return "down"


def _database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except exc.SQLAlchemyError:
        db.session.rollback()
        raise
    return True


def _queue_answers() -> bool:
    url = current_app.config["JOBS_REDIS_URL"]
    with redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    ) as client:
        return bool(client.ping())


@blueprint.get("/healthz/live")
@access(PUBLIC)
def live():
    """The process is up (nothing else is asked): also the benchmarks' "hello" floor."""
    return "ok", 200, {"Content-Type": "text/plain"}


def unavailable_answer(error: BaseException):
    """The 503 answer when `error` says the database or Redis cannot be reached, else None:
    the page, or JSON under /api and /healthz; the failure's class is logged."""
    if database_unreachable(error):
        what = "database"
        if "_login_user" not in g:
            # The outage struck while loading the signed-in person: answer as to a stranger,
            # or rendering the page would ask the database again and fail with a bare 500.
            g._login_user = login_manager.anonymous_user()
    elif store_unreachable(error):
        what = "sign-in limits' store" if isinstance(error, StorageError) else "Redis"
    else:
        return None
    errors_log.error(
        "%s unavailable (%s) on %s %s",
        what,
        failure_name(error),
        request.method,
        request.path,
    )
    headers = {"Retry-After": "60"}
    if request.path.startswith(JSON_PATHS):
        return jsonify(error="unavailable", message=UNAVAILABLE[what]), 503, headers
    page = render_template(
        "errors/error.html", title="Sorry, the service is unavailable", message=UNAVAILABLE[what]
    )
    return page, 503, headers


def _database_error(error: exc.SQLAlchemyError):
    db.session.rollback()
    answer = unavailable_answer(error)
    if answer is not None:
        return answer
    if isinstance(error, exc.DataError):  # a value the database refuses: the request's fault
        errors_log.warning(
            "the database refused a value (%s) on %s %s",
            failure_name(error),
            request.method,
            request.path,
        )
        refusal = BadRequest("The request holds a value the service cannot store or look up.")
        return current_app.handle_http_exception(refusal)
    # anything else is a fault: the 500 page, which logs the failure's class
    return current_app.handle_http_exception(InternalServerError(original_exception=error))


def _store_error(error: Exception):
    answer = unavailable_answer(error)
    if answer is not None:
        return answer
    return current_app.handle_http_exception(InternalServerError(original_exception=error))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry)


def register(app: Flask) -> None:
    for database_failure in (exc.DBAPIError, exc.TimeoutError):
        app.register_error_handler(database_failure, _database_error)
    for store_failure in (StorageError, redis.ConnectionError, redis.TimeoutError):
        app.register_error_handler(store_failure, _store_error)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        # Path only (no query string: it may carry search terms), the user's id (no name or
        # email), never cookies or form fields. The person only if the request loaded them:
        # loading them here would ask the database (down, for a health check in an outage).
        started = g.get("request_started")
        user = g.get("_login_user")
        fields = {
            "method": request.method,
            # a secret in the path (a set-password token) is logged as the route's pattern
            "path": request.url_rule.rule
            if request.url_rule is not None and "token" in (request.view_args or {})
            else request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user": user.get_id().split(":")[0] if user and user.is_authenticated else None,
        }
        log.info("request", extra={"fields": fields})
        return response

    if app.config.get("JSON_LOGS") and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
