"""Health checks for load balancers, the 503 page, and request logs without personal data."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Flask, g, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from competency_app.accounts.permissions import PUBLIC, access
from competency_app.extensions import db, login_manager

blueprint = Blueprint("health", __name__)
log = logging.getLogger("competency_app.requests")


@blueprint.get("/healthz")
@access(PUBLIC)
def healthz():
    """200 when the database answers, 503 otherwise (for the load balancer)."""
    try:
        db.session.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError):
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")


@blueprint.get("/healthz/live")
@access(PUBLIC)
def live():
    """The process is up (no database): also the benchmarks' "hello" floor."""
    return "ok", 200, {"Content-Type": "text/plain"}


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
    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_down(_error):
        db.session.rollback()
        if "_login_user" not in g:
            # The outage struck while loading the signed-in person: show the page as to a
            # stranger, or rendering it would ask the database again and fail with a bare 500.
            g._login_user = login_manager.anonymous_user()
        logging.getLogger("competency_app").error("database unavailable on %s", request.path)
        return (
            render_template(
                "errors/error.html",
                title="Sorry, the service is unavailable",
                message="The service cannot reach its database. Try again in a few minutes.",
            ),
            503,
            {"Retry-After": "60"},
        )

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        # Path only (no query string: it may carry search terms), the user's id (no name or
        # email), never cookies or form fields.
        started = g.get("request_started")
        fields = {
            "method": request.method,
            # a secret in the path (a set-password token) is logged as the route's pattern
            "path": request.url_rule.rule
            if request.url_rule is not None and "token" in (request.view_args or {})
            else request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user": current_user.get_id().split(":")[0] if current_user.is_authenticated else None,
        }
        log.info("request", extra={"fields": fields})
        return response

    if app.config.get("JSON_LOGS") and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
