"""Settings read from the environment.

Nothing here touches the database or the filesystem: `create_app` decides what to do with
these values. A production deployment must set SECRET_KEY and DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

# Inside the package, so an installed wheel carries it.
DEFAULT_FRAMEWORK_PATH = Path(__file__).resolve().parent / "data" / "framework.yaml"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production defaults; development and testing relax a few of them."""

    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    FRAMEWORK_PATH = str(DEFAULT_FRAMEWORK_PATH)
    # Framework files are small; a larger upload is refused before parsing.
    FRAMEWORK_MAX_BYTES = 2 * 1024 * 1024
    # Uploads: a little above IMPORT_MAX_FILE_BYTES, for the form around the file.
    MAX_CONTENT_LENGTH = 11 * 1024 * 1024
    # Spreadsheet imports (roster, completions, candidates): checked before parsing.
    IMPORT_MAX_FILE_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
    IMPORT_MAX_ZIP_ENTRIES = 200
    IMPORT_MAX_COMPRESSION_RATIO = 100
    IMPORT_MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024
    IMPORT_MAX_ROWS = 50_000
    IMPORT_MAX_COLUMNS = 20
    # A new person's set-your-password link works once, for this many days.
    PASSWORD_LINK_DAYS = 7
    # The site's address, for links printed by the command line (pages use the request's).
    PUBLIC_URL = ""
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token instead
    RATELIMIT_STORAGE_URI = "memory://"
    # Served over HTTPS: links use https and every response carries HSTS. A request that
    # arrived over TLS (directly, or per X-Forwarded-Proto from a trusted proxy) gets HSTS too.
    PREFERRED_URL_SCHEME = "http"
    HSTS_MAX_AGE = 365 * 24 * 3600
    # How many reverse proxies sit in front and set X-Forwarded-For / -Proto (0: none; the
    # headers are then ignored, as a client could forge them).
    TRUSTED_PROXIES = 0
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_SWALLOW_ERRORS = False
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    CANDIDATE_RETENTION_MONTHS = 12
    # How long each kind of record is kept, where the service's own records retention
    # policy differs from the defaults (privacy/retention.py, from the Records Management
    # Code of Practice): {"staff_record": 84, ...}; RETENTION_POLICY names that policy on
    # the privacy page. From the environment: RETENTION_MONTHS="staff_record=84,candidate=6".
    RETENTION_MONTHS: dict[str, int] = {}
    RETENTION_POLICY = ""
    # Jobs: Redis for the queue (empty: each job runs in-process, as in the demo and tests),
    # where result files are kept (default instance/jobs; shared by the web and the worker),
    # for how long, and from how many members a team's workbook becomes a job.
    JOBS_REDIS_URL = ""
    JOBS_DIR = ""
    JOB_RESULT_HOURS = 24
    TEAM_WORKBOOK_JOB_MEMBERS = 150
    IMPORT_JOB_ROWS = 2000  # a larger import is applied as a job
    # A running job whose progress has not moved for this long (minutes; a fraction is
    # allowed) has lost its worker: it is failed and the next request starts afresh.
    JOB_LEASE_MINUTES = 5.0
    # Fault tests only: a pause at each progress step of a job, to catch it midway.
    JOB_STEP_DELAY_SECONDS = 0.0
    # An import job writes this many rows per transaction, so sign-in gets through between.
    IMPORT_BATCH_ROWS = 1000
    # Production refuses to start without JOBS_REDIS_URL unless this says, on purpose, that
    # one small site runs its jobs inside the web process.
    JOBS_IN_PROCESS = False
    # Email: an SMTP relay (NHSmail or the organisation's). Every process of a deployment
    # (web, worker, cron, an operator's shell) needs the same mail settings. A process without
    # MAIL_SERVER writes its own notifications in-app only and leaves others' unsent emails
    # for a process that has it; MAIL_ECHO prints where each would have gone (the demo).
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = "keyworking-competencies@localhost"
    MAIL_TIMEOUT = 20
    MAIL_ECHO = False
    # An email claimed by a delivery and not sent within this time (its worker died) goes
    # back to pending and is sent again: at least once, rarely twice. Well above the time
    # one email may take (MAIL_TIMEOUT for each SMTP step).
    MAIL_LEASE_SECONDS = 600
    MAIL_BATCH = 1000  # emails a delivery job takes; one that takes this many queues the next
    JSON_LOGS = True  # one JSON line per request on stderr (no personal data)
    DEMO_PASSWORD = "keyworking-demo-2026"  # noqa: S105 - the demo's published password
    # argon2id cost at OWASP's recommended minimum (19 MiB, 2 passes), above ASVS's bar:
    # about 20 ms a hash. Production and the demo use it; only the tests lower it.
    PASSWORD_HASH_COST = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
    # Sign-in with the organisation's OpenID Connect provider (accounts/sso.py); off while
    # OIDC_ISSUER is empty. LOCAL_PASSWORDS off hides the password form and refuses it.
    LOCAL_PASSWORDS = True
    OIDC_ISSUER = ""
    OIDC_CLIENT_ID = ""
    OIDC_CLIENT_SECRET = ""
    OIDC_SCOPES = "openid email profile"
    OIDC_DISPLAY_NAME = "your organisation's account"
    # The claim that carries the person's email address, and the claim that says the
    # provider verified it ("" where the directory itself is the proof, as with a work
    # account's user principal name).
    OIDC_EMAIL_CLAIM = "email"
    OIDC_EMAIL_VERIFIED_CLAIM = "email_verified"
    # Optional: a claim listing the person's groups, and which team role each group gives
    # ("group=role@team-slug; ..."; administrator and HR are never granted this way).
    OIDC_GROUPS_CLAIM = ""
    OIDC_GROUP_ROLES: tuple[tuple[str, str, str], ...] = ()
    # Just-in-time accounts: off unless set; a new person is a keyworker in this team.
    OIDC_CREATE_ACCOUNTS = False
    OIDC_NEW_ACCOUNT_TEAM = ""
    OIDC_TIMEOUT_SECONDS = 10
    # How the client secret goes to the token endpoint: client_secret_basic (HTTP Basic, the
    # OpenID default) or client_secret_post (in the form), as the registration says.
    OIDC_TOKEN_AUTH_METHOD = "client_secret_basic"  # noqa: S105 - a method's name
    # Several organisations, each with its own provider: organisation slug -> settings
    # ({"issuer", "client_id", "client_secret", "display_name"} required; "scopes",
    # "email_claim", "email_verified_claim", "groups_claim", "group_roles",
    # "create_accounts", "new_account_team", "timeout_seconds", "token_auth_method"
    # optional, defaulting as the OIDC_* ones). The environment variable holds JSON, or the
    # path of a JSON or YAML file with the same mapping (`parse_providers`). The single
    # OIDC_* settings above stay the provider of the first organisation (unless this names
    # it). A provider signs in only people its organisation employs.
    OIDC_PROVIDERS: dict[str, dict] = {}

    @classmethod
    def from_environment(cls) -> dict:
        settings = {
            key: getattr(cls, key) for key in dir(cls) if key.isupper() and not key.startswith("_")
        }
        env = os.environ
        for key in (
            "SECRET_KEY",
            "FRAMEWORK_PATH",
            "RATELIMIT_STORAGE_URI",
            "DEMO_PASSWORD",
            "PREFERRED_URL_SCHEME",
            "PUBLIC_URL",
            "OIDC_ISSUER",
            "OIDC_CLIENT_ID",
            "OIDC_CLIENT_SECRET",
            "OIDC_SCOPES",
            "OIDC_DISPLAY_NAME",
            "OIDC_EMAIL_CLAIM",
            "OIDC_GROUPS_CLAIM",
            "OIDC_NEW_ACCOUNT_TEAM",
            "OIDC_TOKEN_AUTH_METHOD",
            "JOBS_REDIS_URL",
            "JOBS_DIR",
            "MAIL_SERVER",
            "MAIL_USERNAME",
            "MAIL_PASSWORD",
            "MAIL_FROM",
        ):
            if env.get(key):
                settings[key] = env[key]
        for key in (
            "PASSWORD_LINK_DAYS",
            "IMPORT_MAX_FILE_BYTES",
            "IMPORT_MAX_UNCOMPRESSED_BYTES",
            "IMPORT_MAX_ZIP_ENTRIES",
            "IMPORT_MAX_COMPRESSION_RATIO",
            "IMPORT_MAX_SHARED_STRINGS_BYTES",
            "IMPORT_MAX_ROWS",
            "IMPORT_MAX_COLUMNS",
            "OIDC_TIMEOUT_SECONDS",
            "JOB_RESULT_HOURS",
            "TEAM_WORKBOOK_JOB_MEMBERS",
            "IMPORT_JOB_ROWS",
            "IMPORT_BATCH_ROWS",
            "MAIL_PORT",
            "MAIL_TIMEOUT",
            "MAIL_LEASE_SECONDS",
            "MAIL_BATCH",
        ):
            if env.get(key):
                settings[key] = int(env[key])
        if env.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
        if env.get("TRUSTED_PROXIES"):
            settings["TRUSTED_PROXIES"] = int(env["TRUSTED_PROXIES"])
        if env.get("RETENTION_MONTHS", "").strip():
            settings["RETENTION_MONTHS"] = parse_months(env["RETENTION_MONTHS"])
        if env.get("RETENTION_POLICY", "").strip():
            settings["RETENTION_POLICY"] = env["RETENTION_POLICY"].strip()
        if env.get("CANDIDATE_RETENTION_MONTHS"):
            settings["CANDIDATE_RETENTION_MONTHS"] = int(env["CANDIDATE_RETENTION_MONTHS"])
        for key in ("JOB_LEASE_MINUTES", "JOB_STEP_DELAY_SECONDS"):
            if env.get(key):
                settings[key] = float(env[key])
        settings["JOBS_IN_PROCESS"] = _bool("JOBS_IN_PROCESS", settings["JOBS_IN_PROCESS"])
        settings["JSON_LOGS"] = _bool("JSON_LOGS", settings["JSON_LOGS"])
        for key in ("MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_ECHO"):
            settings[key] = _bool(key, settings[key])
        settings["SESSION_COOKIE_SECURE"] = _bool(
            "SESSION_COOKIE_SECURE", settings["SESSION_COOKIE_SECURE"]
        )
        settings["REMEMBER_COOKIE_SECURE"] = settings["SESSION_COOKIE_SECURE"]
        if "OIDC_EMAIL_VERIFIED_CLAIM" in env:  # may be set to "" on purpose
            settings["OIDC_EMAIL_VERIFIED_CLAIM"] = env["OIDC_EMAIL_VERIFIED_CLAIM"].strip()
        if env.get("OIDC_GROUP_ROLES"):
            settings["OIDC_GROUP_ROLES"] = parse_group_roles(env["OIDC_GROUP_ROLES"])
        settings["LOCAL_PASSWORDS"] = _bool("LOCAL_PASSWORDS", settings["LOCAL_PASSWORDS"])
        settings["OIDC_CREATE_ACCOUNTS"] = _bool(
            "OIDC_CREATE_ACCOUNTS", settings["OIDC_CREATE_ACCOUNTS"]
        )
        if env.get("OIDC_PROVIDERS", "").strip():
            settings["OIDC_PROVIDERS"] = parse_providers(env["OIDC_PROVIDERS"])
        return settings


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    JSON_LOGS = False
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - replaced by SECRET_KEY in production
    SESSION_COOKIE_SECURE = False
    MAIL_ECHO = True  # the demo prints where mail would have gone
    PUBLIC_URL = "http://127.0.0.1:5000"


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    # argon2's minimum cost (1 pass, 8 KiB): tests hash hundreds of passwords. Hashes keep
    # their parameters, so a production sign-in re-hashes such a hash at the full cost.
    PASSWORD_HASH_COST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    MAIL_ECHO = False
    PUBLIC_URL = ""  # links printed by the command line stay paths, as in production unset


