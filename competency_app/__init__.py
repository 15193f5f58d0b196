"""Competency tracker for NHS keyworking services."""

from __future__ import annotations

import logging
from collections import ChainMap
from pathlib import Path

import click
from flask import Flask, abort, jsonify, render_template, request
from flask.templating import Environment
from flask_wtf.csrf import CSRFError
from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from competency_app.config import (
    load_settings,
    rate_limit_storage_options,
    require_job_queue,
    require_shared_rate_limits,
)
from competency_app.database import configure_sqlite, mark_read_only
from competency_app.extensions import csrf, db, limiter, login_manager
from competency_app.privacy.retention import check_settings as check_retention_settings
from competency_app.routing import register_converters

PACKAGE_DIR = Path(__file__).resolve().parent
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DATABASE_CONNECT_TIMEOUT = 5  # seconds; a DATABASE_URL's own connect_timeout wins


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the application. Nothing here creates tables or loads data."""
    app = Flask(__name__, instance_relative_config=True, static_folder="static")
    app.config.from_mapping(load_settings(config_name, overrides))
    require_shared_rate_limits(app.config)
    require_job_queue(app.config)
    check_retention_settings(app.config)
    register_database(app)
    register_templates(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_commands(app)
    register_request_hooks(app)
    register_error_pages(app)
    register_proxy(app)
    return app


def register_database(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        path = Path(app.instance_path) / "competency.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 10})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif uri.startswith("postgresql") and "connect_timeout" not in make_url(uri).query:
        # libpq waits for ever by default: a request while the server is unreachable gets the
        # 503 page after this many seconds instead.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"connect_timeout": DATABASE_CONNECT_TIMEOUT})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


class TemplateGlobals(ChainMap):
    """A template's globals over the environment's, as Jinja builds them, with a `keys()`
    compared at C speed: every `{% from … import %}` checks the importing page's globals
    against the imported template's (`Template._get_default_module`), and through
    ChainMap's own key view that cost ~60 µs an import on 38 globals, for a module that is
    already cached (the design system's page template alone imports three)."""

    def keys(self):  # a snapshot, not a live view
        return dict.fromkeys(self).keys()


class AppEnvironment(Environment):
    def make_globals(self, d):
        return TemplateGlobals(d or {}, self.globals)


def register_templates(app: Flask) -> None:
    app.jinja_environment = AppEnvironment
    app.jinja_options = {
        **app.jinja_options,
        # nhsuk-frontend-jinja macros chain optional params (params.hint.text…).
        "undefined": ChainableUndefined,
        # Every template is HTML, including the design system's `.jinja` macros: Flask's
        # default escapes only `.html` files, which would leave macro `text` params raw.
        "autoescape": True,
        "loader": ChoiceLoader(
            [app.create_global_jinja_loader(), PackageLoader("nhsuk_frontend_jinja")]
        ),
    }
    from competency_app.ui import filters

    filters.register(app)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    register_migrations(app)
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        **rate_limit_storage_options(app.config.get("RATELIMIT_STORAGE_URI") or "memory://"),
        **(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
    }
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    from competency_app.jobs.queue import configure_queue

    configure_queue(app)


# Inside the package, so that an installed wheel can migrate from any directory.
MIGRATIONS_DIR = str(PACKAGE_DIR / "migrations")


class LazyMigrations:
    """Flask-Migrate's settings for the app (`app.extensions["migrate"]`), set up when a
    migration first asks for them: importing Alembic costs every web worker about 10 MB
    that serving pages never uses. Flask-Migrate then replaces this with its own."""

    def __init__(self, app: Flask):
        self.app = app

    def __getattr__(self, name: str):
        from flask_migrate import Migrate

        Migrate(self.app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
        return getattr(self.app.extensions["migrate"], name)


class LazyMigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's command group, imported when a command runs, with its
    options (`--directory`, `--x-arg`) passed on to it."""

    def __init__(self) -> None:
        super().__init__(
            "db",
            help="Perform database migrations.",
            params=[
                click.Option(
                    ["-d", "--directory"],
                    default=None,
                    help="Migration script directory (default: the package's own migrations)",
                ),
                click.Option(
                    ["-x", "--x-arg"],
                    multiple=True,
                    help="Additional arguments consumed by custom env.py scripts",
                ),
            ],
            callback=self.forward,
        )

    @staticmethod
    def commands_group() -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def forward(self, directory: str | None, x_arg: tuple[str, ...]) -> None:
        callback = self.commands_group().callback
        assert callback is not None
        click.get_current_context().invoke(callback, directory=directory, x_arg=x_arg)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self.commands_group().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.commands_group().get_command(ctx, cmd_name)


def register_migrations(app: Flask) -> None:
    app.extensions["migrate"] = LazyMigrations(app)
    app.cli.add_command(LazyMigrationCommands())


def register_blueprints(app: Flask) -> None:
    from competency_app.accounts.admin import blueprint as admin
    from competency_app.accounts.installation import blueprint as installation
    from competency_app.accounts.views import blueprint as auth
    from competency_app.api.pages import blueprint as api_pages
    from competency_app.api.views import blueprint as api
    from competency_app.assessments.views import blueprint as assessments
    from competency_app.coverage.views import blueprint as coverage
    from competency_app.exports.import_views import blueprint as imports
    from competency_app.exports.views import blueprint as exports
    from competency_app.framework.views import blueprint as framework
    from competency_app.jobs.views import blueprint as jobs
    from competency_app.notifications.views import blueprint as notifications
    from competency_app.privacy import retention_views  # noqa: F401 - its routes on `privacy`
    from competency_app.privacy.candidate_views import blueprint as candidate_data
    from competency_app.privacy.views import blueprint as privacy
    from competency_app.recruitment.offer_views import blueprint as offers
    from competency_app.recruitment.views import blueprint as recruitment
    from competency_app.regional import api as regional_api  # noqa: F401 - its route on `api`
    from competency_app.regional.views import blueprint as regional
    from competency_app.supervision.views import blueprint as supervision
    from competency_app.training.views import blueprint as training
    from competency_app.ui.health import blueprint as health
    from competency_app.ui.views import blueprint as ui

    blueprints = (
        ui,
        health,
        auth,
        admin,
        installation,
        framework,
        assessments,
        training,
        coverage,
        supervision,
        exports,
        imports,
        recruitment,
        offers,
        api,
        api_pages,
        jobs,
        notifications,
        privacy,
        candidate_data,
    )
    for blueprint in (*blueprints, regional):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from competency_app.accounts.cli import (
        create_team_command,
        create_user_command,
        grant_installation_admin_command,
    )
    from competency_app.exports.cli import export_command, import_staff_command
    from competency_app.framework.cli import export_framework_command, load_framework_command
    from competency_app.jobs.cli import clean_jobs_command, run_job_command, worker_command
    from competency_app.operations import jobs  # noqa: F401 - the purge job, daily tasks
    from competency_app.operations.backup import backup_command
    from competency_app.operations.scale import seed_scale_command
    from competency_app.recruitment.cli import purge_command
    from competency_app.reminders.cli import send_reminders_command
    from competency_app.reminders.recruitment import connect as connect_recruitment_notices
    from competency_app.ui.demo import demo_command

    for command in (
        load_framework_command,
        export_framework_command,
        create_team_command,
        create_user_command,
        grant_installation_admin_command,
        export_command,
        import_staff_command,
        purge_command,
        backup_command,
        seed_scale_command,
        demo_command,
        worker_command,
        clean_jobs_command,
        run_job_command,
        send_reminders_command,
    ):
        app.cli.add_command(command)
    connect_recruitment_notices()  # recruitment's events → notifications


def register_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from
    their X-Forwarded-For / X-Forwarded-Proto (sign-in throttling per address, HSTS)."""
    count = app.config.get("TRUSTED_PROXIES") or 0
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def register_request_hooks(app: Flask) -> None:
    from competency_app.ui.security import add_security_headers

    @app.before_request
    def _transaction_mode() -> None:
        mark_read_only(request.method in READ_ONLY_METHODS)

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL cannot store NUL in text: refuse it up front with a clear 400 rather
        # than fail at the database (and never store something SQLite would accept).
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                if "\x00" in value or "\x00" in name:
                    abort(400, f"The field {name[:40]!r} contains a NUL character.")
        # nothing is named with a NUL: a path holding one names nothing (as on SQLite)
        if any("\x00" in str(value) for value in (request.view_args or {}).values()):
            abort(404)

    app.after_request(add_security_headers)
    from competency_app.ui import health

    health.register(app)


# status -> (title, message); None as the message shows the error's own description
ERROR_PAGES = {
    400: ("Bad request", None),
    403: ("You do not have access to this page", ""),
    404: ("Page not found", "Check the address and try again."),
    405: ("That action is not allowed here", ""),
    409: ("This record has changed", None),
    413: ("The upload is too large", ""),
    429: ("Too many attempts", "Wait a few minutes before you try again."),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


# The API's `error` codes (api/views.py answers the same for errors inside its views).
API_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}


def register_error_pages(app: Flask) -> None:
    from competency_app.common.outages import failure_name
    from competency_app.ui.health import unavailable_answer

    log = logging.getLogger("competency_app")

    def handler(status: int, title: str, message: str | None):
        def render(error):
            if status == 500:
                db.session.rollback()
                # an outage raised outside a view (in an after-request hook) comes here
                original = getattr(error, "original_exception", None) or error
                outage = unavailable_answer(original)
                if outage is not None:
                    return outage
                log.error(
                    "unhandled %s on %s %s", failure_name(original), request.method, request.path
                )
            text = getattr(error, "description", "") if message is None else message
            # a 405 says which methods the address takes (RFC 9110 requires `Allow`)
            allowed = getattr(error, "valid_methods", None)
            headers = {"Allow": ", ".join(sorted(allowed))} if status == 405 and allowed else {}
            if request.path.startswith("/api/"):  # the API's errors are JSON too
                code = API_ERROR_CODES.get(status, "error")
                return jsonify(error=code, message=text or title), status, headers
            page = render_template("errors/error.html", title=title, message=text)
            return page, status, headers

        return render

    for status, (title, message) in ERROR_PAGES.items():
        app.register_error_handler(status, handler(status, title, message))
    # The global CSRFProtect checks every POST before its view runs; a missing or stale
    # token gets one answer, whatever the form.
    app.register_error_handler(
        CSRFError, handler(400, ERROR_PAGES[400][0], "The form has expired: go back and try again.")
    )
