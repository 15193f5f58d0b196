"""Measurements that run inside the application, one child process each (used by all.py).

    python bench/measure.py services URL TEAM_SLUG REPEAT  # coverage, saves, workbook, framework
    python bench/measure.py coverage URL TEAM_SLUG REPEAT  # coverage only (growth series)
    python bench/measure.py signoff URL TEAM_SLUG REPEAT   # the sign-off beside its floor only
    python bench/measure.py org-workbook URL               # time and peak RSS of its own
    python bench/measure.py workbook-floor ROWS COLUMNS    # openpyxl write-only, same cells
    python bench/measure.py store-figures URL              # every team's stored figures

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def alternated(
    measure: Callable[[int], object],
    floor: Callable[[int], object],
    pairs: int,
    before: Callable[[int], object] | None = None,
    warm: int = 1,
) -> tuple[list[float], list[float]]:
    """Time `measure(i)` and its `floor(i)` in turn (A B A B …), `pairs` times after `warm`
    pairs that are not kept, in ms; `before(i)`, when given, runs untimed before each pair.
    On a shared machine a busy moment then slows both sides of a pair alike: compare them
    pair by pair (`paired`), not one series' percentiles against the other's."""
    measured: list[float] = []
    floors: list[float] = []
    for i in range(warm + pairs):
        if before is not None:
            before(i)
        start = time.perf_counter()
        measure(i)
        middle = time.perf_counter()
        floor(i)
        end = time.perf_counter()
        if i >= warm:
            measured.append((middle - start) * 1000)
            floors.append((end - middle) * 1000)
    return measured, floors


def paired(measured: list[float], floors: list[float]) -> dict:
    """The median of the per-pair ratios (measure ÷ floor) with its interquartile range, and
    each side's p50 and p95 (ms)."""
    ratios = [m / f for m, f in zip(measured, floors, strict=True)]
    q1, median, q3 = (
        statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    )
    return {
        "pairs": len(ratios),
        "ratio": median,
        "ratio_q1": q1,
        "ratio_q3": q3,
        "p50": statistics.median(measured),
        "p95": p95(measured),
        "floor_p50": statistics.median(floors),
        "floor_p95": p95(floors),
    }


