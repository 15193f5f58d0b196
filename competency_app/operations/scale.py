"""`flask seed-scale`: a synthetic region, generated in bulk, for benchmarks and load runs.

People are grouped in teams, spread over `organisations` organisations of one
collaborative (the first organisation's, with `Scale organisation 2…N` added as needed),
each person employed by their team's. Each has `cycles` validated assessments, every skill
validated each cycle (the history), and the current-rating projection holds their latest
level. Rows go in in large batches, not ORM objects: COPY on PostgreSQL, executemany on
SQLite (`database.insert_rows`), each batch's assessments as one multi-row INSERT. The generated
people cannot sign in (their password hash is not a valid hash).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import cast

import click
from flask.cli import with_appcontext
from sqlalchemy import Table, insert, select

from competency_app.accounts.models import Organisation, Role, RoleAssignment, Team, User
from competency_app.accounts.services import default_organisation
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    Status,
    ValidatedRating,
)
from competency_app.assessments.projection import PROJECTED_COLUMNS, history_as_current
from competency_app.clock import utcnow
from competency_app.database import insert_rows, unit_of_work
from competency_app.extensions import db
from competency_app.framework.models import Element, Skill
from competency_app.framework.services import current_version

BATCH = 20_000


def scale_organisations(count: int) -> list[Organisation]:
    """The first organisation and, with `count` > 1, `Scale organisation 2…count` in its
    collaborative (made when missing, kept when there from an earlier run)."""
    first = default_organisation()
    found = [first]
    for n in range(2, count + 1):
        slug = f"scale-organisation-{n}"
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        if organisation is None:
            organisation = Organisation(
                collaborative_id=first.collaborative_id,
                slug=slug,
                name=f"Scale organisation {n}",
                email_domains="",
                created_at=utcnow(),
            )
            db.session.add(organisation)
        found.append(organisation)
    db.session.flush()
    return found


def seed_scale(
    people: int, teams: int, cycles: int, seed: int = 7, organisations: int = 1
) -> dict[str, int]:
    """Add `people` keyworkers in `teams` teams with `cycles` cycles of validated history,
    the teams spread over `organisations` organisations of one collaborative (in turn), each
    keyworker employed by their team's."""
    version = current_version()
    if version is None:
        raise click.UsageError("Load a framework first (flask load-framework).")
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    now = utcnow()
    hosts = scale_organisations(organisations)
    skills = list(
        db.session.execute(
            select(Skill.id, Skill.key, Element.key)
            .join(Element, Element.id == Skill.element_id)
            .where(Skill.version_id == version.id)
        )
    )
    start = db.session.scalar(select(db.func.count()).select_from(Team)) or 0
    team_rows = [
        Team(
            organisation_id=hosts[(start + t) % len(hosts)].id,
            slug=f"scale-{start + t}",
            name=f"Scale team {start + t}",
            created_at=now,
        )
        for t in range(teams)
    ]
    db.session.add_all(team_rows)
    db.session.flush()
    first_user = (db.session.scalar(select(db.func.max(User.id))) or 0) + 1
    users = [
        {
            # the team the person joins below (person n: team n % teams)
            "organisation_id": team_rows[n % teams].organisation_id,
            "email": f"scale{first_user + n}@scale.invalid",
            "name": f"Keyworker {first_user + n}",
            "password_hash": "!",
            "active": True,
            "must_change_password": False,
            "session_version": 1,
            "created_at": now,
        }
        for n in range(people)
    ]
    insert_rows(db.session, _table(User), users)
    ids = list(db.session.scalars(select(User.id).where(User.id >= first_user).order_by(User.id)))
    insert_rows(
        db.session,
        _table(RoleAssignment),
        [
            {"user_id": uid, "role": Role.PRACTITIONER, "team_id": team_rows[i % teams].id}
            for i, uid in enumerate(ids)
        ],
    )
    validator = ids[0]
    counts = {"people": len(ids), "teams": teams, "assessments": 0, "validated_ratings": 0}
    counts["organisations"] = len(hosts)
    connection = db.session.connection()
    assessments = _table(Assessment)
    new_assessments = insert(assessments).returning(assessments.c.id, sort_by_parameter_order=True)
    per_batch = max(1, BATCH // (len(skills) * cycles))  # people whose history goes in at once
    for first in range(0, len(ids), per_batch):
        batch = ids[first : first + per_batch]
        plans = []  # (person, cycle, moment): one assessment each
        for uid in batch:
            for cycle in range(1, cycles + 1):
                at = now - timedelta(days=(cycles - cycle) * 120 + rng.randint(0, 60))
                plans.append((uid, cycle, at))
        assessment_ids = list(
            connection.execute(
                new_assessments,
                [
                    {
                        "person_id": uid,
                        "framework_version_id": version.id,
                        "cycle": cycle,
                        "status": Status.VALIDATED,
                        "started_at": at,
                        "submitted_at": at,
                        "validated_at": at,
                        "validated_by_id": validator,
                        "updated_at": at,
                        "row_version": 1,
                    }
                    for uid, cycle, at in plans
                ],
            ).scalars()
        )
        history: list[dict] = []
        level: dict[str, int] = {}
        for (uid, cycle, at), assessment_id in zip(plans, assessment_ids, strict=True):
            if cycle == 1:
                level = {key: rng.choice((0, 1, 1, 2)) for _, key, _ in skills}
            expires = at + timedelta(days=365)
            for skill_id, key, _element in skills:
                level[key] = min(3, level[key] + (1 if rng.random() < 0.3 else 0))
                history.append(
                    {
                        "assessment_id": assessment_id,
                        "person_id": uid,
                        "skill_id": skill_id,
                        "skill_key": key,
                        "self_level": level[key],
                        "level": level[key],
                        "validated_by_id": validator,
                        "validated_at": at,
                        "expires_at": expires,
                    }
                )
        insert_rows(db.session, _table(ValidatedRating), history)
        counts["assessments"] += len(plans)
        counts["validated_ratings"] += len(history)
    # The projection: every cycle validates every skill, so each person's current ratings
    # are their last cycle's history rows (one INSERT ... SELECT, each pointing at its row).
    last = select(assessments.c.id).where(
        assessments.c.person_id >= first_user, assessments.c.cycle == cycles
    )
    connection.execute(
        insert(_table(CurrentRating)).from_select(PROJECTED_COLUMNS, history_as_current(last))
    )
    return counts


def _table(model) -> Table:
    return cast(Table, model.__table__)


@click.command("seed-scale")
@click.option("--people", type=click.IntRange(1, 200_000), default=1000, show_default=True)
@click.option("--teams", type=click.IntRange(1, 20_000), default=20, show_default=True)
@click.option("--cycles", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option(
    "--organisations",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Spread the teams over this many organisations of one collaborative.",
)
@with_appcontext
def seed_scale_command(people: int, teams: int, cycles: int, organisations: int) -> None:
    """Generate a synthetic region of keyworkers with rating history (for benchmarks)."""
    started = datetime.now()
    with unit_of_work():
        counts = seed_scale(people, teams, cycles, organisations=organisations)
    # Refresh the planner's statistics: after millions of rows in one go, PostgreSQL would
    # otherwise plan a team's query as over an empty table until autovacuum catches up.
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    seconds = (datetime.now() - started).total_seconds()
    click.echo(
        ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
        + f" in {seconds:.1f} s."
    )