# The team roles a group may give; administrator and HR are granted by an administrator only.
GROUP_MAPPABLE_ROLES = ("practitioner", "supervisor", "manager", "recruiter")


MONTHS_LIMIT = 1200  # a hundred years: anything longer is a typing error


def parse_months(text: str) -> dict[str, int]:
    """RETENTION_MONTHS from the environment: "staff_record=84,candidate=6" (ValueError
    names the part at fault; the kinds of record are checked when the app starts, by
    `privacy.retention.check_settings`)."""
    months: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, _, value = (x.strip() for x in part.partition("="))
        if not key or not value.isdigit() or not 1 <= int(value) <= MONTHS_LIMIT:
            raise ValueError(
                f"RETENTION_MONTHS: {part!r} is not kind=months with a whole number of months "
                f"from 1 to {MONTHS_LIMIT}"
            )
        months[key] = int(value)
    return months


def parse_group_roles(text: str) -> tuple[tuple[str, str, str], ...]:
    """`group=role@team-slug; ...` as (group, role, team slug) triples; RuntimeError on a
    malformed entry or a role that may not come from a group (administrator, HR)."""
    mapping = []
    for entry in filter(None, (part.strip() for part in text.replace("\n", ";").split(";"))):
        group, _, grant = entry.rpartition("=")
        role, _, team = grant.partition("@")
        group, role, team = group.strip(), role.strip().lower(), team.strip().lower()
        if not group or not team:
            raise RuntimeError(
                f"OIDC_GROUP_ROLES entry {entry!r} must look like group=role@team-slug"
            )
        if role not in GROUP_MAPPABLE_ROLES:
            raise RuntimeError(
                f"OIDC_GROUP_ROLES entry {entry!r}: a group can give only "
                f"{', '.join(GROUP_MAPPABLE_ROLES)} (administrator and HR are granted by an "
                "administrator)"
            )
        mapping.append((group, role, team))
    return tuple(mapping)


TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

PROVIDER_REQUIRED = ("issuer", "client_id", "client_secret", "display_name")
PROVIDER_OPTIONAL = (
    "scopes",
    "email_claim",
    "email_verified_claim",
    "groups_claim",
    "group_roles",
    "create_accounts",
    "new_account_team",
    "timeout_seconds",
    "token_auth_method",
)
ORGANISATION_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_providers(text: str) -> dict[str, dict]:
    """OIDC_PROVIDERS: a JSON object, or the path of a JSON or YAML file holding one, of
    organisation slug -> provider settings; RuntimeError saying what is wrong and where."""
    text = text.strip()
    if text.startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as error:
            raise RuntimeError(f"OIDC_PROVIDERS is not valid JSON: {error}") from None
    else:
        path = Path(text)
        if not path.is_file():
            raise RuntimeError(
                f"OIDC_PROVIDERS: {text!r} is neither a JSON object nor a readable file"
            )
        import yaml  # noqa: PLC0415 - only for a file of providers

        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise RuntimeError(
                f"OIDC_PROVIDERS file {text}: not valid YAML or JSON: {error}"
            ) from None
    if not isinstance(mapping, dict):
        raise RuntimeError("OIDC_PROVIDERS must map organisation short names to settings")
    providers: dict[str, dict] = {}
    for slug, entry in mapping.items():
        where = f"OIDC_PROVIDERS[{slug!r}]"
        if not isinstance(slug, str) or not ORGANISATION_SLUG.match(slug):
            raise RuntimeError(f"{where}: the key must be an organisation's short name")
        if not isinstance(entry, dict):
            raise RuntimeError(f"{where} must be a mapping of settings")
        unknown = sorted(set(entry) - set(PROVIDER_REQUIRED) - set(PROVIDER_OPTIONAL))
        if unknown:
            raise RuntimeError(f"{where}: unknown setting {unknown[0]!r}")
        missing = [key for key in PROVIDER_REQUIRED if not str(entry.get(key) or "").strip()]
        if missing:
            raise RuntimeError(f"{where}: set {', '.join(missing)}")
        entry = dict(entry)
        if isinstance(entry.get("group_roles"), str):
            entry["group_roles"] = parse_group_roles(entry["group_roles"])
        providers[slug] = entry
    return providers


