"""Organisation workbook benchmark: time and peak memory beside the openpyxl floor.

    python bench/workbook.py                 # 10,000 people × the framework's skills
    python bench/workbook.py --people 2000
    python bench/workbook.py --smoke

Each measurement runs in a fresh child process, so its peak RSS is its own. The floor is
openpyxl write-only writing the same number of cells from plain lists (PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _data import generated_database  # noqa: E402


def child_floor(rows: int, cols: int) -> dict:
    from openpyxl import Workbook

    start = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Coverage")
    for r in range(rows):
        sheet.append(
            [f"Person {r}", f"p{r}@x.invalid", "Team", *[(r + c) % 4 for c in range(cols)]]
        )
    with tempfile.TemporaryFile() as handle:
        book.save(handle)
    return {"seconds": time.perf_counter() - start}


def child_workbook(db_url: str) -> dict:
    import os

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench")
    from competency_app import create_app
    from competency_app.exports.services import export_organisation

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        start = time.perf_counter()
        export = export_organisation(None, "bench")
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": export.rows, "bytes": len(export.content)}


def run_child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = (
            child_floor(int(rest[0]), int(rest[1])) if kind == "floor" else child_workbook(rest[0])
        )
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    people = 60 if args.smoke else args.people
    sys.path.insert(0, str(ROOT))
    url = generated_database(people, "competency-workbook-")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        skills = connection.execute(text("SELECT count(*) FROM skill")).scalar()
    engine.dispose()
    floor = run_child("floor", str(people), str(skills))
    ours = run_child("workbook", url)
    print(
        f"\nOrganisation workbook: {people:,} people × {skills} skills "
        f"({people * (skills + 3):,} coverage cells, {ours['rows']:,} rows in all sheets)\n"
    )
    print(
        "| measure | time | peak RSS | floor (openpyxl write-only, same cells) | ratio | target |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| organisation workbook | {ours['seconds']:.2f} s | {ours['peak_rss_mb']:.0f} MB | "
        f"{floor['seconds']:.2f} s, {floor['peak_rss_mb']:.0f} MB | "
        f"{ours['seconds'] / floor['seconds']:.2f}× | ≤ 1.3×, ≤ 150 MB |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
