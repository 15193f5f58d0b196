"""Measurements that run inside the application, one child process each (used by all.py).

    python bench/measure.py services URL TEAM_SLUG REPEAT  # coverage, saves, workbook, framework
    python bench/measure.py coverage URL TEAM_SLUG REPEAT  # coverage only (growth series)
    python bench/measure.py org-workbook URL               # time and peak RSS of its own
    python bench/measure.py workbook-floor ROWS COLUMNS    # openpyxl write-only, same cells

Each prints one JSON object on its last line. A child process per measurement keeps the
per-process caches and the peak RSS of one measurement out of the others.
"""

from __future__ import annotations

import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench")

from roster_import import peak_mb  # noqa: E402 - beside this file


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _app(url: str, jobs_redis: str = ""):
    from competency_app import create_app

    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "JOBS_REDIS_URL": jobs_redis})


# The sign-off queues its email delivery as production does (Redis, for a worker), instead of
# delivering in-process after the commit as the queue does without Redis; the bench's queue
# is emptied afterwards.
BENCH_JOBS_REDIS = os.environ.get("BENCH_JOBS_REDIS_URL", "redis://127.0.0.1:6379/14")


def framework_300() -> bytes:
    """The real framework with each element's skills repeated as variants up to 300 skills."""
    import yaml

    data = yaml.safe_load((ROOT / "competency_app" / "data" / "framework.yaml").read_bytes())
    elements = [e for c in data["competencies"] for e in c["elements"]]
    total = sum(len(e["skills"]) for e in elements)
    variant = 1
    while total < 300:
        for element in elements:
            for skill in list(element["skills"][: len(element["skills"]) // variant or 1]):
                if total >= 300:
                    break
                if "-v" in skill["id"]:
                    continue
                extra = copy.deepcopy(skill)
                extra["id"] = f"{skill['id']}-v{variant}"
                extra["text"] = f"{skill['text']} (variant {variant})"
                element["skills"].append(extra)
                total += 1
        variant += 1
    data["metadata"]["version_label"] = "300-skill benchmark variant"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000).encode()


def _team(slug: str):
    """(now, the current version, the measured team, its members) in an app context."""
    from sqlalchemy import select

    from competency_app.accounts.models import Team
    from competency_app.coverage.services import team_practitioners
    from competency_app.extensions import db
    from competency_app.framework.services import current_version

    team = db.session.scalar(select(Team).where(Team.slug == slug))
    return datetime.now(UTC), current_version(structure=True), team, team_practitioners(team)


def _team_floor(ids: list[int], competent: int, now):
    """The team coverage floor: one GROUP BY skill of the team's current ratings."""
    from sqlalchemy import func, select

    from competency_app.assessments.models import CurrentRating
    from competency_app.extensions import db

    def floor_team():
        db.session.execute(
            select(CurrentRating.skill_key, func.count())
            .where(
                CurrentRating.person_id.in_(ids),
                CurrentRating.level >= competent,
                CurrentRating.expires_at > now,
            )
            .group_by(CurrentRating.skill_key)
        ).all()

    return floor_team


def _coverage(now, version, team, members, repeat: int) -> dict:
    """Team coverage (computed from scratch, and as pages get it through the cache) beside
    its floor, one GROUP BY of the team's current ratings; organisation coverage beside a
    GROUP BY of every current rating."""
    from sqlalchemy import func, select

    from competency_app.accounts.models import User
    from competency_app.assessments.models import CurrentRating
    from competency_app.coverage.figures import version_shape
    from competency_app.coverage.services import coverage_for_team, organisation_holders
    from competency_app.extensions import db

    competent = version.settings.scale.competent_level
    ids = [m.id for m in members]
    floor_team = _team_floor(ids, competent, now)

    def floor_org():
        db.session.execute(
            select(CurrentRating.skill_key, func.count())
            .where(CurrentRating.level >= competent, CurrentRating.expires_at > now)
            .group_by(CurrentRating.skill_key)
        ).all()

    out: dict = {
        "skills": len(version_shape(version).skill_keys),
        "team_size": len(ids),
        "people": db.session.scalar(select(func.count()).select_from(User)),
        "team_floor": statistics.median(timed(floor_team, repeat)),
        "team_cold": statistics.median(
            timed(lambda: coverage_for_team(team, version, now, cached=False), repeat)
        ),
        "team_cached": statistics.median(
            timed(lambda: coverage_for_team(team, version, now), repeat)
        ),
    }
    org_repeat = max(3, repeat // 5)
    out["org_floor"] = statistics.median(timed(floor_org, org_repeat))
    out["org"] = statistics.median(timed(lambda: organisation_holders(version, now), org_repeat))
    return out


def coverage(url: str, slug: str, repeat: int) -> dict:
    """Only the coverage figures (the growth series of `all.py --scales`)."""
    with _app(url).app_context():
        now, version, team, members = _team(slug)
        return _coverage(now, version, team, members, repeat)


def services(url: str, slug: str, repeat: int) -> dict:
    """Team and organisation coverage, validation save, team workbook and framework load."""
    import yaml
    from sqlalchemy import func, insert, select

    from competency_app.accounts.models import Role, RoleAssignment, SupervisionLink, User
    from competency_app.assessments import projection
    from competency_app.assessments import services as workflow
    from competency_app.assessments.models import (
        CurrentRating,
        SelfRating,
        ValidatedRating,
        ValueReflection,
    )
    from competency_app.exports.services import export_team
    from competency_app.extensions import db
    from competency_app.framework.loader import parse_framework
    from competency_app.framework.services import load_framework

    app = _app(url, BENCH_JOBS_REDIS)
    out: dict = {}
    with app.app_context():
        now, version, team, members = _team(slug)
        out.update(_coverage(now, version, team, members, repeat))
        ids = [m.id for m in members]
        out["current_ratings"] = db.session.scalar(select(func.count()).select_from(CurrentRating))
        out["validated_ratings"] = db.session.scalar(
            select(func.count()).select_from(ValidatedRating)
        )

        # ---- team workbook (as seeded: current ratings, no self-assessment history yet) and
        # its floor: openpyxl write-only writing the team's coverage cells from plain lists
        out["team_book"] = statistics.median(
            timed(lambda: export_team(team, None, "bench"), max(3, repeat // 3))
        )
        out["team_book_rows"] = export_team(team, None, "bench").rows
        skill_total = sum(len(e.skills) for c in version.competencies for e in c.elements)
        cols = skill_total + 3
        out["team_book_floor"] = statistics.median(
            timed(lambda: _write_only(len(ids), cols), max(3, repeat // 3))
        )

        # ---- validation save: a supervisor signs off submitted assessments of the team
        supervisor = User(
            organisation_id=team.organisation_id,
            email=f"bench-supervisor-{team.id}@bench.invalid",
            name="Bench Supervisor",
            password_hash="!",  # noqa: S106 - not a valid hash: cannot sign in
            active=True,
            must_change_password=False,
            session_version=1,
        )
        db.session.add(supervisor)
        db.session.flush()
        db.session.add(RoleAssignment(user_id=supervisor.id, role=Role.SUPERVISOR, team_id=team.id))
        skills = [s for c in version.competencies for e in c.elements for s in e.skills]
        rng = random.Random(11)
        pending = []
        for person in members[: min(len(members), repeat + 1)]:
            db.session.add(SupervisionLink(supervisor_id=supervisor.id, supervisee_id=person.id))
            assessment = workflow.start_assessment(person)
            db.session.execute(
                insert(SelfRating),
                [
                    {
                        "assessment_id": assessment.id,
                        "skill_id": s.id,
                        "level": rng.choice((1, 2, 3)),
                        "evidence": "Bench evidence",
                    }
                    for s in skills
                ],
            )
            db.session.execute(
                insert(ValueReflection),
                [
                    {"assessment_id": assessment.id, "value_id": v.id, "text": "Reflection"}
                    for v in version.values
                ],
            )
            workflow.submit(assessment, person, None)
            pending.append(assessment.id)
        db.session.commit()
        from competency_app.assessments.models import Assessment

        saves = []
        for assessment_id in pending:
            # as a request has them before the sign-off: the assessment and the signed-in user
            assessment = db.session.get(Assessment, assessment_id)
            # as the supervisor's form sends it: a comment wherever a level goes down
            before = workflow.previous_levels(assessment.person_id)
            keys = {s.id: s.key for s in skills}
            decisions = {
                r.skill_id: workflow.Decision(None, "Less of this work since the last review.")
                for r in assessment.self_ratings
                if r.level < before.get(keys[r.skill_id], r.level)
            }
            db.session.refresh(supervisor)
            start = time.perf_counter()
            workflow.validate(assessment, supervisor, decisions, None)
            db.session.commit()
            saves.append((time.perf_counter() - start) * 1000)
        from competency_app.jobs.queue import huey

        huey.flush()  # the queued deliveries: nobody runs them here

        # ---- team coverage with a cold cache after those validations, as a process that
        # has not seen the team since gets it (the figures the sign-offs kept), beside the
        # floor measured again now
        from competency_app.coverage.figures import FIGURES
        from competency_app.coverage.services import coverage_for_team

        db.session.refresh(team)
        after = datetime.now(UTC)
        floor_now = _team_floor(ids, version.settings.scale.competent_level, after)

        def cold_cache():
            FIGURES.clear()
            coverage_for_team(team, version, after)

        out["team_cold_cache"] = statistics.median(timed(cold_cache, repeat))
        out["team_floor_after"] = statistics.median(timed(floor_now, repeat))
        out["signoffs"] = len(saves)
        saves = saves[1:]  # the first warms the statement caches
        out["save_p50"], out["save_p95"] = statistics.median(saves), p95(saves)
        out["save_skills"] = len(skills)
        rating = db.session.scalar(select(ValidatedRating).order_by(ValidatedRating.id.desc()))
        spare = workflow.start_assessment(supervisor).id  # holds the floor's rows
        db.session.commit()

        spare_skills = iter(skills)  # one row per skill of the spare assessment (unique)
        upsert_one = projection.UPSERT_CURRENT_RATINGS[db.engine.dialect.name]

        def floor_save():
            """One rating and its current-rating upsert, committed: the sign-off's own statements
            with one row (no epoch bump, no assessment, no audit event)."""
            skill = next(spare_skills)
            connection = db.session.connection()
            row = connection.execute(
                projection.INSERT_VALIDATED_RATINGS,
                {
                    "assessment_id": spare,
                    "person_id": rating.person_id,
                    "skill_id": skill.id,
                    "skill_key": skill.key,
                    "self_level": 2,
                    "level": 2,
                    "validated_by_id": supervisor.id,
                    "validated_at": now,
                    "expires_at": now,
                },
            ).scalar_one()
            connection.execute(
                upsert_one,
                {
                    "person_id": rating.person_id,
                    "skill_key": skill.key,
                    "element_key": skill.element.key,
                    "level": 2,
                    "validated_at": now,
                    "expires_at": now,
                    "rating_id": row,
                },
            )
            db.session.commit()  # a bench row beside the history: the data is thrown away

        floor_saves = timed(floor_save, min(repeat, len(skills) - 1))
        out["save_floor_p50"], out["save_floor_p95"] = (
            statistics.median(floor_saves),
            p95(floor_saves),
        )

        # ---- the team workbook again, now with the sign-offs' rows in its Ratings sheet
        db.session.refresh(team)
        out["team_book_history"] = statistics.median(
            timed(lambda: export_team(team, None, "bench"), max(3, repeat // 3))
        )
        out["team_book_history_rows"] = export_team(team, None, "bench").rows
        out["team_book_every_cycle"] = statistics.median(
            timed(lambda: export_team(team, None, "bench", history=True), max(3, repeat // 3))
        )
        out["team_book_every_cycle_rows"] = export_team(team, None, "bench", history=True).rows

        # ---- framework load: 300 skills, parsed, validated and stored (then rolled back)
        raw = framework_300()

        def load():
            document = parse_framework(raw)
            load_framework(document, "framework-300.yaml", "bench")
            db.session.flush()
            db.session.rollback()

        out["framework_skills"] = sum(
            len(e["skills"]) for c in yaml.safe_load(raw)["competencies"] for e in c["elements"]
        )
        out["framework_load"] = statistics.median(timed(load, max(3, repeat // 3)))
        out["framework_floor"] = statistics.median(
            timed(lambda: yaml.load(raw, Loader=yaml.CSafeLoader), max(3, repeat // 3))  # noqa: S506 - the C *safe* loader
        )
    return out


def _write_only(rows: int, cols: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Coverage")
    for r in range(rows):
        sheet.append(
            [f"Person {r}", f"p{r}@x.invalid", "Team", *[(r + c) % 4 for c in range(cols)]]
        )
    with tempfile.TemporaryFile() as handle:
        book.save(handle)


def org_workbook(url: str) -> dict:
    from competency_app.exports.services import export_organisation

    with _app(url).app_context():
        start = time.perf_counter()
        export = export_organisation(None, "bench")
        seconds = time.perf_counter() - start
        # the export's own peak, read before the cells are counted (unzipping every sheet
        # and searching it costs tens of MB at 10,000 people: the measurement, not the export)
        peak = peak_mb()
        return {
            "seconds": seconds,
            "rows": export.rows,
            "cells": cells_in(export.content),
            "peak_rss_mb": peak,
        }


def cells_in(content: bytes) -> int:
    """The cells a workbook holds: its sheets' `<c>` elements (every sheet, not only the
    floor's grid), so that time per cell compares like with like."""
    import io
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return sum(
            len(re.findall(rb"<c[ >]", archive.read(name)))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/sheet")
        )


def workbook_floor(rows: int, cols: int) -> dict:
    start = time.perf_counter()
    _write_only(rows, cols)
    return {"seconds": time.perf_counter() - start, "cells": rows * cols}


def main() -> int:
    kind, *args = sys.argv[1:]
    if kind == "services":
        result = services(args[0], args[1], int(args[2]))
    elif kind == "coverage":
        result = coverage(args[0], args[1], int(args[2]))
    elif kind == "org-workbook":
        result = org_workbook(args[0])
    elif kind == "workbook-floor":
        result = workbook_floor(int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    result.setdefault("peak_rss_mb", peak_mb())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
