"""Shared by the benchmarks: a generated SQLite database in a temporary folder."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generated_database(people: int, prefix: str) -> str:
    """Build a database of `people` keyworkers with bench/run.py; return its URL."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    url = f"sqlite:///{workdir}/bench.sqlite3"
    command = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--people",
        str(people),
        "--repeat",
        "1",
        "--keep",
        url,
    ]
    subprocess.run(command, check=True, capture_output=True)
    return url
