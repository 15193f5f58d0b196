"""Jobs: ask for one (identical requests share it), run it with progress, keep its file for
a while for the people who asked, then delete it.

A feature registers a kind of job with `register(JobKind(...))`: its title, the function
that does the work (`run(params, progress) -> JobResult`) and, for a file, what to record
when someone downloads it. The work runs in the worker (or in-process, see `queue.py`)
inside its own application context and session.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from competency_app.accounts.models import User
from competency_app.clock import utcnow
from competency_app.common.dates import LONDON
from competency_app.database import _writing, mark_read_only, unit_of_work
from competency_app.extensions import db
from competency_app.jobs.models import Job, JobRequester, JobState
from competency_app.jobs.queue import huey, job_app

log = logging.getLogger("competency_app.jobs")


class JobError(ValueError):
    """A refusal the person can act on: its message is shown on the job's page."""


class JobStopped(Exception):
    """The job's row is no longer running (its lease ran out): the work stops here."""


@dataclass
class JobResult:
    summary: str
    content: bytes | None = None
    filename: str | None = None
    # or, for a file too large to hold in memory, the finished file (a `scratch_file`),
    # moved into the store as it is
    file: Path | None = None


Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    run: Callable[[dict, Progress], JobResult]
    mimetype: str = "application/octet-stream"
    on_download: Callable[[Job, User], None] | None = None
    # Whether this person may ask for this job with these parameters now (the rule of the
    # request that starts it), so a failed job can be tried again; None: not from the web.
    may_request: Callable[[User, dict], bool] | None = None


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


def kind_of(job: Job) -> JobKind | None:
    return KINDS.get(job.kind)


# ---- asking for a job ---------------------------------------------------------------------


def params_hash(kind: str, params: dict) -> str:
    text = json.dumps({"kind": kind, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def request_job(
    kind: str, params: dict, user: User | None, unit: str = "steps"
) -> tuple[Job, bool]:
    """The job for (`kind`, `params`) and whether it is new: the one already queued or
    running (shared), or a new one. `user` becomes one of its requesters. Flushes; the
    caller commits, then calls `enqueue(job.id)` for a new job."""
    if kind not in KINDS:
        raise JobError(f"There is no job of kind {kind!r}.")
    key = params_hash(kind, params)
    job = _active(key)
    if job is not None and is_stalled(job):
        # Its worker is gone: fail it, then start afresh, or join the job of whoever
        # failed it at the same moment (read again either way: their UPDATE won).
        fail_stalled(job.id)
        job = _active(key)
    created = job is None
    if job is None:
        try:
            with db.session.begin_nested():
                job = Job(
                    kind=kind,
                    params=params,
                    params_hash=key,
                    active_key=key,
                    state=JobState.QUEUED.value,
                    unit=unit,
                    owner_id=user.id if user else None,
                    created_at=utcnow(),
                )
                db.session.add(job)
                db.session.flush()
        except IntegrityError:  # someone asked at the same moment: share theirs
            created = False
            job = _active(key)
            if job is None:
                raise JobError("The job could not be started: try again.") from None
    if user is not None:
        asked = db.session.scalar(
            select(JobRequester.id).where(
                JobRequester.job_id == job.id, JobRequester.user_id == user.id
            )
        )
        if asked is None:
            db.session.add(JobRequester(job_id=job.id, user_id=user.id, requested_at=utcnow()))
            db.session.flush()
    return job, created


def _active(key: str) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.active_key == key).execution_options(populate_existing=True)
    )


def may_try_again(user: User, job: Job) -> bool:
    """Whether `user` may start this failed job afresh: they asked for it, and may still
    ask for a job of its kind with its parameters."""
    kind = kind_of(job)
    return (
        job.status is JobState.FAILED
        and kind is not None
        and kind.may_request is not None
        and is_requester(user, job)
        and kind.may_request(user, dict(job.params))
    )


def try_again(job: Job, user: User) -> tuple[Job, bool]:
    """A fresh job of the failed job's kind and parameters (or the identical one already
    running), as `request_job`. Flushes."""
    return request_job(job.kind, dict(job.params), user, unit=job.unit)


def enqueue(job_id: int) -> None:
    """Hand the committed job to the queue. In-process, it runs now."""
    try:
        run_job_task(job_id)
    except Exception:
        # The queue is down: say so on the job's page rather than leave it waiting.
        log.exception("job %s could not be queued", job_id)
        _finish(job_id, JobState.FAILED, error="The job queue is not available: try again later.")