def check_sign_in_settings(settings) -> None:
    """Refuse settings with which nobody could sign in, or strangers would get accounts
    nowhere: no password form and no provider; just-in-time accounts without a team."""
    issuer = settings.get("OIDC_ISSUER") or ""
    if (
        not settings.get("LOCAL_PASSWORDS", True)
        and not issuer
        and not settings.get("OIDC_PROVIDERS")
    ):
        raise RuntimeError(
            "LOCAL_PASSWORDS is off but OIDC_ISSUER is not set: nobody could sign in. Set "
            "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or turn LOCAL_PASSWORDS on."
        )
    if issuer and not (settings.get("OIDC_CLIENT_ID") and settings.get("OIDC_CLIENT_SECRET")):
        raise RuntimeError("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
    method = settings.get("OIDC_TOKEN_AUTH_METHOD") or "client_secret_basic"
    if method not in TOKEN_AUTH_METHODS:
        raise RuntimeError(
            f"OIDC_TOKEN_AUTH_METHOD must be one of {', '.join(TOKEN_AUTH_METHODS)}."
        )
    if issuer and "openid" not in (settings.get("OIDC_SCOPES") or "").split():
        raise RuntimeError("OIDC_SCOPES must include openid.")
    if settings.get("OIDC_CREATE_ACCOUNTS") and not settings.get("OIDC_NEW_ACCOUNT_TEAM"):
        raise RuntimeError(
            "OIDC_CREATE_ACCOUNTS is on: set OIDC_NEW_ACCOUNT_TEAM to the team slug where "
            "new people start as keyworkers."
        )
    providers = settings.get("OIDC_PROVIDERS") or {}
    names = [settings.get("OIDC_DISPLAY_NAME")] if issuer else []
    for slug, entry in providers.items():
        where = f"OIDC_PROVIDERS[{slug!r}]"
        if "openid" not in str(entry.get("scopes") or "openid").split():
            raise RuntimeError(f"{where}: scopes must include openid.")
        if (entry.get("token_auth_method") or "client_secret_basic") not in TOKEN_AUTH_METHODS:
            raise RuntimeError(
                f"{where}: token_auth_method must be one of {', '.join(TOKEN_AUTH_METHODS)}."
            )
        if entry.get("create_accounts") and not entry.get("new_account_team"):
            raise RuntimeError(f"{where}: create_accounts is on: set new_account_team too.")
        names.append(entry.get("display_name"))
    if len(set(names)) != len(names):
        raise RuntimeError(
            "Each provider needs its own display_name (OIDC_DISPLAY_NAME and those of "
            "OIDC_PROVIDERS): the sign-in page shows a button for each."
        )


def is_per_process_storage(uri: str) -> bool:
    return uri.strip().lower().startswith("memory://")


REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
# Seconds the sign-in limits wait for Redis before the request is answered 503.
RATE_LIMIT_STORE_TIMEOUT = 2


def rate_limit_storage_options(uri: str) -> dict:
    """Options for the sign-in limits' store: any failure of it raised as one error type
    (answered 503: sign-in is refused while it cannot be throttled, never let through), and
    Redis given short timeouts, so a request waits seconds for an unreachable server."""
    options: dict = {"wrap_exceptions": True}
    if uri.strip().lower().startswith(REDIS_SCHEMES):
        options.update(
            socket_connect_timeout=RATE_LIMIT_STORE_TIMEOUT,
            socket_timeout=RATE_LIMIT_STORE_TIMEOUT,
        )
    return options


def require_shared_rate_limits(settings, workers: int | None = None) -> None:
    """Refuse per-process (`memory://`) sign-in throttling where it would not hold.

    With several workers each keeps its own counts, so an attacker gets N× the tries and a
    locked account is let in by another worker. Production, or more than one
    worker, needs shared storage (Redis); the demo and the tests run one process.
    """
    uri = settings.get("RATELIMIT_STORAGE_URI") or "memory://"
    if not is_per_process_storage(uri):
        return
    if workers is not None and workers > 1:
        reason = f"{workers} workers would each keep their own sign-in counts"
    elif settings.get("ENV_NAME") == "production":
        reason = "production runs several workers or hosts, each with its own sign-in counts"
    else:
        return
    raise RuntimeError(
        f"RATELIMIT_STORAGE_URI is {uri} (one process only): {reason}, so sign-in "
        "throttling would not hold. Set RATELIMIT_STORAGE_URI to a Redis URL shared by every "
        "worker, for example redis://redis-host:6379/0."
    )


def require_job_queue(settings) -> None:
    """Refuse production without the job queue on Redis: jobs would run inside web requests,
    a long workbook holding a web worker for its whole run, and a restart losing it.
    `JOBS_IN_PROCESS=1` says, on purpose, that one small site accepts that."""
    if settings.get("ENV_NAME") != "production" or settings.get("JOBS_REDIS_URL"):
        return
    if settings.get("JOBS_IN_PROCESS"):
        return
    raise RuntimeError(
        "JOBS_REDIS_URL is not set: in production jobs (workbooks, imports, reminders) need "
        "the queue on Redis and a `flask --app competency_app worker` beside the web server. "
        "Set JOBS_REDIS_URL, for example redis://redis-host:6379/1, or, for a single small "
        "site that accepts jobs running inside web requests, set JOBS_IN_PROCESS=1."
    )


CONFIGS = {"production": Config, "development": DevelopmentConfig, "testing": TestingConfig}


def load_settings(name: str | None, overrides: dict | None = None) -> dict:
    """Build the settings for `name` (default: $APP_ENV, else development)."""
    name = name or os.environ.get("APP_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}")
    settings = CONFIGS[name].from_environment()
    settings.update(overrides or {})
    if not settings.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment outside development")
    check_sign_in_settings(settings)
    return settings
