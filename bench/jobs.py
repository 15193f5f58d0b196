"""The organisation workbook as a job on a real Redis and worker, beside a coverage load.

    python bench/jobs.py                          # 2,000 people, 80 teams, SQLite
    python bench/jobs.py --database postgresql    # on a fresh PostgreSQL database
    python bench/jobs.py --smoke                  # tiny, to check it runs

Makes a fresh database with `flask seed-scale`, serves it with gunicorn (2 sync workers)
and one `flask worker`, both on Redis (`--redis-url`, database 3 by default; only the
queue's own keys are used). Measures the coverage page under 8 clients for `--seconds`
without any job (p50/p95), then again while an HR officer's organisation workbook job
runs, and how long the job took from the request to its file. Prints one JSON line and a
short table; exit status 1 when the p95 with the job is above twice the p95 without it
(not judged in a smoke run), or the job did not produce its file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import Session, free_port, load_run, spread, wait_until_up  # noqa: E402

bench_all = importlib.import_module("all")

PASSWORD = "bench-hr-passphrase"  # noqa: S105 - a throwaway benchmark account
HR = "bench.hr@bench.invalid"
MANAGER = "bench.manager@bench.invalid"


class Database:
    """A fresh database for this benchmark (SQLite file, or `name` on the PostgreSQL server
    of `postgres_url`, which is used only to create and drop it)."""

    def __init__(self, kind: str, postgres_url: str, name: str):
        self.kind, self.name = kind, name
        if kind == "sqlite":
            self.folder = tempfile.mkdtemp(prefix="competency-bench-jobs-")
            self.url = f"sqlite:///{self.folder}/bench.sqlite3"
            return
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=80)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=bench_all.DEFAULT_PG)
    parser.add_argument(
        "--pg-database", default="competency_bench_jobs", help="the database made and dropped"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_JOBS_REDIS_URL", "redis://127.0.0.1:6379/3")
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and short")
    args = parser.parse_args()
    if args.smoke:
        args.people, args.teams, args.cycles, args.seconds = 60, 4, 2, 3

    database = Database(args.database, args.postgres_url, args.pg_database)
    jobs_dir = tempfile.mkdtemp(prefix="competency-jobs-")
    processes: list[subprocess.Popen] = []
    try:
        flask = bench_all.flask
        env = bench_all.prepare(database, args, JOBS_REDIS_URL=args.redis_url, JOBS_DIR=jobs_dir)
        flask(
            env,
            "seed-scale",
            "--people",
            str(args.people),
            "--teams",
            str(args.teams),
            "--cycles",
            str(args.cycles),
        )
        flask(env, "seed-scale", "--people", "50", "--teams", "1", "--cycles", str(args.cycles))
        team = f"scale-{args.teams}"
        for email, role, extra in (
            (MANAGER, "manager", ["--team", team]),
            (HR, "hr", []),
        ):
            flask(
                env,
                "create-user",
                email,
                "--name",
                email.split("@")[0],
                "--role",
                role,
                *extra,
                "--password",
                PASSWORD,
            )

        port = free_port()
        web_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "competency_app:create_app()",
        ]
        processes.append(
            subprocess.Popen(
                command, env=web_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        worker = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "competency_app",
            "worker",
            "--workers",
            "1",
        ]
        processes.append(
            subprocess.Popen(
                worker, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        wait_until_up(port, 120)
        login = (MANAGER, PASSWORD)
        page = f"/teams/{team}/coverage"
        warm = Session(port)
        warm.sign_in(*login)
        for _ in range(20):
            warm.request("GET", page)

        quiet, quiet_errors = load_run(port, login, [page], 8, args.seconds)

        hr = Session(port)
        hr.sign_in(HR, PASSWORD)
        _, exports = hr.request("GET", "/exports")
        token = re.search(r'name="csrf_token" value="([^"]+)"', exports)
        assert token, "no CSRF token on /exports"
        job: dict = {}

        def ask_and_wait() -> None:
            started = time.perf_counter()
            status, _ = hr.request(
                "POST", "/exports/organisation", urlencode({"csrf_token": token.group(1)})
            )
            job["asked"] = status
            job_id = newest_job(env)
            while time.perf_counter() - started < 600:
                _, body = hr.request("GET", f"/jobs/{job_id}")
                if "Ready" in body or "This did not work" in body:
                    job["seconds"] = time.perf_counter() - started
                    job["ready"] = "Ready" in body
                    status, _ = hr.request("GET", f"/jobs/{job_id}/download")
                    job["download"] = status
                    return
                time.sleep(0.5)

        asker = threading.Thread(target=ask_and_wait)
        asker.start()
        busy, busy_errors = load_run(port, login, [page], 8, args.seconds)
        asker.join(timeout=900)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        database.drop()

    result = {
        "database": args.database,
        "people": args.people + 50,
        "teams": args.teams + 1,
        "clients": 8,
        "seconds": args.seconds,
        "coverage_without_job_ms": spread(quiet) if quiet else None,
        "coverage_with_job_ms": spread(busy) if busy else None,
        "requests": [len(quiet), len(busy)],
        "errors": [len(quiet_errors), len(busy_errors)],
        "job": job,
    }
    print(json.dumps(result))
    ratio = result["coverage_with_job_ms"][1] / result["coverage_without_job_ms"][1]
    print(
        f"coverage p50/p95 without the job {spread(quiet)[0]:.0f}/{spread(quiet)[1]:.0f} ms, "
        f"with it {spread(busy)[0]:.0f}/{spread(busy)[1]:.0f} ms (p95 ×{ratio:.2f}); "
        f"organisation workbook job {job.get('seconds', float('nan')):.1f} s, "
        f"file {'ready' if job.get('ready') else 'NOT ready'}"
    )
    # the smoke run checks that it works; its 3 s of load are too short to judge the ratio
    within = ratio <= 2 or args.smoke
    return 0 if job.get("ready") and job.get("download") == 200 and within else 1


def newest_job(env: dict) -> int:
    from sqlalchemy import create_engine, text

    url = env["DATABASE_URL"]
    engine = create_engine(url)
    try:
        for _ in range(100):
            with engine.connect() as connection:
                found = connection.execute(text("SELECT max(id) FROM job")).scalar()
            if found:
                return int(found)
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise RuntimeError("no job was recorded")


if __name__ == "__main__":
    sys.exit(main())