def jobs_of(user: User, limit: int = 20) -> list[Job]:
    return list(
        db.session.scalars(
            select(Job)
            .join(JobRequester, JobRequester.job_id == Job.id)
            .where(JobRequester.user_id == user.id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(limit)
        )
    )


def is_requester(user: User, job: Job) -> bool:
    return (
        db.session.scalar(
            select(JobRequester.id).where(
                JobRequester.job_id == job.id, JobRequester.user_id == user.id
            )
        )
        is not None
    )


# ---- running a job ------------------------------------------------------------------------


@huey.task(retries=0)
def run_job_task(job_id: int) -> None:
    app = job_app()
    # A context of its own (its own session), also when run in-process inside a request.
    with app.app_context():
        token = _writing.set(True)
        try:
            run_job(job_id)
        finally:
            _writing.reset(token)
            db.session.remove()


def run_job(job_id: int) -> None:
    """Run the job now, in this context: progress as it goes, its file when done."""
    job = db.session.get(Job, job_id)
    if job is None or job.status is not JobState.QUEUED:
        return  # already run (a repeated delivery) or gone
    kind = kind_of(job)
    params = dict(job.params)
    db.session.rollback()
    now = utcnow()
    claimed = _update(
        job_id,
        {"state": JobState.RUNNING.value, "started_at": now, "heartbeat_at": now},
        JobState.QUEUED,
    )
    if not claimed:
        return  # another worker took it
    if kind is None:
        _finish(job_id, JobState.FAILED, error="This kind of job is no longer available.")
        return
    reporter = _Reporter(job_id)
    mark_read_only(True)  # reads in a deferred transaction: progress is written beside it
    try:
        result = kind.run(params, reporter)
    except JobStopped:
        db.session.rollback()
        log.warning("job %s (%s) stopped: its lease ran out", job_id, kind.name)
        return
    except JobError as error:
        db.session.rollback()
        _finish(job_id, JobState.FAILED, error=str(error))
        return
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, kind.name)
        _finish(
            job_id,
            JobState.FAILED,
            error="Something went wrong while doing this: nothing was changed. Try again, "
            "or tell the service desk if it happens again.",
        )
        return
    finally:
        mark_read_only(False)
    db.session.rollback()
    stored = (
        _store(job_id, result) if result.content is not None or result.file is not None else None
    )
    hours = int(current_app.config["JOB_RESULT_HOURS"])
    finished = _finish(
        job_id,
        JobState.DONE,
        summary=result.summary,
        result_file=stored,
        result_name=result.filename,
        expires_at=utcnow() + timedelta(hours=hours),
        done=reporter.total or reporter.done,
        total=reporter.total or reporter.done,
    )
    if not finished and stored is not None:  # failed meanwhile (its lease ran out)
        (jobs_dir() / stored).unlink(missing_ok=True)


@contextmanager
def writing() -> Iterator[None]:
    """For a job that writes: a fresh writing transaction, committed at the end."""
    db.session.rollback()
    token = _writing.set(True)
    try:
        with unit_of_work():
            yield
    finally:
        _writing.reset(token)


class _Reporter:
    """Writes done / total and the heartbeat on the job's row, at most twice a second,
    beside the job's own transaction (its own connection, committed at once). A job no
    longer running (failed when its lease ran out) is stopped: `JobStopped`."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.done = 0
        self.total = 0
        self._last = 0.0
        self._delay = float(current_app.config["JOB_STEP_DELAY_SECONDS"])

    def __call__(self, done: int, total: int) -> None:
        if self._delay:
            time.sleep(self._delay)  # fault tests: a job slow enough to be caught midway
        self.done, self.total = done, total
        now = time.monotonic()
        if done < total and now - self._last < 0.5:
            return
        self._last = now
        values = {"done": done, "total": total, "heartbeat_at": utcnow()}
        if not _update(self.job_id, values, JobState.RUNNING):
            raise JobStopped(self.job_id)


def _update(job_id: int, values: dict, *states: JobState) -> bool:
    """Set `values` on the job's row if it is in one of `states` (any, if none given), on
    a connection of its own, committed at once. Whether it did."""
    statement = update(Job).where(Job.id == job_id)
    if states:
        statement = statement.where(Job.state.in_([state.value for state in states]))
    token = _writing.set(True)
    try:
        with db.engine.begin() as connection:
            return connection.execute(statement.values(**values)).rowcount == 1
    finally:
        _writing.reset(token)


def _finish(job_id: int, state: JobState, **values) -> bool:
    """End a job still queued or running (one failed meanwhile stays failed)."""
    values = {"state": state.value, "finished_at": utcnow(), "active_key": None, **values}
    return _update(job_id, values, JobState.QUEUED, JobState.RUNNING)


# ---- the lease: a running job must show progress ------------------------------------------


def lease() -> timedelta:
    return timedelta(minutes=float(current_app.config["JOB_LEASE_MINUTES"]))


def _last_sign_of_life():
    return func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)


def is_stalled(job: Job, now: datetime | None = None) -> bool:
    """Whether a running job has shown no progress for longer than the lease (read from
    the loaded row; `fail_stalled` decides for sure, in the database)."""
    seen = job.heartbeat_at or job.started_at or job.created_at
    return job.status is JobState.RUNNING and seen < (now or utcnow()) - lease()


def fail_stalled(job_id: int | None = None, now: datetime | None = None) -> int:
    """Fail the running jobs (or the one job) whose progress has not moved within the
    lease: their worker died. Each is failed with the time of its last progress and gives
    up its key, so the next request starts afresh. One conditional UPDATE per job, in the
    session's transaction: of two requests at once only one fails it (the other's UPDATE
    matches no row), and a job that moved meanwhile is left alone. Returns how many."""
    now = now or utcnow()
    cutoff = now - lease()
    running = select(Job.id, _last_sign_of_life()).where(
        Job.state == JobState.RUNNING.value, _last_sign_of_life() < cutoff
    )
    if job_id is not None:
        running = running.where(Job.id == job_id)
    failed = 0
    for stalled_id, seen in db.session.execute(running).all():
        result = db.session.execute(
            update(Job)
            .where(
                Job.id == stalled_id,
                Job.state == JobState.RUNNING.value,
                _last_sign_of_life() < cutoff,
            )
            .values(
                state=JobState.FAILED.value,
                active_key=None,
                finished_at=now,
                error=stalled_reason(seen),
            )
            .execution_options(synchronize_session=False)
        )
        failed += result.rowcount  # type: ignore[attr-defined]
    if failed:
        db.session.expire_all()
    return failed


def stalled_reason(seen: datetime) -> str:
    return (
        f"The worker doing this stopped: no progress since {seen.astimezone(LONDON):%H:%M}. "
        "Try again."
    )


# ---- result files -------------------------------------------------------------------------


def jobs_dir() -> Path:
    configured = current_app.config.get("JOBS_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# What a job writes its file into while it runs (`scratch_file`): moved into the store
# when done, deleted by the job when it fails, by `clean_up` when its worker died.
SCRATCH_PREFIX = "partial-"


def scratch_file() -> Path:
    """A new empty file, readable by this user only, for a job to write its result into
    (`JobResult.file`): in the store's folder, so that keeping it is a rename."""
    handle, name = tempfile.mkstemp(prefix=SCRATCH_PREFIX, dir=jobs_dir())
    os.close(handle)
    return Path(name)


