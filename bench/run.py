"""Coverage benchmarks beside their floors (../shared/PERFORMANCE.md).

    python bench/run.py                  # SQLite, a team of 50 and an organisation of 2,000
    python bench/run.py --people 10000   # the regional scale (slow to generate)
    python bench/run.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/run.py --smoke          # tiny scale, for CI: checks it runs, not the speed

Each figure is the median of repeated runs; the floor is measured in the same run on the same
data: a bare GROUP BY over the current-rating table for the same people. The data is made
here, in bulk, in a temporary database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from competency_app import create_app  # noqa: E402
from competency_app.accounts.models import (  # noqa: E402
    Organisation,
    Role,
    RoleAssignment,
    Team,
    User,
)
from competency_app.assessments.models import (  # noqa: E402
    Assessment,
    CurrentRating,
    Status,
    ValidatedRating,
)
from competency_app.coverage.services import (  # noqa: E402
    coverage_for_team,
    organisation_holders,
)
from competency_app.extensions import db  # noqa: E402
from competency_app.framework.loader import parse_framework  # noqa: E402
from competency_app.framework.models import Element, Skill  # noqa: E402
from competency_app.framework.services import load_framework  # noqa: E402

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def generate(people: int, team_size: int, rng: random.Random) -> list[int]:
    """Teams of `team_size` keyworkers with a validated level for every skill (bulk inserts)."""
    organisation = Organisation(name="Bench region")
    db.session.add(organisation)
    db.session.flush()
    skills = [
        (key, element)
        for key, element in db.session.execute(
            select(Skill.key, Element.key).join(Element, Element.id == Skill.element_id)
        )
    ]
    teams = []
    for t in range(max(1, people // team_size)):
        team = Team(
            organisation_id=organisation.id, slug=f"team-{t}", name=f"Team {t}", created_at=NOW
        )
        db.session.add(team)
        teams.append(team)
    db.session.flush()
    user_rows = [
        {
            "organisation_id": organisation.id,
            "email": f"p{n}@bench.invalid",
            "name": f"Person {n}",
            "password_hash": "x",
            "active": True,
            "must_change_password": False,
            "session_version": 1,
            "created_at": NOW,
        }
        for n in range(people)
    ]
    db.session.execute(insert(User), user_rows)
    ids = list(db.session.scalars(select(User.id).order_by(User.id)))
    db.session.execute(
        insert(RoleAssignment),
        [
            {
                "user_id": uid,
                "role": Role.PRACTITIONER,
                "team_id": teams[i // team_size % len(teams)].id,
            }
            for i, uid in enumerate(ids)
        ],
    )
    # The projection points at its history row; one stand-in history row serves the bench.
    skill = db.session.scalar(select(Skill).order_by(Skill.id))
    assessment = Assessment(
        person_id=ids[0],
        framework_version_id=skill.version_id,
        cycle=1,
        status=Status.VALIDATED,
        started_at=NOW,
        updated_at=NOW,
    )
    db.session.add(assessment)
    db.session.flush()
    stand_in = ValidatedRating(
        assessment_id=assessment.id,
        person_id=ids[0],
        skill_id=skill.id,
        skill_key=skill.key,
        self_level=2,
        level=2,
        validated_by_id=ids[0],
        validated_at=NOW,
        expires_at=NOW,
    )
    db.session.add(stand_in)
    db.session.flush()
    batch = []
    for uid in ids:
        for key, element_key in skills:
            validated = NOW - timedelta(days=rng.randint(0, 400))
            batch.append(
                {
                    "person_id": uid,
                    "skill_key": key,
                    "element_key": element_key,
                    "level": rng.choice((0, 1, 2, 2, 2, 3)),
                    "validated_at": validated,
                    "expires_at": validated + timedelta(days=365),
                    "rating_id": stand_in.id,
                }
            )
            if len(batch) >= 20_000:
                db.session.execute(insert(CurrentRating), batch)
                batch.clear()
    if batch:
        db.session.execute(insert(CurrentRating), batch)
    db.session.commit()
    return [team.id for team in teams]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--team-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", help="a PostgreSQL URL to run against instead of SQLite")
    parser.add_argument("--smoke", action="store_true", help="tiny scale, a few repeats")
    parser.add_argument("--keep", metavar="SQLITE_URL", help="build this database and keep it")
    args = parser.parse_args()
    if args.smoke:
        args.people, args.team_size, args.repeat = 100, 50, 3

    workdir = tempfile.mkdtemp(prefix="competency-bench-")
    url = args.keep or args.postgres or f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("SECRET_KEY", "bench")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        upgrade()
        try:
            document = parse_framework((ROOT / "data" / "framework.yaml").read_bytes())
            version = load_framework(document, "framework.yaml", "bench").version
            db.session.commit()
            started = time.perf_counter()
            team_ids = generate(args.people, args.team_size, random.Random(7))
            generated = time.perf_counter() - started
            skills = db.session.scalar(select(func.count()).select_from(Skill))
            team = db.session.get(Team, team_ids[0])
            members = list(
                db.session.scalars(
                    select(RoleAssignment.user_id).where(RoleAssignment.team_id == team.id)
                )
            )

            def floor_team():
                db.session.execute(
                    select(CurrentRating.skill_key, func.count())
                    .where(
                        CurrentRating.person_id.in_(members),
                        CurrentRating.level >= 2,
                        CurrentRating.expires_at > NOW,
                    )
                    .group_by(CurrentRating.skill_key)
                ).all()

            def floor_org():
                db.session.execute(
                    select(CurrentRating.skill_key, func.count())
                    .where(CurrentRating.level >= 2, CurrentRating.expires_at > NOW)
                    .group_by(CurrentRating.skill_key)
                ).all()

            rows = [
                (
                    "team coverage (coverage_for_team)",
                    median_ms(lambda: coverage_for_team(team, version, NOW), args.repeat),
                    "raw GROUP BY, same team",
                    median_ms(floor_team, args.repeat),
                    "≤ 2×",
                ),
                (
                    "organisation coverage (organisation_holders)",
                    median_ms(lambda: organisation_holders(version, NOW), max(3, args.repeat // 5)),
                    "raw GROUP BY, all people",
                    median_ms(floor_org, max(3, args.repeat // 5)),
                    "≤ 600 ms at 10,000 × 300",
                ),
            ]
            dialect = db.engine.dialect.name
            print(
                f"\nCoverage benchmark on {dialect}: {args.people:,} people in teams of "
                f"{args.team_size}, {skills} skills, {args.people * skills:,} current ratings "
                f"(generated in {generated:.1f} s)\n"
            )
            header = ("measure", "median", "floor", "floor median", "ratio")
            print("| {:45} | {:>11} | {:26} | {:>12} | {:>6} | target |".format(*header))
            print(f"|{'-' * 47}|{'-' * 13}|{'-' * 28}|{'-' * 14}|{'-' * 8}|--------|")
            for name, value, floor_name, floor, target in rows:
                ratio = value / floor if floor else float("nan")
                cells = (name, f"{value:.2f} ms", floor_name, f"{floor:.2f} ms", f"{ratio:.2f}×")
                print("| {:45} | {:>11} | {:26} | {:>12} | {:>6} | {} |".format(*cells, target))
        finally:
            db.session.remove()
            if args.postgres:
                downgrade(revision="base")
                with db.engine.begin() as connection:
                    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