def pair(name: str, measure: Callable[[], object], floor: Callable[[], object], pairs: int) -> dict:
    """`measure` alternated with its `floor` (A B A B …, `alternated`): `name` (its p50, ms),
    `name_floor` (the floor's p50) and `name_ratio` with `name_q1`/`name_q3` (the median of
    the per-pair ratios and its interquartile range, `paired`)."""
    measured, floors = alternated(lambda _i: measure(), lambda _i: floor(), max(3, pairs))
    figures = paired(measured, floors)
    return {
        name: figures["p50"],
        f"{name}_floor": figures["floor_p50"],
        f"{name}_ratio": figures["ratio"],
        f"{name}_q1": figures["ratio_q1"],
        f"{name}_q3": figures["ratio_q3"],
    }


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The SQL statements `engine` sends to the database inside the block (an executemany,
    or a multi-row INSERT, counts once)."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


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
    }
    # each measure alternated with its floor (a busy moment slows both sides of a pair)
    out |= pair(
        "team_cold",
        lambda: coverage_for_team(team, version, now, cached=False),
        floor_team,
        repeat,
    )
    out |= pair("team_cached", lambda: coverage_for_team(team, version, now), floor_team, repeat)
    out["team_floor"] = out["team_cached_floor"]
    out |= pair("org", lambda: organisation_holders(version, now), floor_org, max(3, repeat // 5))
    return out


def coverage(url: str, slug: str, repeat: int) -> dict:
    """Only the coverage figures (the growth series of `all.py --scales`)."""
    with _app(url).app_context():
        now, version, team, members = _team(slug)
        return _coverage(now, version, team, members, repeat)


def services(url: str, slug: str, repeat: int) -> dict:
    """Team and organisation coverage, validation save, team workbook and framework load."""
    import yaml
    from sqlalchemy import func, select

    from competency_app.assessments.models import CurrentRating, ValidatedRating
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
        skill_total = sum(len(e.skills) for c in version.competencies for e in c.elements)
        cols = skill_total + 3
        out |= _team_book("team_book", team, cols, max(3, repeat // 3))

        # ---- the sign-off (the supervisor's click) beside its floor, in turn
        out.update(_signoffs(team, version, members, repeat))

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

        out |= pair("team_cold_cache", cold_cache, floor_now, repeat)
        out["team_floor_after"] = out["team_cold_cache_floor"]

        # ---- the team workbook again, now with the sign-offs' rows in its Ratings sheet,
        # beside the write-only floor of as many cells
        db.session.refresh(team)
        out |= _team_book("team_book_history", team, cols, max(3, repeat // 3))
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
        out |= pair(
            "framework_load",
            load,
            lambda: yaml.load(raw, Loader=yaml.CSafeLoader),  # noqa: S506 - the C *safe* loader
            max(3, repeat // 3),
        )
        out["framework_floor"] = out["framework_load_floor"]
    return out


def _pending_signoffs(team, version, members, count: int):
    """A supervisor of the team, and `count` members' assessments waiting for the sign-off
    as the supervisor's pages leave them: submitted (every skill rated, every core value
    reflected on), each element's judgements saved (a comment wherever a level goes down
    from the one validated before) and every reflection reviewed. Committed; returns
    (supervisor id, assessment ids)."""
    from sqlalchemy import insert

    from competency_app.accounts.models import Role, RoleAssignment, SupervisionLink, User
    from competency_app.assessments import services as workflow
    from competency_app.assessments.models import SelfRating, ValueReflection
    from competency_app.extensions import db

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
    elements = [e for c in version.competencies for e in c.elements]
    rng = random.Random(11)
    pending = []
    for person in members[:count]:
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
                for e in elements
                for s in e.skills
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
        before = workflow.previous_levels(person.id)
        selfs = {r.skill_id: r.level for r in assessment.self_ratings}
        for element in elements:
            lowered = {
                s.id: workflow.Decision(None, "Less of this work since the last review.")
                for s in element.skills
                if selfs[s.id] < before.get(s.key, selfs[s.id])
            }
            workflow.save_element_decisions(assessment, supervisor, element, lowered, None)
        reviews = {v.id: ("evidenced", "") for v in version.values}
        workflow.review_values(assessment, supervisor, reviews, None)
        pending.append(assessment.id)
    db.session.commit()
    return supervisor.id, pending


def _floor_writes(supervisor_id: int, version, count: int) -> Callable[[int], None]:
    """The floor of a sign-off: only what it must write, in one transaction on the same
    driver, as SQLAlchemy Core (no ORM): one history row per skill of the framework, one
    current-rating upsert per skill and the assessment's version-checked status, then the
    commit. `floor(i)` writes them for the i-th of `count` spare assessments (the bench
    supervisor's own, so that no team's figures change)."""
    from sqlalchemy import Table, bindparam, insert, update

    from competency_app.assessments import projection
    from competency_app.assessments.models import Assessment, Status, ValidatedRating
    from competency_app.extensions import db

    history = ValidatedRating.__table__
    assessment = Assessment.__table__
    assert isinstance(history, Table) and isinstance(assessment, Table)
    now = datetime.now(UTC)
    spares = [
        row.id
        for row in db.session.execute(
            insert(assessment).returning(assessment.c.id, sort_by_parameter_order=True),
            [
                {
                    "person_id": supervisor_id,
                    "framework_version_id": version.id,
                    "cycle": n + 1,
                    "status": Status.SUBMITTED,
                    "started_at": now,
                    "submitted_at": now,
                    "updated_at": now,
                    "updated_by_id": supervisor_id,
                    "row_version": 1,
                }
                for n in range(count)
            ],
        )
    ]
    db.session.commit()
    skills = [(s, e) for c in version.competencies for e in c.elements for s in e.skills]
    rows = [
        [
            {
                "assessment_id": spare,
                "person_id": supervisor_id,
                "skill_id": skill.id,
                "skill_key": skill.key,
                "self_level": 2,
                "level": 2,
                "comment": None,
                "validated_by_id": supervisor_id,
                "validated_at": now,
                "expires_at": now,
            }
            for skill, _element in skills
        ]
        for spare in spares
    ]
    element_of = {skill.id: element.key for skill, element in skills}
    status = (
        update(assessment)
        .where(assessment.c.id == bindparam("spare"), assessment.c.row_version == 1)
        .values(
            status=Status.VALIDATED,
            validated_at=now,
            validated_by_id=supervisor_id,
            updated_at=now,
            updated_by_id=supervisor_id,
            row_version=2,
        )
    )
    append = insert(history).returning(history.c.skill_id, history.c.id)
    upsert = projection.UPSERT_CURRENT_RATINGS[db.engine.dialect.name]

    def floor(i: int) -> None:
        connection = db.session.connection()
        if connection.execute(status, {"spare": spares[i]}).rowcount != 1:
            raise RuntimeError("the floor's assessment was not updated")
        ids = dict(connection.execute(append, rows[i]).all())
        connection.execute(
            upsert,
            [
                {
                    "person_id": supervisor_id,
                    "skill_key": row["skill_key"],
                    "element_key": element_of[row["skill_id"]],
                    "level": row["level"],
                    "validated_at": now,
                    "expires_at": now,
                    "rating_id": ids[row["skill_id"]],
                }
                for row in rows[i]
            ],
        )
        db.session.commit()

    return floor


def _team_book(name: str, team, cols: int, pairs: int) -> dict:
    """The team workbook (`name`_rows, `name`_cells) alternated with the write-only floor of
    as many cells in rows of `cols` (`pair` as `name`), then with openpyxl writing its very
    same cells (as `name`_same)."""
    from competency_app.exports.services import export_team

    book = export_team(team, None, "bench")
    cells = cells_in(book.content)
    grids = grids_of(book.content)
    return (
        {f"{name}_rows": book.rows, f"{name}_cells": cells}
        | pair(
            name,
            lambda: export_team(team, None, "bench"),
            lambda: _write_only(max(1, cells // cols), cols),
            pairs,
        )
        | pair(
            f"{name}_same",
            lambda: export_team(team, None, "bench"),
            lambda: write_grids(grids),
            pairs,
        )
    )


def _signoffs(team, version, members, repeat: int) -> dict:
    """`repeat` sign-offs of the team's members (one more first, not kept) as the web does
    them (`services.sign_off` and the commit, from saved judgements, the values reviewed),
    each followed by its floor (`_floor_writes`); the statements of each counted."""
    from competency_app.accounts.models import User
    from competency_app.assessments import services as workflow
    from competency_app.assessments.models import Assessment
    from competency_app.extensions import db
    from competency_app.jobs.queue import huey

    count = min(len(members), repeat + 1)
    supervisor_id, pending = _pending_signoffs(team, version, members, count)
    floor = _floor_writes(supervisor_id, version, count)
    load = os.getloadavg()
    request: dict = {}
    counts: dict[str, list[int]] = {"signoff": [], "floor": []}

    def as_a_request_has_them(i: int) -> None:
        """The signed-in supervisor, the assessment and its person (the access rule's)."""
        db.session.expire_all()
        request["supervisor"] = db.session.get_one(User, supervisor_id)
        request["assessment"] = assessment = db.session.get_one(Assessment, pending[i])
        _ = assessment.person.name

    def sign_off(_i: int) -> None:
        assessment = request["assessment"]
        with statements(db.engine) as seen:
            workflow.sign_off(assessment, request["supervisor"], assessment.row_version)
            db.session.commit()
        counts["signoff"].append(len(seen))

    def floor_counted(i: int) -> None:
        with statements(db.engine) as seen:
            floor(i)
        counts["floor"].append(len(seen))

    measured, floors = alternated(sign_off, floor_counted, count - 1, before=as_a_request_has_them)
    jobs = _run_queued_figures()
    huey.flush()  # the queued deliveries: nobody runs them here
    figures = paired(measured, floors)
    return {
        "signoffs": count,
        "save_skills": sum(len(e.skills) for c in version.competencies for e in c.elements),
        "save_pairs": figures["pairs"],
        "save_p50": figures["p50"],
        "save_p95": figures["p95"],
        "save_floor_p50": figures["floor_p50"],
        "save_floor_p95": figures["floor_p95"],
        "save_ratio": figures["ratio"],
        "save_ratio_q1": figures["ratio_q1"],
        "save_ratio_q3": figures["ratio_q3"],
        "save_statements": counts["signoff"][-1],
        "save_statements_range": [min(counts["signoff"]), max(counts["signoff"])],
        "save_floor_statements": counts["floor"][-1],
        "load_average": [load[0], os.getloadavg()[0]],
        "figures_jobs": len(jobs),
        "figures_job_p50": statistics.median(jobs) if jobs else 0.0,
    }


def _run_queued_figures() -> list[float]:
    """Run the teams' stored-figures jobs the sign-offs queued, as the worker does after each
    commit (the email deliveries are left for the caller to drop); each one's time, in ms."""
    from competency_app.coverage.stored import keep_figures_task
    from competency_app.jobs.queue import huey

    times, others = [], []
    while (task := huey.dequeue()) is not None:
        if not isinstance(task, keep_figures_task.task_class):
            others.append(task)
            continue
        start = time.perf_counter()
        huey.execute(task)
        times.append((time.perf_counter() - start) * 1000)
    for task in others:
        huey.enqueue(task)
    return times


def signoff(url: str, slug: str, repeat: int) -> dict:
    """Only the sign-off beside its floor."""
    with _app(url, BENCH_JOBS_REDIS).app_context():
        _now, version, team, members = _team(slug)
        return _signoffs(team, version, members, repeat)


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


def grids_of(content: bytes) -> list[tuple[str, list[list]]]:
    """Each sheet of a workbook as (title, its rows of plain values), read back."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [
            (sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
            for sheet in book.worksheets
        ]
    finally:
        book.close()


def write_grids(grids: list[tuple[str, list[list]]]) -> None:
    """The second floor of a workbook: openpyxl write-only writing the very same cells
    (the same sheets, rows and values, dates included) from plain lists, with nothing
    read, judged or styled: what writing this workbook costs openpyxl alone."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in grids:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    with tempfile.TemporaryFile() as handle:
        book.save(handle)


# Above this many cells the organisation workbook's same-cells floor is not measured: its
# values held as Python lists would cost more memory than the export.
SAME_CELLS_LIMIT = 2_000_000


def org_workbook(url: str) -> dict:
    from competency_app.exports.services import export_organisation

    with _app(url).app_context(), tempfile.TemporaryDirectory() as folder:
        # written into a file, as the workbook job writes it
        path = Path(folder) / "organisation.xlsx"
        start = time.perf_counter()
        export = export_organisation(None, "bench", into=path)
        seconds = time.perf_counter() - start
        # the export's own peak, read before the cells are counted (unzipping every sheet
        # and searching it costs tens of MB at 10,000 people: the measurement, not the export)
        peak = peak_mb()
        content = path.read_bytes()
        out = {
            "seconds": seconds,
            "rows": export.rows,
            "cells": cells_in(content),
            "peak_rss_mb": peak,
            "file_mb": len(content) / 1e6,
        }
        if out["cells"] <= SAME_CELLS_LIMIT:
            grids = grids_of(content)
            start = time.perf_counter()
            write_grids(grids)
            out["same_cells_seconds"] = time.perf_counter() - start
        return out


def store_figures(url: str) -> dict:
    """Every team's stored figures brought up to date, as the sign-offs' jobs keep them in
    a service in use (bulk-seeded teams have none)."""
    from regional import store_every_team  # beside this file

    from competency_app.framework.services import current_version

    with _app(url).app_context():
        started = time.perf_counter()
        teams = store_every_team(current_version(structure=True))
        return {"teams": teams, "seconds": time.perf_counter() - started}


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
    elif kind == "signoff":
        result = signoff(args[0], args[1], int(args[2]))
    elif kind == "org-workbook":
        result = org_workbook(args[0])
    elif kind == "workbook-floor":
        result = workbook_floor(int(args[0]), int(args[1]))
    elif kind == "store-figures":
        result = store_figures(args[0])
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    result.setdefault("peak_rss_mb", peak_mb())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
