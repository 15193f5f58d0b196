"""`flask demo`: a ready-to-explore local copy with demo data, served on 127.0.0.1 (port 5000
unless --port says otherwise)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import time, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from werkzeug.serving import make_server

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, User
from competency_app.assessments.models import Assessment
from competency_app.clock import utcnow
from competency_app.common.dates import london_day
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.cli import read_and_parse
from competency_app.framework.schema import FrameworkDocument, Skill
from competency_app.framework.services import current_version, load_framework
from competency_app.notifications.services import UnsentEmail, collect_unsent, stop_collecting
from competency_app.supervision import services as supervision
from competency_app.training.demo import create_demo_training
from competency_app.ui.demo_history import (
    create_demo_history,
    create_demo_vacancy,
    create_team_history,
)
from competency_app.ui.demo_region import (
    DEMO_DOMAINS,
    TRUST,
    create_demo_local_courses,
    create_region_people,
    ensure_region,
    ensure_team,
)
from competency_app.ui.demo_retention import create_demo_retention

DEMO_TEAM = ("north-keyworkers", "North keyworking team")
KEYWORKERS = [
    ("Aisha Khan", "aisha.khan"),
    ("Ben Hughes", "ben.hughes"),
    ("Chloe Evans", "chloe.evans"),
    ("Daniel Okafor", "daniel.okafor"),
    ("Emma Walsh", "emma.walsh"),
    ("Farid Rahman", "farid.rahman"),
    ("Grace Lewis", "grace.lewis"),
    ("Harry Patel", "harry.patel"),
]
STAFF = [
    ("Sam Taylor", "sam.taylor", Role.SUPERVISOR),
    ("Morgan Reid", "morgan.reid", Role.MANAGER),
    ("Jordan Blake", "jordan.blake", Role.RECRUITER),
    ("Priya Shah", "priya.shah", Role.HR),
    ("Alex Morgan", "alex.morgan", Role.ADMIN),
]
# A parent who sits on keyworker interview panels as an expert by experience.
LAY_PANEL_MEMBER = ("Chris Lewis", "chris.lewis")
DOMAIN = TRUST.domain
HOST = "127.0.0.1"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"  # DevelopmentConfig's


def create_demo_organisation(password: str) -> list[tuple[str, str, str]]:
    """The demo's collaborative: the trust's North team and its people, then the rest of
    the region (`demo_region.py`); returns (role, name, email) rows. Idempotent."""
    organisations = ensure_region()
    team = ensure_team(*DEMO_TEAM, organisations[TRUST.slug])
    logins: list[tuple[str, str, str]] = []

    def person(name: str, local: str, role: Role, supervisor: User | None = None) -> User:
        email = f"{local}@{DOMAIN}"
        user = accounts.user_by_email(email)
        if user is None:
            grant = accounts.RoleGrant(role, team if role.team_scoped else None)
            user = accounts.create_user(
                email,
                name,
                password,
                [grant],
                actor=None,
                supervisor=supervisor,
                organisation=organisations[TRUST.slug],
            )
        logins.append((role.label, name, email))
        return user

    staff = {role: person(name, local, role) for name, local, role in STAFF}
    supervisor = staff[Role.SUPERVISOR]
    keyworkers = {
        local: person(name, local, Role.PRACTITIONER, supervisor) for name, local in KEYWORKERS
    }
    lay = person(*LAY_PANEL_MEMBER, Role.PANEL_MEMBER)
    region = create_region_people(password, organisations, team, logins)
    db.session.flush()
    if db.session.scalar(select(func.count()).select_from(Assessment)) == 0:
        create_demo_history(keyworkers, supervisor)
        create_team_history(
            {**region.south_keyworkers, "zara.ahmed": region.secondee},
            region.south_manager,
            11,
            {"kiran.shah": 200, "leah.morris": 45, "zara.ahmed": 120},
        )
        create_team_history(
            region.council_keyworkers,
            region.council_supervisor,
            23,
            # one validation about to expire, one keyworker not yet assessed
            {"ruth.cole": 330, "simon.ward": 150, "tara.singh": 60, "umar.ali": 20},
        )
        create_demo_supervision(keyworkers, supervisor)
        version = current_version()
        if version is not None:
            create_demo_training(keyworkers, staff[Role.MANAGER], version)
            create_demo_local_courses(organisations, version)
        create_demo_vacancy(team, staff[Role.RECRUITER], supervisor, staff[Role.MANAGER], lay)
        create_demo_retention(
            team,
            organisations[TRUST.slug],
            (staff[Role.RECRUITER], supervisor, staff[Role.MANAGER]),
            DOMAIN,
            password,
        )
    return logins


# What was said on the keyworking file's discussion prompts (a prompt the loaded file
# does not have is left out).
BEN_DISCUSSION = {
    "independence": "Ben is helping the Ahmed family book their own appointments with the "
    "wheelchair service; next step is for Mum to chair the next TAC meeting.",
    "boundaries": "Two families text Ben at weekends. Agreed he will reply on Monday and "
    "give them the duty number for anything urgent.",
    "workload": "Caseload of 14 families; two transitions to adult services due in spring.",
    "urgent": "The hoist repair for the Lewis family was raised on the day; Ben knows he "
    "can call between sessions for anything like it.",
}
GROUP_DISCUSSION = {
    "boundaries": "Shared ways of ending key working well as families become confident.",
    "workload": "Cover for school holidays agreed across the three of them.",
}


def _discussion(version, notes: dict[str, str]) -> dict[str, str]:
    held = {prompt.id for prompt in version.settings.supervision.prompts}
    return {key: text for key, text in notes.items() if key in held}


def create_demo_supervision(keyworkers: dict[str, User], supervisor: User) -> None:
    """Sessions every four weeks for each keyworker (Harry's self-assessment overdue); a
    past session for Ben with its discussion, agreed actions and a module assigned (his
    last supervision was 13 weeks ago: overdue); a group session two weeks ago for Aisha,
    Chloe and Daniel, and a peer session to come for Emma and Grace, led by Emma."""
    version = current_version()
    if version is None:
        return
    now = utcnow()
    prompts = version.settings.supervision.prompts
    kinds = version.settings.supervision.session_kinds
    try:
        # Ben's last validation was 92 days ago: that day's session has its record
        held = now - timedelta(days=92)
        current_app.config["FROZEN_NOW"] = held - timedelta(days=3)
        (session,) = supervision.schedule_sessions(
            keyworkers["ben.hughes"], supervisor, london_day(held), time(9, 30)
        )
        current_app.config["FROZEN_NOW"] = held + timedelta(hours=2)
        supervision.record_actions(
            session,
            supervisor,
            "Shadow a colleague on two home visits with families new to the service.\n"
            "Bring an example of a care plan review to the next session.",
            notes=_discussion(version, BEN_DISCUSSION),
            prompts=prompts,
        )
        supervision.assign_in_session(
            session,
            supervisor,
            version.modules[0].key,
            (held + timedelta(days=60)).date(),
            version,
            note="Before the next review",
        )
        if "group" in kinds:
            group_day = now - timedelta(days=15)
            current_app.config["FROZEN_NOW"] = group_day - timedelta(days=2)
            group_first, *_ = supervision.schedule_group(
                [keyworkers[k] for k in ("aisha.khan", "chloe.evans", "daniel.okafor")],
                supervisor,
                "group",
                london_day(group_day),
                time(13, 0),
                kinds_held=kinds,
                place="Room 2, Riverside House",
            )
            current_app.config["FROZEN_NOW"] = group_day + timedelta(hours=3)
            supervision.record_actions(
                group_first,
                supervisor,
                "Aisha to share her transition checklist with the team.",
                notes=_discussion(version, GROUP_DISCUSSION),
                prompts=prompts,
            )
    finally:
        current_app.config.pop("FROZEN_NOW", None)
    for number, (local, person) in enumerate(keyworkers.items()):
        first = now + timedelta(days=4 if local == "harry.patel" else 9 + 2 * number)
        supervision.schedule_sessions(
            person,
            supervisor,
            london_day(first),
            time(10 + number % 5, 0),
            place="Room 2, Riverside House",
            every_weeks=4,
            sessions=4,
        )
    if "peer" in kinds:
        pair = [keyworkers["emma.walsh"], keyworkers["grace.lewis"]]
        supervision.schedule_group(
            pair,
            supervisor,
            "peer",
            london_day(now + timedelta(days=20)),
            time(15, 0),
            kinds_held=kinds,
            place="Room 3, Riverside House",
            notes="Peer supervision: bring one family where boundaries have been hard.",
            led_by=pair[0],
        )


def prepare_demo() -> tuple[list[str], list[tuple[str, str, str]]]:
    """Migrate the schema, load the framework and create the demo organisation."""
    from flask_migrate import upgrade  # noqa: PLC0415 - Alembic, paid only when migrating

    upgrade()
    document = read_and_parse(
        Path(current_app.config["FRAMEWORK_PATH"]),
        current_app.config["FRAMEWORK_MAX_BYTES"],
    )
    with unit_of_work():
        load_framework(document, "framework.yaml", loaded_by="demo")
        logins = create_demo_organisation(current_app.config["DEMO_PASSWORD"])
        revision = demo_revision(document)
        if revision is not None:
            load_framework(revision, "framework-demo-revision.yaml", loaded_by="demo")
    version = current_version()
    assert version is not None  # loaded just above
    return [f"Framework version {version.number}: {version.title}"], logins


# The demo's second framework version: one skill reworded after the team's validations, so
# that their profiles, the supervisor's validation page and the version comparison show
# validations made against the earlier wording. Not the source's words: a demo change.
REWORDED_SKILL = "1a.s2"
REWORDED_TEXT = (
    "A compassionate, empathetic and trauma-informed approach to children, young people "
    "and their families"
)


def demo_revision(document: FrameworkDocument) -> FrameworkDocument | None:
    """`document` with `REWORDED_SKILL` reworded (its validations then count until their
    next review, flagged), or None for a framework without that skill."""
    if not any(skill.id == REWORDED_SKILL for e in document.elements() for skill in e.skills):
        return None

    def reworded(skill: Skill) -> Skill:
        if skill.id != REWORDED_SKILL:
            return skill
        return skill.model_copy(update={"text": REWORDED_TEXT})

    competencies = [
        competency.model_copy(
            update={
                "elements": [
                    element.model_copy(update={"skills": [reworded(s) for s in element.skills]})
                    for element in competency.elements
                ]
            }
        )
        for competency in document.competencies
    ]
    earlier = document.metadata
    metadata = earlier.model_copy(
        update={
            "version_label": "Demo revision: one skill reworded",
            "notes": f"A demo change, not the source's words: skill {REWORDED_SKILL} reworded "
            f"after the team's validations. {earlier.notes or ''}".strip(),
        }
    )
    return document.model_copy(update={"competencies": competencies, "metadata": metadata})


def login_table(
    logins: list[tuple[str, str, str]], password: str, notes: dict[str, str] | None = None
) -> str:
    """The demo's logins, one row each; `notes` adds a labelled line under a person's row
    (by email)."""
    rows = [("Role", "Name", "Email"), *logins]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for email, note in (notes or {}).items():
        row = next((i for i, line in enumerate(lines) if line.endswith(email)), None)
        if row is not None:
            lines.insert(row + 1, f"    {note}")
    lines.append(f"Password for every demo login: {password}")
    return "\n".join(lines)


EMAILS_FILE = "demo-emails.txt"


def unsent_summary(unsent: list[UnsentEmail]) -> str:
    """One line for the emails the demo would have sent, written in full to a file."""
    if not unsent:
        return "No new emails this run (no MAIL_SERVER: they would show under Notifications)."
    path = Path(current_app.instance_path) / EMAILS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{email.line()}\n" for email in unsent), encoding="utf-8")
    return (
        f"{len(unsent)} emails not sent (no MAIL_SERVER): each person reads theirs under "
        f"Notifications once signed in; every one, with its link, is in {path}"
    )


def lay_member_note(unsent: list[UnsentEmail]) -> dict[str, str]:
    """The lay panel member's one-time set-password link, labelled, under their row."""
    email = f"{LAY_PANEL_MEMBER[1]}@{DOMAIN}"
    link = next((u.url for u in unsent if u.to == email and "/set-password/" in u.url), None)
    if link is None:
        return {}
    return {email: f"Panel invitation, set-password link (works once): {link}"}


def not_a_demo_database(path: Path) -> str | None:
    """Why the SQLite file at `path` must not be deleted by `demo --reset`, or None.

    A demo database is empty, or holds this application's tables with no account outside
    the demo's organisations' domains: anything else may be someone's real data.
    """
    if not path.exists():
        return None
    with contextlib.closing(sqlite3.connect(path)) as con:
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return None
            if User.__tablename__ not in tables:
                return "it does not hold this application's tables"
            outside = " AND ".join("email NOT LIKE ?" for _ in DEMO_DOMAINS)
            others = con.execute(
                f"SELECT count(*) FROM {User.__tablename__} WHERE {outside}",  # noqa: S608
                tuple(f"%@{domain}" for domain in DEMO_DOMAINS),
            ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            return f"it cannot be read as SQLite ({error})"
    if others:
        domains = ", ".join(f"@{domain}" for domain in DEMO_DOMAINS)
        return f"it holds {others} account(s) outside the demo (not {domains})"
    return None


def reset_demo_database(confirmed: bool) -> None:
    """Delete the demo's SQLite file (after a check and a prompt) so the demo starts afresh."""
    name = db.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        click.echo("Error: --reset needs the demo's SQLite file; this database has none.", err=True)
        raise SystemExit(2)
    path = Path(name)
    reason = not_a_demo_database(path)
    if reason is not None:
        click.echo(
            f"Error: {path} is not the demo's database: {reason}. Nothing was deleted.",
            err=True,
        )
        raise SystemExit(2)
    if not confirmed:
        click.confirm(f"Delete {path} and start the demo afresh?", abort=True)
    db.session.remove()
    db.engine.dispose()  # close every pooled connection before the file goes
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    click.echo(f"Deleted {path}.")


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@click.option(
    "--port", default=5000, show_default=True, help="Port to serve on (127.0.0.1); links use it."
)
@click.option(
    "--reset", is_flag=True, help="Delete the demo database first and start afresh (asks first)."
)
@click.option("--yes", is_flag=True, help="With --reset: do not ask for confirmation.")
@with_appcontext
def demo_command(no_serve: bool, port: int, reset: bool, yes: bool) -> None:
    """Create the SQLite database, load the framework and demo data, then serve.

    Run again, it keeps what is there (adding what is missing); --reset starts afresh.
    """
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        click.echo("The demo runs on SQLite only; unset DATABASE_URL.", err=True)
        raise SystemExit(2)
    address = f"http://{HOST}:{port}"
    if current_app.config.get("PUBLIC_URL", "") in ("", DEFAULT_PUBLIC_URL):
        # links in emails and printed here, and the sign-in provider's return address, use
        # the address served (a PUBLIC_URL set on purpose, such as a proxy's, is kept)
        current_app.config["PUBLIC_URL"] = address
    if reset:
        reset_demo_database(confirmed=yes)
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy
    unsent = collect_unsent(app)
    summary, logins = prepare_demo()
    for line in summary:
        click.echo(line)
    click.echo(unsent_summary(unsent))
    click.echo(login_table(logins, current_app.config["DEMO_PASSWORD"], lay_member_note(unsent)))
    # what the demo's users do while it serves is printed as it happens (links included)
    stop_collecting(app)
    db.session.remove()  # hold no transaction (and no SQLite lock) while serving
    if no_serve:
        return
    click.echo(
        f"Serving the demo on {address}/ with a development server, for this computer only "
        "(Ctrl+C to stop)"
    )
    # app.run() refuses to start inside a `flask` command; Werkzeug's server directly, without
    # its start-up banner (a red warning meant for developers)
    make_server(HOST, port, app, threaded=True).serve_forever()
