"""Every benchmark in one command, on SQLite and PostgreSQL, each figure beside its floor.

    python bench/all.py                      # 10,000 people, 400 teams, 8 cycles
    python bench/all.py --people 2000 --teams 80 --cycles 4
    python bench/all.py --databases sqlite   # or postgresql
    python bench/all.py --smoke              # tiny and short, as CI runs it: checks it works
    python bench/all.py --scales 1000,2000,10000   # also how cost grows with the region
    python bench/all.py --markdown docs/performance-run.md   # also write the table there
    python bench/all.py --only-regional --databases postgresql --bench-database bench_x
    python bench/all.py --only-signoff --people 2000 --teams 80 --cycles 4

For each database it makes a fresh database (SQLite: a temporary file; PostgreSQL: a database
`competency_bench` on the server of --postgres-url, dropped afterwards), migrates it, loads
the framework, generates the region with `flask seed-scale` plus one team of 50 (the team
that is measured), then measures:
  * in one child process (bench/measure.py): team coverage (worked out from scratch,
    through the cache the pages use, and with a cold cache after the sign-offs: the stored
    figures), organisation coverage, the team workbook and loading a 300-skill framework,
    each with its floor measured in the same run; and the supervisor's sign-off of a
    member's assessment (`sign_off`, from the judgements saved element by element) with
    its SQL statements counted, each sign-off followed by its floor (the history rows,
    current-rating upserts and status it must write, in one transaction, as Core), the
    median of the per-pair ratios reported with its interquartile range;
  * the organisation workbook and its openpyxl write-only floor, each in a child process of
    its own so that the peak RSS is its own;
  * under gunicorn (gunicorn.conf.py, 2 sync workers) on 127.0.0.1: the "hello" route and the
    coverage page at 1 client (p50/p95), throughput at 8 clients, the workers' RSS, and a
    bounded load run of 20 clients over mixed pages, with errors counted.
Then, in a database of its own, the regional view (bench/regional.py): --regional-people
keyworkers (20,000) in teams of 25 over --regional-organisations organisations (50) of one
collaborative, its figures from the stored team figures beside a GROUP BY over that table.
With --scales, a second database per kind grows the region to each size in turn (the
measured team of 50 first, then seed-scale in steps) and prints, per size, team coverage,
the coverage page at 1 client, organisation coverage, the organisation workbook beside its
floor and seed-scale's time per 1,000 people: team-level figures should stay flat,
organisation-level ones grow no faster than the people.
Targets: docs/performance.md. Exit status 1 when the load run saw errors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import regional  # noqa: E402 - beside this file
from loadgen import (  # noqa: E402
    Session,
    free_port,
    interleaved,
    latencies,
    load_run,
    spread,
    throughput_pairs,
    wait_until_up,
)

PASSWORD = "bench-manager-passphrase"  # noqa: S105 - a throwaway benchmark account
MANAGER = "bench.manager@bench.invalid"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def flask(env: dict, *args: str) -> str:
    command = [sys.executable, "-m", "flask", "--app", "competency_app", *args]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def child(*args: str) -> dict:
    command = [sys.executable, str(ROOT / "bench" / "measure.py"), *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ)
    if result.returncode != 0:
        raise RuntimeError(f"measure.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Database:
    """A fresh benchmark database (PostgreSQL: named `name`); `drop()` removes it."""

    def __init__(self, kind: str, postgres_url: str, name: str = "competency_bench"):
        self.kind = kind
        self.name = name
        if kind == "sqlite":
            self.folder = tempfile.mkdtemp(prefix="competency-bench-")
            self.url = f"sqlite:///{self.folder}/bench.sqlite3"
        else:
            from sqlalchemy import create_engine, text

            self.admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.url = postgres_url.rsplit("/", 1)[0] + f"/{name}"

    def drop(self) -> None:
        if self.kind == "sqlite":
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def worker_memory_mb(master: int) -> tuple[float, float]:
    """The largest resident set among the gunicorn master's children, and that worker's
    proportional set (PSS: the pages it shares with the master and the other workers, such
    as the libraries loaded before forking, counted in proportion)."""
    largest, pss = 0.0, 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            rollup = (entry / "smaps_rollup").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() != str(master):
            continue
        rss = int(fields["VmRSS"].split()[0]) / 1024
        if rss > largest:
            shares = dict(line.split(":", 1) for line in rollup.splitlines()[1:] if ":" in line)
            largest, pss = rss, int(shares["Pss"].split()[0]) / 1024
    return largest, pss


def serve(
    env: dict, team: str, requests: int, seconds: float, load_seconds: float, full: bool = True
) -> dict:
    """The pages under gunicorn; without `full`, only the 1-client latencies."""
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "competency_app:create_app()"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    login = (MANAGER, PASSWORD)
    page = f"/teams/{team}/coverage"
    try:
        wait_until_up(port)
        session = Session(port)
        session.sign_in(*login)
        latencies(session, page, 20)  # warm both workers
        times = interleaved(session, ["/healthz/live", page], requests)
        out = {"hello": spread(times["/healthz/live"]), "page": spread(times[page])}
        if not full:
            return out
        rates = throughput_pairs(port, login, ("/healthz/live", page), 8, seconds)
        out |= {
            "hello_rps": rates["floor_rps"],
            "page_rps": rates["rps"],
            "share": rates["share"],
            "share_range": rates["share_range"],
        }
        mixed = [
            page,
            "/",
            "/framework",
            "/framework/elements/4b",
            f"/teams/{team}/training-plan",
            f"/teams/{team}/coverage/1a",
            f"/api/v1/teams/{team}/coverage",
        ]
        times, errors = load_run(port, login, mixed, 20, load_seconds)
        out["load"] = {
            "requests": len(times),
            "errors": len(errors),
            "first_errors": errors[:5],
            "p50_p95": spread(times) if times else (0, 0),
            "seconds": load_seconds,
        }
        out["worker_rss_mb"], out["worker_pss_mb"] = worker_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def prepare(database, args, **extra: str) -> dict:
    """Migrate the fresh database (with a `url`) and load the framework; the environment
    to run it with (`extra` settings added)."""
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "SECRET_KEY": "bench",
        "APP_ENV": "production",
        "RATELIMIT_STORAGE_URI": args.redis_url,
        "SESSION_COOKIE_SECURE": "0",
        "JSON_LOGS": "0",
        "JOBS_IN_PROCESS": "1",  # bench/jobs.py passes JOBS_REDIS_URL for its worker
        **extra,
    }
    flask(env, "db", "upgrade")
    flask(env, "load-framework", str(ROOT / "competency_app" / "data" / "framework.yaml"))
    return env


def create_manager(env: dict, team: str) -> None:
    flask(
        env,
        "create-user",
        MANAGER,
        "--name",
        "Bench Manager",
        "--role",
        "manager",
        "--team",
        team,
        "--password",
        PASSWORD,
    )


def run_database(kind: str, args) -> dict:
    database = Database(kind, args.postgres_url, args.bench_database)
    try:
        env = prepare(database, args)
        started = time.perf_counter()
        seeded = flask(
            env,
            "seed-scale",
            "--people",
            str(args.people),
            "--teams",
            str(args.teams),
            "--cycles",
            str(args.cycles),
        )
        seed_seconds = time.perf_counter() - started
        flask(env, "seed-scale", "--people", "50", "--teams", "1", "--cycles", str(args.cycles))
        team = f"scale-{args.teams}"
        create_manager(env, team)
        figures = child("services", database.url, team, str(args.repeat))
        skills = figures["save_skills"]
        figures["seed"] = {"seconds": seed_seconds, "output": seeded.strip()}
        figures |= org_book_pairs(database.url, skills + 3)
        # then as in a service in use, where each team's sign-offs keep its figures stored
        figures["stored"] = child("store-figures", database.url)
        stored = org_book_pairs(database.url, skills + 3)
        figures |= {f"stored_{name}": value for name, value in stored.items()}
        figures["serve"] = serve(env, team, args.requests, args.seconds, args.load_seconds)
        return figures
    finally:
        database.drop()


def run_scales(kind: str, args) -> list[dict]:
    """How cost grows: the measured team of 50 first (`scale-0`), then the region grown to
    each of `--scales` people in turn (teams of 25 on average, the same cycles); at each size
    team and organisation coverage, the coverage page at 1 client, the organisation workbook
    beside its floor, and how long seed-scale took per 1,000 people added."""
    database = Database(kind, args.postgres_url, args.bench_database)
    series = []
    try:
        env = prepare(database, args)
        team = "scale-0"
        flask(env, "seed-scale", "--people", "50", "--teams", "1", "--cycles", str(args.cycles))
        create_manager(env, team)
        people = 50
        for size in args.scales:
            added = size - people
            seconds = 0.0
            if added > 0:
                teams = max(1, round(added / 25))
                started = time.perf_counter()
                flask(
                    env,
                    "seed-scale",
                    "--people",
                    str(added),
                    "--teams",
                    str(teams),
                    "--cycles",
                    str(args.cycles),
                )
                seconds = time.perf_counter() - started
                people = size
            figures = child("coverage", database.url, team, str(args.repeat))
            figures["seed_per_1000"] = seconds / added * 1000 if added > 0 else None
            figures |= org_book_pairs(database.url, figures["skills"] + 3)
            figures["serve"] = serve(env, team, args.requests // 2, 0, 0, full=False)
            series.append({"scale": size, **figures})
        return series
    finally:
        database.drop()


def run_regional(kind: str, args) -> dict:
    """The regional view over a collaborative of --regional-organisations organisations
    (bench/regional.py), in a database of its own."""
    database = Database(kind, args.postgres_url, args.bench_database)
    try:
        env = prepare(database, args)
        people = args.regional_people
        started = time.perf_counter()
        flask(
            env,
            "seed-scale",
            "--people",
            str(people),
            "--teams",
            str(max(1, people // 25)),
            "--cycles",
            "1",
            "--organisations",
            str(args.regional_organisations),
        )
        seconds = time.perf_counter() - started
        command = [sys.executable, str(ROOT / "bench" / "regional.py"), "measure", database.url]
        result = subprocess.run(
            [*command, str(args.repeat)], cwd=ROOT, capture_output=True, text=True, env=os.environ
        )
        if result.returncode != 0:
            raise RuntimeError(f"regional.py failed:\n{result.stderr[-3000:]}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        figures["seed_seconds"] = seconds
        return figures
    finally:
        database.drop()


def org_book_pairs(url: str, cols: int, rounds: int = 3) -> dict:
    """The organisation workbook alternated with its openpyxl write-only floor writing as
    many cells (rows of `cols`), each run in a child process of its own so that its peak RSS
    is its own, `rounds` times: the median run of each (the largest peak), and the median
    per-cell ratio of the pairs with its range."""
    books, floors, ratios, same = [], [], [], []
    for _ in range(rounds):
        book = child("org-workbook", url)
        floor = child("workbook-floor", str(max(1, book["cells"] // cols)), str(cols))
        books.append(book)
        floors.append(floor)
        ratios.append(per_cell_ratio(book, floor))
        if "same_cells_seconds" in book:
            same.append(book["seconds"] / book["same_cells_seconds"])

    def middle(runs: list[dict]) -> dict:
        run = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        return {**run, "peak_rss_mb": max(r.get("peak_rss_mb", 0.0) for r in runs)}

    return {
        "org_book": middle(books),
        "org_book_floor": middle(floors),
        "org_book_ratio": statistics.median(ratios),
        "org_book_ratio_range": [min(ratios), max(ratios)],
        # over openpyxl writing the very same cells (measure.write_grids), where measured
        "org_book_same_ratio": statistics.median(same) if same else None,
    }


def per_cell_ratio(book: dict, floor: dict) -> float:
    """The organisation workbook's time per cell written over the floor's (the workbook
    writes more sheets than the floor: cells, where it counts them, else the same grid)."""
    cells = book.get("cells") or floor["cells"]
    return (book["seconds"] / cells) / (floor["seconds"] / floor["cells"])


def ok(value: float, limit: float) -> str:
    return "✔" if value <= limit else "✘"


def verdict(f: dict, name: str, limit: float | None) -> str:
    """A measure alternated with its floor: the median per-pair ratio with its interquartile
    range, and ✔/✘ against `limit` when it has one."""
    ratio = f[f"{name}_ratio"]
    mark = f" {ok(ratio, limit)} (≤ {limit:g}×)" if limit is not None else ""
    return f"{ratio:.2f}×{mark}, IQR {f[f'{name}_q1']:.2f}–{f[f'{name}_q3']:.2f}"


def rows_for(f: dict) -> list[tuple[str, str, str, str]]:
    """(measure, ours, floor, ratio / verdict) for one database."""
    s = f["serve"]
    hello50, hello95 = s["hello"]
    page50, page95 = s["page"]
    share = s["share"]
    load = s["load"]
    people = f"{f['people']:,} people × {f['save_skills']} skills"
    page_ratio = page50 / hello50
    return [
        (
            f"team coverage, {f['team_size']} people (as pages get it: cached figures)",
            f"{f['team_cached']:.2f} ms",
            f"{f['team_cached_floor']:.2f} ms",
            verdict(f, "team_cached", 2),
        ),
        (
            f"team coverage, cold cache after {f['signoffs']} sign-offs (the stored figures)",
            f"{f['team_cold_cache']:.2f} ms",
            f"{f['team_cold_cache_floor']:.2f} ms",
            verdict(f, "team_cold_cache", 2),
        ),
        (
            "team coverage worked out from scratch (no stored figures)",
            f"{f['team_cold']:.2f} ms",
            f"{f['team_cold_floor']:.2f} ms",
            verdict(f, "team_cold", None) + " (no target: the stored figures' fallback)",
        ),
        (
            f"organisation coverage, {f['people']:,} people",
            f"{f['org']:.0f} ms",
            f"{f['org_floor']:.0f} ms",
            verdict(f, "org", None) + f"; {ok(f['org'], 600)} ≤ 600 ms",
        ),
        signoff_row(f),
        (
            f"team workbook ({f['team_book_rows']:,} rows, {f['team_book_cells']:,} cells)",
            f"{f['team_book']:.0f} ms",
            f"{f['team_book_floor']:.0f} ms (write-only, as many cells)",
            verdict(f, "team_book", 1.3)
            + f"; {ok(f['team_book'], 100)} ≤ 100 ms; "
            + same_cells(f, "team_book_same"),
        ),
        (
            f"team workbook after {f['signoffs']} sign-offs ({f['team_book_history_rows']:,} "
            f"rows, {f['team_book_history_cells']:,} cells)",
            f"{f['team_book_history']:.0f} ms",
            f"{f['team_book_history_floor']:.0f} ms (write-only, as many cells)",
            verdict(f, "team_book_history", 1.3)
            + f"; {ok(f['team_book_history'], 100)} ≤ 100 ms; "
            + same_cells(f, "team_book_history_same"),
        ),
        (
            f"the same with every cycle, on request ({f['team_book_every_cycle_rows']:,} rows)",
            f"{f['team_book_every_cycle']:.0f} ms",
            "",
            "(no target: history on request)",
        ),
        org_book_row(f, "", f"organisation workbook, {people} (as seeded: no stored figures)"),
        org_book_row(
            f,
            "stored_",
            f"organisation workbook, {people}, every team's figures stored (as in use)",
        ),
        (
            f"framework load, {f['framework_skills']} skills (parse, validate, store)",
            f"{f['framework_load']:.0f} ms",
            f"C SafeLoader alone: {f['framework_floor']:.0f} ms",
            verdict(f, "framework_load", None) + f"; {ok(f['framework_load'], 250)} ≤ 250 ms",
        ),
        (
            "coverage page, 1 client, p50 / p95",
            f"{page50:.1f} / {page95:.1f} ms",
            f"hello: {hello50:.1f} / {hello95:.1f} ms",
            f"p50 {page_ratio:.1f}× hello {ok(page_ratio, 2)} (≤ 2×), {ok(page95, 20)} p95 ≤ 20 ms",
        ),
        (
            "throughput at 8 clients (alternated with hello, 3 rounds)",
            f"{s['page_rps']:.0f} req/s",
            f"hello: {s['hello_rps']:.0f} req/s",
            f"{share:.0%} {ok(-share, -0.5)} (≥ 50%; rounds "
            f"{s['share_range'][0]:.0%}–{s['share_range'][1]:.0%})",
        ),
        (
            "gunicorn worker memory after the load run",
            f"{s['worker_rss_mb']:.0f} MB (PSS {s.get('worker_pss_mb', 0):.0f} MB)",
            "",
            f"{ok(s['worker_rss_mb'], 150)} ≤ 150 MB",
        ),
        (
            f"load run: 20 clients, {load['seconds']:.0f} s, mixed pages",
            f"{load['requests']:,} requests, {load['errors']} errors",
            "p50 / p95: {:.0f} / {:.0f} ms".format(*load["p50_p95"]),
            f"{ok(load['errors'], 0)} 0 errors",
        ),
        (
            "seed-scale (the region, in bulk)",
            f"{f['seed']['seconds']:.0f} s",
            "",
            f["seed"]["output"].replace("|", "/"),
        ),
    ]


def same_cells(f: dict, name: str) -> str:
    """A workbook over its second floor: openpyxl writing the very same cells from plain
    lists (`measure.write_grids`), alternated with it."""
    if f"{name}_ratio" not in f:
        return ""
    return (
        f"{f[f'{name}_ratio']:.2f}× openpyxl writing the same cells "
        f"(IQR {f[f'{name}_q1']:.2f}–{f[f'{name}_q3']:.2f})"
    )


def org_book_row(f: dict, prefix: str, label: str) -> tuple[str, str, str, str]:
    """The organisation workbook beside its floor (`org_book_pairs`), `prefix` naming which
    run: as seeded, or with every team's figures stored."""
    book, floor = f[f"{prefix}org_book"], f[f"{prefix}org_book_floor"]
    ratio, (low, high) = f[f"{prefix}org_book_ratio"], f[f"{prefix}org_book_ratio_range"]
    cells = book.get("cells") or floor["cells"]
    same = f.get(f"{prefix}org_book_same_ratio")
    return (
        label,
        f"{book['seconds']:.1f} s, {book['peak_rss_mb']:.0f} MB; "
        f"{book['seconds'] / cells * 1e6:.2f} µs a cell ({cells:,} cells)",
        f"{floor['seconds']:.1f} s, {floor['peak_rss_mb']:.0f} MB; "
        f"{floor['seconds'] / floor['cells'] * 1e6:.2f} µs a cell",
        f"{ratio:.2f}× a cell {ok(ratio, 1.3)} (≤ 1.3×; pairs {low:.2f}–{high:.2f}); "
        f"{ok(book['peak_rss_mb'], 150)} ≤ 150 MB"
        + (f"; {same:.2f}× openpyxl writing the same cells" if same else ""),
    )