@contextmanager
def scratch() -> Iterator[Path]:
    """A `scratch_file`, deleted if the block fails."""
    path = scratch_file()
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _store(job_id: int, result: JobResult) -> str:
    name = f"job-{job_id}-{secrets.token_hex(8)}"
    path = jobs_dir() / name
    if result.file is not None:
        os.replace(result.file, path)
    else:
        path.write_bytes(result.content or b"")
    path.chmod(0o600)
    return name


def result_available(job: Job) -> bool:
    """Whether the job's file can be downloaded now (an expired one is deleted; flushes)."""
    if job.status is not JobState.DONE or job.result_file is None:
        return False
    if job.expires_at is not None and job.expires_at <= utcnow():
        expire(job)
        return False
    return (jobs_dir() / job.result_file).exists()


def result_bytes(job: Job) -> bytes | None:
    """The job's file, or None when it has none or it has expired (then it is deleted)."""
    if job.status is not JobState.DONE or job.result_file is None:
        return None
    if job.expires_at is not None and job.expires_at <= utcnow():
        expire(job)
        return None
    path = jobs_dir() / job.result_file
    return path.read_bytes() if path.exists() else None


def expire(job: Job) -> None:
    """Delete the job's file and mark it deleted (flushes)."""
    if job.result_file:
        (jobs_dir() / job.result_file).unlink(missing_ok=True)
    job.result_file = None
    job.state = JobState.EXPIRED.value
    db.session.flush()


STALE_AFTER = timedelta(hours=6)


def clean_up(now: datetime | None = None) -> tuple[int, int]:
    """Delete expired files and the scratch files of workers that died; fail running jobs
    past their lease, and jobs stuck for hours (queued for a worker that never came).
    Returns (files deleted, jobs failed). Flushes."""
    now = now or utcnow()
    expired = list(
        db.session.scalars(
            select(Job).where(Job.state == JobState.DONE.value, Job.expires_at <= now)
        )
    )
    for job in expired:
        expire(job)
    scraps = _old_scratch_files(now)
    stalled = fail_stalled(now=now)
    stuck = list(
        db.session.scalars(
            select(Job).where(
                Job.state == JobState.QUEUED.value, Job.created_at <= now - STALE_AFTER
            )
        )
    )
    for job in stuck:
        job.state = JobState.FAILED.value
        job.active_key = None
        job.finished_at = now
        job.error = "The job did not finish in time: try again."
    db.session.flush()
    return len(expired) + scraps, stalled + len(stuck)


def _old_scratch_files(now: datetime) -> int:
    """Delete the scratch files of jobs whose worker died while writing them (older than
    any job may run); returns how many."""
    deleted = 0
    oldest = (now - STALE_AFTER).timestamp()
    for path in jobs_dir().glob(f"{SCRATCH_PREFIX}*"):
        with suppress(FileNotFoundError):
            if path.stat().st_mtime < oldest:
                path.unlink()
                deleted += 1
    return deleted


# Every minute: a job whose worker died is failed within a minute of its lease even when
# nobody asks for it again or looks at its page.
@huey.periodic_task(crontab(minute="*"))
def clean_up_task() -> None:
    with job_app().app_context():
        try:
            with unit_of_work():
                clean_up()
        finally:
            db.session.remove()
