"""Health checks, the 503 page when the database is down, and backup → restore."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat

import pytest

from competency_app import create_app
from competency_app.accounts.models import Role
from competency_app.extensions import db
from competency_app.operations.backup import row_counts
from competency_app.ui.health import JsonFormatter
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user


def test_healthz(client, app):
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "database": "up",
        "rate_limit_store": "in-process",
        "job_queue": "in-process",
    }
    assert client.get("/healthz/live").data == b"ok"


def test_database_down_gives_503_not_a_traceback():
    # An app whose database server does not exist (nothing listens on port 1).
    down = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
            "WTF_CSRF_ENABLED": False,
        },
    )
    client = down.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "down"
    assert client.get("/login").status_code == 200  # a page with no data is still served
    response = client.post("/login", data={"email": "a@b.c", "password": "x" * 12})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot reach its database" in page and "Traceback" not in page
    assert response.headers["Retry-After"] == "60"
    with down.app_context():
        db.engine.dispose()


def test_request_log_has_no_personal_data(app, client, caplog, framework):
    with app.app_context():
        make_user("pat.prac", Role.PRACTITIONER, team=make_team("north"))
        commit()
    with caplog.at_level(logging.INFO, logger="competency_app.requests"):
        sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
        client.get("/framework?search=secret-term")
    lines = [
        JsonFormatter().format(r) for r in caplog.records if r.name == "competency_app.requests"
    ]
    assert lines
    joined = "\n".join(lines)
    for secret in ("pat.prac", PASSWORD, "secret-term", "session="):
        assert secret not in joined
    assert json.loads(lines[-1])["path"] == "/framework"


def test_backup_then_restore_gives_identical_row_counts(app, runner, tmp_path, framework):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path / "b.sqlite3")])
        assert result.exit_code == 2 and "pg_dump" in result.output
        return
    with app.app_context():
        make_user("pat.prac", Role.PRACTITIONER, team=make_team("north"))
        commit()
        before = row_counts()
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["backup", str(target)]).exit_code == 2  # never overwrites
    restored = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    with restored.app_context():
        assert row_counts() == before
        assert sum(before.values()) > 0
        db.engine.dispose()
    sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone()


def test_backup_is_readable_by_its_owner_only(app, runner, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL is backed up with pg_dump")
    target = tmp_path / "private.sqlite3"
    previous = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    try:
        result = runner.invoke(args=["backup", str(target)])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_database_down_gives_signed_in_people_the_503_page_too():
    down = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
        },
    )
    client = down.test_client()
    with client.session_transaction() as session:  # a signed-in person's cookie
        session["_user_id"] = "1:1"
        session["_fresh"] = True
    for path in ("/", "/people/1/profile", "/admin/audit"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert "cannot reach its database" in page and "Traceback" not in page
    with down.app_context():
        db.engine.dispose()


def test_backup_needs_a_path(runner):
    assert runner.invoke(args=["backup"]).exit_code == 2


def _by_person_and_key(statement) -> dict:
    """(person, skill key) -> (rating id, level), the last row of each pair winning."""
    return {
        (person, key): (rid, level) for person, key, rid, level in db.session.execute(statement)
    }


def test_seed_scale_generates_history_and_projection(app, runner, framework, monkeypatch):
    from sqlalchemy import func, select

    from competency_app.assessments.models import CurrentRating, ValidatedRating
    from competency_app.coverage.services import coverage_for_team
    from competency_app.framework.models import Skill
    from competency_app.framework.services import current_version
    from competency_app.operations import scale

    monkeypatch.setattr(scale, "BATCH", 400)  # a few people's history at a time: many batches
    result = runner.invoke(args=["seed-scale", "--people", "20", "--teams", "2", "--cycles", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        skills = db.session.scalar(select(func.count()).select_from(Skill))
        assert (
            db.session.scalar(select(func.count()).select_from(ValidatedRating)) == 20 * 3 * skills
        )
        assert db.session.scalar(select(func.count()).select_from(CurrentRating)) == 20 * skills
        # each current rating is the person's latest validation of the skill, and points at it
        latest = _by_person_and_key(
            select(
                ValidatedRating.person_id,
                ValidatedRating.skill_key,
                ValidatedRating.id,
                ValidatedRating.level,
            ).order_by(ValidatedRating.validated_at, ValidatedRating.id)
        )
        current = _by_person_and_key(
            select(
                CurrentRating.person_id,
                CurrentRating.skill_key,
                CurrentRating.rating_id,
                CurrentRating.level,
            )
        )
        assert current == latest
        from competency_app.accounts.models import Team

        team = db.session.scalar(select(Team).where(Team.slug == "scale-0"))
        assert len(coverage_for_team(team, current_version()).members) == 10
    assert runner.invoke(args=["seed-scale", "--people", "0"]).exit_code == 2


def test_seed_scale_one_person_over_a_batch(app, runner, framework, monkeypatch):
    """A batch holds 19 people's history: the 20th goes alone in a second, and is written."""
    from sqlalchemy import func, select

    from competency_app.assessments.models import Assessment, CurrentRating, ValidatedRating
    from competency_app.framework.models import Skill
    from competency_app.operations import scale

    with app.app_context():
        skills = db.session.scalar(select(func.count()).select_from(Skill))
    monkeypatch.setattr(scale, "BATCH", 19 * skills)  # one cycle: 19 people a batch
    result = runner.invoke(args=["seed-scale", "--people", "20", "--teams", "2", "--cycles", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Assessment) == 20
        assert count(ValidatedRating) == count(CurrentRating) == 20 * skills


def test_seed_scale_spreads_teams_over_organisations_of_one_collaborative(app, runner, framework):
    from sqlalchemy import func, select

    from competency_app.accounts.models import Organisation, Role, RoleAssignment, Team, User

    args = ["seed-scale", "--people", "30", "--teams", "6", "--cycles", "1"]
    result = runner.invoke(args=[*args, "--organisations", "3"])
    assert result.exit_code == 0, result.output
    assert "3 organisations" in result.output
    with app.app_context():
        organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
        assert len(organisations) == 3
        assert len({o.collaborative_id for o in organisations}) == 1
        hosted = dict(
            db.session.execute(
                select(Team.organisation_id, func.count()).group_by(Team.organisation_id)
            ).all()
        )
        assert sorted(hosted.values()) == [2, 2, 2]
        # each keyworker is employed by the organisation hosting their team
        mismatched = db.session.scalar(
            select(func.count())
            .select_from(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(Team, Team.id == RoleAssignment.team_id)
            .where(RoleAssignment.role == Role.PRACTITIONER)
            .where(User.organisation_id != Team.organisation_id)
        )
        assert mismatched == 0
    # a second run reuses the organisations and carries on round the same ones
    assert runner.invoke(args=[*args, "--organisations", "3"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 3
