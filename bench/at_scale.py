"""The measures that matter at a region's size, on a database already seeded (100,000 people).

    python bench/at_scale.py --url postgresql+psycopg://postgres@127.0.0.1:5432/region \\
        --team scale-0 --markdown run.md

Seeding 100,000 people takes minutes (`flask seed-scale --people 100000 --teams 1000
--cycles 2 --organisations 10`, timed by the command itself), so this script measures a
database seeded beforehand and leaves it as it found it, apart from each team's stored
figures (kept as sign-offs keep them). Each measure runs in a child process of its own:
  * team coverage (cached, and worked out from scratch) and organisation coverage, each
    alternated with its floor (bench/measure.py `coverage`);
  * the regional view from the stored figures, after every team's are stored, alternated
    with a GROUP BY over them, and its forecast (bench/regional.py);
  * the organisation workbook and its openpyxl write-only floor of as many cells, its peak
    memory its own (bench/measure.py `org-workbook`, the work the workbook job does);
  * the coverage page of the team under gunicorn at 1 client beside "hello", in turn.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import regional  # noqa: E402 - beside this file
from all import MANAGER, PASSWORD, child, flask, org_book_pairs, serve  # noqa: E402


def measure(args) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": args.url,
        "SECRET_KEY": "bench",
        "APP_ENV": "production",
        "RATELIMIT_STORAGE_URI": args.redis_url,
        "SESSION_COOKIE_SECURE": "0",
        "JSON_LOGS": "0",
        "JOBS_IN_PROCESS": "1",
    }
    out: dict = {"load_average": [os.getloadavg()[0]]}
    started = time.perf_counter()
    out["coverage"] = child("coverage", args.url, args.team, str(args.repeat))
    print(f"… coverage {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    command = [sys.executable, str(ROOT / "bench" / "regional.py"), "measure", args.url]
    result = subprocess.run(
        [*command, str(args.repeat)], cwd=ROOT, capture_output=True, text=True, env=os.environ
    )
    if result.returncode != 0:
        raise RuntimeError(f"regional.py failed:\n{result.stderr[-3000:]}")
    out["regional"] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"… regional {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    out |= org_book_pairs(args.url, out["coverage"]["skills"] + 3, rounds=1)
    print(f"… workbook {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    with contextlib.suppress(RuntimeError):  # there from an earlier run
        flask(env, "create-user", MANAGER, "--name", "Bench Manager", "--role", "manager",
              "--team", args.team, "--password", PASSWORD)  # fmt: skip
    out["serve"] = serve(env, args.team, args.requests, 0, 0, full=False)
    out["load_average"].append(os.getloadavg()[0])
    return out


def _ratio_row(name: str, f: dict, key: str, unit: str) -> str:
    return (
        f"| {name} | {f[key]:.2f} {unit} | {f[key + '_floor']:.2f} {unit} | "
        f"{f[key + '_ratio']:.2f}× (IQR {f[key + '_q1']:.2f}–{f[key + '_q3']:.2f}) |"
    )


def table(out: dict) -> str:
    c, book, floor = out["coverage"], out["org_book"], out["org_book_floor"]
    hello, page = out["serve"]["hello"], out["serve"]["page"]
    cells = book["cells"]
    lines = [
        f"{c['people']:,} people; team of {c['team_size']}; load average "
        + " → ".join(f"{n:.2f}" for n in out["load_average"]),
        "",
        "| measure | measured | floor, in turn | ratio |",
        "|---|---|---|---|",
        _ratio_row("team coverage, cached", c, "team_cached", "ms"),
        _ratio_row("team coverage from scratch", c, "team_cold", "ms"),
        _ratio_row("organisation coverage (GROUP BY over every current rating)", c, "org", "ms")[
            :-2
        ]
        + f"; {'✔' if c['org'] <= 1000 else '✘'} ≤ 1 s |",
        *("| {} | {} | {} | {} |".format(*row) for row in regional.rows_for(out["regional"])),
        f"| organisation workbook ({cells:,} cells) | {book['seconds']:.0f} s, "
        f"{book['peak_rss_mb']:.0f} MB, {book['seconds'] / cells * 1e6:.2f} µs a cell "
        f"| {floor['seconds']:.0f} s, {floor['seconds'] / floor['cells'] * 1e6:.2f} µs a cell "
        f"| {out['org_book_ratio']:.2f}× a cell; {'✔' if book['peak_rss_mb'] <= 150 else '✘'} "
        "≤ 150 MB |",
        f"| coverage page, 1 client, p50 / p95 | {page[0]:.1f} / {page[1]:.1f} ms "
        f"| hello {hello[0]:.1f} / {hello[1]:.1f} ms | p50 {page[0] / hello[0]:.1f}× hello |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the seeded database")
    parser.add_argument("--team", default="scale-0", help="the team measured")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    out = measure(args)
    report = table(out)
    print(report)
    print(json.dumps(out), file=sys.stderr)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
