"""`flask seed-scale`: a synthetic region, generated in bulk, for benchmarks and load runs.

People are grouped in teams, spread over `organisations` organisations of one
collaborative (the first organisation's, with `Scale organisation 2…N` added as needed),
each person employed by their team's. Each has `cycles` validated assessments, every skill
validated each cycle (the history), and the current-rating projection holds their latest
level. Rows go in with multi-row INSERTs in large batches, not ORM objects. The generated
people cannot sign in (their password hash is not a valid hash).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import insert, select

from competency_app.accounts.models import Organisation, Role, RoleAssignment, Team, User
from competency_app.accounts.services import default_organisation
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    Status,
    ValidatedRating,
)
from competency_app.clock import utcnow
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.models import Element, Skill
from competency_app.framework.services import current_version

BATCH = 20_000


def _flush(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model), rows)
        rows.clear()


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
    for chunk in range(0, len(users), BATCH):
        db.session.execute(insert(User), users[chunk : chunk + BATCH])
    ids = list(db.session.scalars(select(User.id).where(User.id >= first_user).order_by(User.id)))
    db.session.execute(
        insert(RoleAssignment),
        [
            {"user_id": uid, "role": Role.PRACTITIONER, "team_id": team_rows[i % teams].id}
            for i, uid in enumerate(ids)
        ],
    )
    validator = ids[0]
    history: list[dict] = []
    current: list[dict] = []
    counts = {"people": len(ids), "teams": teams, "assessments": 0, "validated_ratings": 0}
    counts["organisations"] = len(hosts)
    for uid in ids:
        level = {key: rng.choice((0, 1, 1, 2)) for _, key, _ in skills}
        latest: dict[str, dict] = {}
        for cycle in range(1, cycles + 1):
            at = now - timedelta(days=(cycles - cycle) * 120 + rng.randint(0, 60))
            result = db.session.execute(
                insert(Assessment).returning(Assessment.id),
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
                ],
            )
            assessment_id = result.scalar_one()
            counts["assessments"] += 1
            for skill_id, key, _element in skills:
                level[key] = min(3, level[key] + (1 if rng.random() < 0.3 else 0))
                row = {
                    "assessment_id": assessment_id,
                    "person_id": uid,
                    "skill_id": skill_id,
                    "skill_key": key,
                    "self_level": level[key],
                    "level": level[key],
                    "validated_by_id": validator,
                    "validated_at": at,
                    "expires_at": at + timedelta(days=365),
                }
                history.append(row)
                latest[key] = row
            if len(history) >= BATCH:
                counts["validated_ratings"] += len(history)
                _flush(ValidatedRating, history)
        element_of = {key: element for _, key, element in skills}
        for key, row in latest.items():
            current.append(
                {
                    "person_id": uid,
                    "skill_key": key,
                    "element_key": element_of[key],
                    "level": row["level"],
                    "validated_at": row["validated_at"],
                    "expires_at": row["expires_at"],
                    "rating_id": None,
                }
            )
    counts["validated_ratings"] += len(history)
    _flush(ValidatedRating, history)
    # The projection points at each person's latest history row for the skill.
    latest_ids = dict(
        ((person, key), rid)
        for person, key, rid in db.session.execute(
            select(
                ValidatedRating.person_id,
                ValidatedRating.skill_key,
                db.func.max(ValidatedRating.id),
            )
            .where(ValidatedRating.person_id >= first_user)
            .group_by(ValidatedRating.person_id, ValidatedRating.skill_key)
        )
    )
    for row in current:
        row["rating_id"] = latest_ids[(row["person_id"], row["skill_key"])]
    for chunk in range(0, len(current), BATCH):
        db.session.execute(insert(CurrentRating), current[chunk : chunk + BATCH])
    return counts


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
