"""Pages under gunicorn, and a bounded load run — on 127.0.0.1 only.

    python bench/serve.py             # a region of 2,000 keyworkers in teams of 50
    python bench/serve.py --smoke     # small and short, as CI runs it

Starts gunicorn (gunicorn.conf.py, 2 sync workers) on a free loopback port against a
generated SQLite database, signs in as a team manager, then measures with plain HTTP
clients in threads (every loop bounded in count and time):
  * the "hello" floor (/healthz/live) and the team coverage page: p50/p95 at 1 client and
    throughput at 8 clients;
  * a load run: 20 clients for 60 s (10 s with --smoke) over mixed pages; errors counted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _data import generated_database  # noqa: E402

PASSWORD = "bench-manager-passphrase"  # noqa: S105 - a throwaway benchmark account


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """A tiny cookie-keeping HTTP client for one thread."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        data = response.read().decode("utf-8", "replace")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def sign_in(self, email: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST",
            "/login",
            urlencode({"email": email, "password": PASSWORD, "csrf_token": token}),
        )
        assert status == 303, f"sign-in failed: {status}"


def latencies(session: Session, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        status, _ = session.request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status)
    return times


def throughput(port: int, email: str, path: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        session = Session(port)
        session.sign_in(email)
        while time.perf_counter() < deadline:
            status, _ = session.request("GET", path)
            if status == 200:
                done[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return sum(done) / (time.perf_counter() - started)


def load_run(port: int, email: str, paths: list[str], clients: int, seconds: float):
    results: list[tuple[float, int]] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        session = Session(port)
        session.sign_in(email)
        n = index
        while time.perf_counter() < deadline:
            path = paths[n % len(paths)]
            n += 1
            start = time.perf_counter()
            try:
                status, _ = session.request("GET", path)
            except (http.client.HTTPException, OSError) as error:
                with lock:
                    errors.append(f"{path}: {error}")
                continue
            with lock:
                results.append(((time.perf_counter() - start) * 1000, status))
                if status >= 400:
                    errors.append(f"{path}: HTTP {status}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return results, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    people, requests, seconds, load_seconds = (
        (100, 30, 2, 10) if args.smoke else (args.people, 400, 10, 60)
    )
    url = generated_database(people, "competency-serve-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "APP_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "GUNICORN_WORKERS": "2",
        "JSON_LOGS": "0",
    }
    # a manager for team-0 who can sign in
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "competency_app",
            "create-user",
            "manager@bench.invalid",
            "--name",
            "Bench Manager",
            "--role",
            "manager",
            "--team",
            "team-0",
            "--password",
            PASSWORD,
        ],
        check=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "competency_app:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                Session(port).request("GET", "/healthz/live")
                break
            except OSError:
                time.sleep(0.1)
        email = "manager@bench.invalid"
        session = Session(port)
        session.sign_in(email)
        page = "/teams/team-0/coverage"
        latencies(session, page, 20)  # warm both workers' caches
        hello = latencies(session, "/healthz/live", requests)
        coverage = latencies(session, page, requests)
        hello_rps = throughput(port, email, "/healthz/live", 8, seconds)
        coverage_rps = throughput(port, email, page, 8, seconds)
        mixed = [
            page,
            "/",
            "/framework",
            "/framework/elements/4b",
            "/teams/team-0/training-plan",
            "/api/v1/teams/team-0/coverage",
        ]
        results, errors = load_run(port, email, mixed, 20, load_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = [t for t, _ in results]
    print(
        f"\nServing benchmark: gunicorn, 2 sync workers, SQLite, team of 50 "
        f"({people:,} keyworkers in the database)\n"
    )
    print("| measure | result | floor / target |")
    print("|---|---|---|")

    def spread(values):
        return f"p50 {statistics.median(values):.2f} ms, p95 {pct(values, 0.95):.2f} ms"

    share = 100 * coverage_rps / hello_rps
    rows = [
        ("hello route, 1 client", spread(hello), "floor p95 0.6 ms"),
        ("coverage page, 1 client", spread(coverage), "p50 ≤ 10 ms, p95 ≤ 20 ms"),
        (
            "throughput at 8 clients",
            f"hello {hello_rps:.0f} req/s, coverage {coverage_rps:.0f} req/s ({share:.0f}%)",
            "≥ 40% of hello",
        ),
        (
            f"load run: 20 clients, {load_seconds} s, mixed pages",
            f"{len(results):,} requests, {len(errors)} errors, {spread(times)}",
            "0 errors",
        ),
    ]
    for row in rows:
        print("| {} | {} | {} |".format(*row))
    for error in errors[:10]:
        print("  error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