def signoff_row(f: dict) -> tuple[str, str, str, str]:
    """The sign-off beside its floor (measured in turn: bench/measure.py `_signoffs`)."""
    p95_ratio = f["save_p95"] / f["save_floor_p95"]
    load = "–".join(f"{n:.1f}" for n in sorted(set(f["load_average"])))
    return (
        f"sign-off of {f['save_skills']} skills, the supervisor's click: p50 / p95; SQL statements",
        f"{f['save_p50']:.1f} / {f['save_p95']:.1f} ms; {f['save_statements']} statements",
        f"its writes alone ({f['save_skills']} history rows, {f['save_skills']} upserts, the "
        f"status, one transaction): {f['save_floor_p50']:.1f} / {f['save_floor_p95']:.1f} ms; "
        f"{f['save_floor_statements']} statements",
        f"p95 {p95_ratio:.2f}× {ok(p95_ratio, 1.5)} (≤ 1.5×); per pair {f['save_ratio']:.2f}× "
        f"(IQR {f['save_ratio_q1']:.2f}–{f['save_ratio_q3']:.2f}, {f['save_pairs']} pairs); "
        f"{ok(f['save_statements'], 10)} ≤ 10 statements; load average {load}",
    )


def run_signoff(kind: str, args) -> dict:
    """Only the sign-off beside its floor, in a region seeded as for the full run."""
    database = Database(kind, args.postgres_url, args.bench_database)
    try:
        env = prepare(database, args)
        sizes = ("--people", str(args.people), "--teams", str(args.teams))
        flask(env, "seed-scale", *sizes, "--cycles", str(args.cycles))
        flask(env, "seed-scale", "--people", "50", "--teams", "1", "--cycles", str(args.cycles))
        return {"signoff": child("signoff", database.url, f"scale-{args.teams}", str(args.repeat))}
    finally:
        database.drop()


