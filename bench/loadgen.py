"""A bounded HTTP load generator for 127.0.0.1 (used by bench/all.py).

Plain `http.client` connections in threads, one cookie-keeping session per thread; every loop
is bounded in count or time.
"""

from __future__ import annotations

import http.client
import re
import socket
import statistics
import threading
import time
from urllib.parse import urlencode


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

    def sign_in(self, email: str, password: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST", "/login", urlencode({"email": email, "password": password, "csrf_token": token})
        )
        if status != 303:
            raise RuntimeError(f"sign-in failed: HTTP {status}")


def wait_until_up(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            Session(port).request("GET", "/healthz/live")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def interleaved(session: Session, paths: list[str], count: int) -> dict[str, list[float]]:
    """`latencies` of each path, requested in turn (a, b, a, b, …) so that every path meets
    the same moments of a shared machine: their ratio is then fair."""
    times: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(count):
        for path in paths:
            times[path] += latencies(session, path, 1)
    return times


def latencies(session: Session, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        status, _ = session.request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
    return times


def _run_clients(clients: int, seconds: float, work) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)


def _signed_in(port: int, login: tuple[str, str], clients: int) -> list[Session]:
    sessions = [Session(port) for _ in range(clients)]
    for session in sessions:
        session.sign_in(*login)
    return sessions


def throughput(
    port: int,
    login: tuple[str, str],
    path: str,
    clients: int,
    seconds: float,
    sessions: list[Session] | None = None,
):
    """Requests per second answered 200 by `clients` threads looping on `path` (on
    `sessions` when given: signed in already, one a client)."""
    done = [0] * clients
    sessions = sessions or _signed_in(port, login, clients)
    deadline = time.perf_counter() + seconds

    def work(index: int) -> None:
        while time.perf_counter() < deadline:
            status, _ = sessions[index].request("GET", path)
            if status == 200:
                done[index] += 1

    started = time.perf_counter()
    _run_clients(clients, seconds, work)
    return sum(done) / (time.perf_counter() - started)


def throughput_pairs(
    port: int,
    login: tuple[str, str],
    paths: tuple[str, str],
    clients: int,
    seconds: float,
    rounds: int = 3,
) -> dict:
    """Throughput of `paths[1]` alternated with `paths[0]` (its floor) in `rounds` rounds of
    `seconds / rounds` each, on the same signed-in clients: each side's median requests per
    second, and the median of the per-round shares (second over first) with its range."""
    sessions = _signed_in(port, login, clients)
    floors, measured, shares = [], [], []
    for _ in range(rounds):
        floor = throughput(port, login, paths[0], clients, seconds / rounds, sessions)
        rate = throughput(port, login, paths[1], clients, seconds / rounds, sessions)
        floors.append(floor)
        measured.append(rate)
        shares.append(rate / floor if floor else 0.0)
    return {
        "floor_rps": statistics.median(floors),
        "rps": statistics.median(measured),
        "share": statistics.median(shares),
        "share_range": [min(shares), max(shares)],
    }


def load_run(port: int, login: tuple[str, str], paths: list[str], clients: int, seconds: float):
    """`clients` threads cycling through `paths` for `seconds`: latencies and errors."""
    results: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sessions = _signed_in(port, login, clients)
    deadline = time.perf_counter() + seconds

    def work(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            path = paths[n % len(paths)]
            n += 1
            start = time.perf_counter()
            try:
                status, _ = sessions[index].request("GET", path)
            except (http.client.HTTPException, OSError) as error:
                with lock:
                    errors.append(f"{path}: {error}")
                continue
            with lock:
                results.append((time.perf_counter() - start) * 1000)
                if status >= 400:
                    errors.append(f"{path}: HTTP {status}")

    _run_clients(clients, seconds, work)
    return results, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), pct(values, 0.95)
