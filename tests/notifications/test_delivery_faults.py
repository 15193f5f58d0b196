"""Email with real processes under faults: a worker killed with SIGKILL mid-delivery, a
backlog of 2,500 reminders in worker mode, and a command run without mail settings. Each
test counts what the SMTP sink received against what was expected, and the duplicates.

Needs Redis (TEST_REDIS_HOST_PORT, as tests/jobs/test_worker_redis.py); skipped without it
unless REQUIRE_REDIS=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from competency_app.notifications.models import EmailState
from tests.jobs.test_worker_redis import (
    REDIS_SERVER,
    ROOT,
    forget_workers,
    redis_is_up,
    start_worker,
    stop_worker,
    wait_for,
)
from tests.notifications.test_at_least_once import backlog, states

pytestmark = pytest.mark.skipif(
    not redis_is_up() and os.environ.get("REQUIRE_REDIS") != "1",
    reason=f"Redis is not running on {REDIS_SERVER} (REQUIRE_REDIS=1 makes this a failure)",
)

LEASE = "3"  # seconds: a claim older than this, still `sending`, goes back to pending


@pytest.fixture
def workers(app, tmp_path, smtp_server):
    """Starts `flask worker` processes on the test's SMTP server; stops them all after."""
    _inbox, port = smtp_server
    started: list[subprocess.Popen] = []

    def start(name: str, **settings: str) -> subprocess.Popen:
        process = start_worker(app, tmp_path, port, name, MAIL_LEASE_SECONDS=LEASE, **settings)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            stop_worker(process)
        forget_workers(app, tmp_path)


def all_sent(app, expected: int):
    def check():
        with app.app_context():
            return states() == {EmailState.SENT: expected}

    return check


def every_one_received(inbox, addresses: list[str], started: float, note: str = "") -> int:
    """Checks every address got its email; prints the figures; returns the duplicates."""
    counts = Counter(message["To"] for message in inbox.messages)
    duplicates = sum(count - 1 for count in counts.values())
    print(
        f"{note}{len(counts)}/{len(addresses)} received, {duplicates} duplicates, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert set(counts) == set(addresses)  # every email at least once
    return duplicates


def test_a_worker_killed_mid_delivery_loses_no_email(app, team, smtp_server, workers):
    inbox, _port = smtp_server
    inbox.delay = 0.2  # a slow relay: the kill lands mid-batch, maybe mid-message
    with app.app_context():
        addresses = backlog(40)
    started = time.monotonic()
    first = workers("first")  # its start-up sweep queues the delivery of what waits
    wait_for(lambda: len(inbox.messages) >= 8, seconds=60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before_kill = len(inbox.messages)
    with app.app_context():
        left = states()
    assert left.get(EmailState.PENDING, 0) > 0, left  # killed mid-batch
    time.sleep(float(LEASE) + 0.5)  # the dead delivery's claim expires
    workers("second")  # its sweep returns the claim to pending and queues the rest
    wait_for(all_sent(app, len(addresses)), seconds=90)
    note = f"killed after {before_kill} of {len(addresses)} emails ({left}); in the end "
    duplicates = every_one_received(inbox, addresses, started, note)
    assert duplicates <= 2  # at most the messages in flight when the worker died


def test_a_backlog_of_2500_is_all_sent_after_one_send_reminders(
    app, team, smtp_server, workers, runner
):
    inbox, _port = smtp_server
    workers("worker")
    time.sleep(3)  # its start-up sweep has found nothing to send
    with app.app_context():
        addresses = backlog(2500)  # more than two batches of MAIL_BATCH (1,000)
    started = time.monotonic()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "0 new reminders recorded" in result.output
    assert "queued for the worker" in result.output
    wait_for(all_sent(app, len(addresses)), seconds=240)
    assert every_one_received(inbox, addresses, started, "after one send-reminders: ") == 0


def test_a_command_without_mail_settings_leaves_others_emails_to_the_worker(
    app, team, smtp_server, workers
):
    inbox, _port = smtp_server
    with app.app_context():
        addresses = backlog(30)  # written by the web, which has MAIL_SERVER
    shell = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MAIL_SERVER", "MAIL_PORT", "JOBS_REDIS_URL"}
    }
    shell.update(
        APP_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], JSON_LOGS="0"
    )
    run = subprocess.run(  # an operator's plain shell: no mail settings, no queue
        [sys.executable, "-m", "flask", "--app", "competency_app", "send-reminders"],
        env=shell,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "30 emails are left for the worker" in run.stdout
    with app.app_context():
        assert states() == {EmailState.PENDING: 30}  # nobody's email settled as in-app
    started = time.monotonic()
    workers("worker")
    wait_for(all_sent(app, len(addresses)), seconds=60)
    assert every_one_received(inbox, addresses, started, "after the worker started: ") == 0