def scale_table(series: list[dict]) -> list[str]:
    """One column per size: team-level figures should stay flat, organisation-level ones
    grow no faster than the people."""
    columns = [f"{f['people']:,} people" for f in series]
    rows: list[tuple[str, list[str]]] = [
        (
            "team coverage, cached / from scratch / floor (ms); cached ÷ floor, per pair",
            [
                f"{f['team_cached']:.2f} / {f['team_cold']:.2f} / {f['team_floor']:.2f}; "
                f"{f['team_cached_ratio']:.2f}×"
                for f in series
            ],
        ),
        (
            "coverage page, 1 client, p50 / p95 (hello p50) (ms)",
            [
                "{:.1f} / {:.1f} ({:.1f})".format(*f["serve"]["page"], f["serve"]["hello"][0])
                for f in series
            ],
        ),
        (
            "organisation coverage / floor (ms)",
            [f"{f['org']:.0f} / {f['org_floor']:.0f}" for f in series],
        ),
        (
            "organisation workbook: s, µs a cell (floor's), median ratio of 3 pairs",
            [
                "{:.1f} s, {:.2f} ({:.2f}), {:.2f}×".format(
                    f["org_book"]["seconds"],
                    f["org_book"]["seconds"]
                    / (f["org_book"].get("cells") or f["org_book_floor"]["cells"])
                    * 1e6,
                    f["org_book_floor"]["seconds"] / f["org_book_floor"]["cells"] * 1e6,
                    f["org_book_ratio"],
                )
                for f in series
            ],
        ),
        (
            "organisation workbook peak RSS (MB)",
            [f"{f['org_book']['peak_rss_mb']:.0f}" for f in series],
        ),
        (
            "seed-scale command, s per 1,000 people added (start-up included)",
            [f"{f['seed_per_1000']:.1f}" if f["seed_per_1000"] else "" for f in series],
        ),
    ]
    lines = [
        "| measure | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows]
    return lines


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu or platform.machine()}), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def table(results: dict, args) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        f"Benchmarks of {date.today():%d %B %Y}: {args.people:,} keyworkers in {args.teams} "
        f"teams, {args.cycles} cycles of history, plus the measured team of 50. "
        f"Machine: {machine()}.",
        "",
    ]
    if args.scales and not args.only_signoff:
        lines[0] = lines[0].replace(
            f"{args.people:,} keyworkers in {args.teams} teams",
            f"{args.people:,} keyworkers in {args.teams} teams (growth series: "
            f"{', '.join(f'{n:,}' for n in args.scales)} people)",
        )
    for kind, figures in results.items():
        if "server_version" in figures:
            lines[0] += f" PostgreSQL {figures['server_version']}."
        lines += [f"### {names[kind]}", ""]
        if "load_average" in figures:
            before, after = figures["load_average"]
            lines += [
                f"Load average (1 minute) at the start and end: {before:.2f}, {after:.2f}.",
                "",
            ]
        if "serve" in figures:
            lines += [
                "| measure | measured | floor, same run | against the target |",
                "|---|---|---|---|",
            ]
            lines += ["| {} | {} | {} | {} |".format(*row) for row in rows_for(figures)]
            lines.append("")
        if figures.get("signoff"):
            lines += [
                "| measure | measured | floor, same run (in turn) | against the target |",
                "|---|---|---|---|",
                "| {} | {} | {} | {} |".format(*signoff_row(figures["signoff"])),
                "",
            ]
        if figures.get("regional"):
            lines += [
                f"#### {names[kind]}: the regional view",
                "",
                "| measure | measured | floor, same run | ratio |",
                "|---|---|---|---|",
                *(
                    "| {} | {} | {} | {} |".format(*row)
                    for row in regional.rows_for(figures["regional"])
                ),
                "",
            ]
        if figures.get("scales"):
            lines += [f"#### {names[kind]}: how cost grows", "", *scale_table(figures["scales"])]
            lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=400)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="sign-in throttling storage for the gunicorn workers (production refuses memory://)",
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--requests", type=int, default=400, help="per latency measurement")
    parser.add_argument("--seconds", type=float, default=10, help="per throughput measurement")
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--smoke", action="store_true", help="tiny and short: checks it works")
    parser.add_argument(
        "--scales",
        type=lambda text: sorted({int(n) for n in text.split(",") if n.strip()}),
        default=[],
        help="also grow a region to each of these sizes (e.g. 1000,2000,10000) and print how "
        "team coverage, the coverage page, organisation coverage, the organisation workbook "
        "and seed-scale grow",
    )
    parser.add_argument(
        "--only-scales", action="store_true", help="with --scales: skip the full measurement"
    )
    parser.add_argument("--regional-people", type=int, default=20_000)
    parser.add_argument("--regional-organisations", type=int, default=50)
    parser.add_argument(
        "--only-regional", action="store_true", help="only the regional view's measurement"
    )
    parser.add_argument(
        "--only-signoff", action="store_true", help="only the sign-off beside its floor"
    )
    parser.add_argument(
        "--bench-database",
        default="competency_bench",
        help="the PostgreSQL database made (and dropped) for each run",
    )
    args = parser.parse_args()
    if args.smoke:
        args.people, args.teams, args.cycles = 200, 4, 2
        args.repeat, args.requests, args.seconds, args.load_seconds = 5, 30, 2, 5
        args.scales = [100, 200]  # the growth series too, at a toy size
        args.regional_people, args.regional_organisations = 300, 5
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}")
    results = {}
    for kind in kinds:
        print(f"… {kind}: generating and measuring", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        if args.only_signoff:
            results[kind] = run_signoff(kind, args)
        else:
            skip = args.only_scales or args.only_regional
            results[kind] = {} if skip else run_database(kind, args)
            print(f"… {kind}: the regional view", file=sys.stderr, flush=True)
            results[kind]["regional"] = run_regional(kind, args)
        if args.scales and not (args.only_regional or args.only_signoff):
            print(f"… {kind}: growth series {args.scales}", file=sys.stderr, flush=True)
            results[kind]["scales"] = run_scales(kind, args)
        results[kind]["load_average"] = [load_before, os.getloadavg()[0]]
        if kind == "postgresql":
            from sqlalchemy import create_engine, text

            engine = create_engine(args.postgres_url)
            with engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar()
            engine.dispose()
            results[kind]["server_version"] = version.split()[0]
    report = table(results, args)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    ran = {kind: figures for kind, figures in results.items() if "serve" in figures}
    errors = sum(r["serve"]["load"]["errors"] for r in ran.values())
    for kind, figures in ran.items():
        for error in figures["serve"]["load"]["first_errors"]:
            print(f"  {kind} load-run error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
