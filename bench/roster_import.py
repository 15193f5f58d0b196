"""A large staff roster previewed and applied over the web, with time and peak memory.

    python bench/roster_import.py                         # 20,000 rows, SQLite
    python bench/roster_import.py --rows 2000 --format csv
    python bench/roster_import.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

It makes a fresh database (SQLite: a temporary file; PostgreSQL: the database named, whose
tables it creates with the migrations and drops at the end, so use a scratch database), adds
40 teams and one HR officer, writes a roster of ROWS new people (one in ten a supervisor,
the others supervised by one of them) as .xlsx (openpyxl write-only, as HR's tools write
it) or .csv, then, as the HR officer through the real pages (Flask's test client, in one
child process): uploads it for the preview, applies it, and imports it a second time (every
row an unchanged person). Prints each request's time, the process's peak RSS, and checks
that everyone was created with their role, team, supervisor and a set-your-password link.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HR_PASSWORD = "bench-hr-passphrase"  # noqa: S105 - a throwaway benchmark account
TEAMS = 40


def roster(rows: int, kind: str) -> bytes:
    header = ["name", "email", "role", "team", "supervisor"]
    table = []
    for n in range(rows):
        team = f"team-{n % TEAMS:02d}"
        if n % 10 == 0:
            role, supervisor = "supervisor;practitioner", ""
        else:
            role, supervisor = "practitioner", f"person.{n - n % 10}@bench.invalid"
        table.append(
            [f"Person {n:05d} Example", f"person.{n}@bench.invalid", role, team, supervisor]
        )
    if kind == "csv":
        lines = [",".join(header)] + [",".join(row) for row in table]
        return ("\n".join(lines) + "\n").encode()
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Staff")
    sheet.append(header)
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def peak_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would include the parent's at fork)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(n.split()[1]) for n in status if n.startswith("VmHWM")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, rows: int, kind: str) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from competency_app import create_app
    from competency_app.accounts import services
    from competency_app.accounts.models import PasswordLink, Role, SupervisionLink, User
    from competency_app.extensions import db
    from tests.conftest import csrf_from

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    result: dict = {"rows": rows, "format": kind}
    with app.app_context():
        upgrade()
        for n in range(TEAMS):
            services.create_team(f"team-{n:02d}", f"Team {n}", None)
        services.create_user(
            "bench.hr@bench.invalid",
            "Bench HR",
            HR_PASSWORD,
            [services.RoleGrant(Role.HR, None)],
            None,
        )
        db.session.commit()
        db.session.remove()
    content = roster(rows, kind)
    result["file_kb"] = round(len(content) / 1024)
    result["baseline_rss_mb"] = round(peak_mb())
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"email": "bench.hr@bench.invalid", "password": HR_PASSWORD, "csrf_token": token},
    )
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))

    def preview():
        started = time.perf_counter()
        response = client.post(
            "/admin/imports/preview",
            data={
                "csrf_token": token,
                "kind": "roster",
                "file": (io.BytesIO(content), f"roster.{kind}"),
            },
            content_type="multipart/form-data",
        )
        elapsed = time.perf_counter() - started
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page[:2000]
        return elapsed, re.search(r'name="token" value="([^"]+)"', page).group(1)

    def apply(pending: str) -> float:
        started = time.perf_counter()
        response = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        return elapsed

    result["preview_s"], pending = preview()
    result["apply_s"] = apply(pending)
    result["peak_rss_mb"] = round(peak_mb())
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(User))
        links = db.session.scalar(select(func.count()).select_from(PasswordLink))
        supervised = db.session.scalar(select(func.count()).select_from(SupervisionLink))
        assert people == rows + 1, people
        assert links == rows, links
        assert supervised == rows - (rows + 9) // 10, supervised
        result["people"], result["links"], result["supervision_links"] = people, links, supervised
    result["reimport_preview_s"], pending = preview()
    result["reimport_apply_s"] = apply(pending)
    result["peak_rss_mb_after_reimport"] = round(peak_mb())
    with app.app_context():
        db.session.remove()
        cascade = " CASCADE" if db.engine.dialect.name == "postgresql" else ""
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"{cascade}'))
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--postgres-url", help="a scratch PostgreSQL database (tables dropped)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.rows, args.format)))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres_url or f"sqlite:///{Path(folder) / 'roster.sqlite3'}"
        done = subprocess.run(
            [sys.executable, __file__, "--child", url, "--rows", str(args.rows)]
            + ["--format", args.format],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        return 1
    result = json.loads(done.stdout.strip().splitlines()[-1])
    database = "PostgreSQL" if args.postgres_url else "SQLite"
    print(
        f"roster import, {result['rows']:,} new people from {result['format']} "
        f"({result['file_kb']:,} kB) on {database}:"
    )
    print(f"  preview (read + check)        {result['preview_s']:6.2f} s")
    print(f"  apply (check again + apply)   {result['apply_s']:6.2f} s")
    print(f"  re-import: preview            {result['reimport_preview_s']:6.2f} s")
    print(f"  re-import: apply (no change)  {result['reimport_apply_s']:6.2f} s")
    print(
        f"  peak RSS of the process       {result['peak_rss_mb']:6d} MB "
        f"(after start-up {result['baseline_rss_mb']} MB; after the re-import "
        f"{result['peak_rss_mb_after_reimport']} MB)"
    )
    print(
        f"  stored: {result['people']:,} people, {result['links']:,} links, "
        f"{result['supervision_links']:,} supervision links"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
