"""The job queue: Huey, on Redis in production, in-process in the demo and the tests.

With `JOBS_REDIS_URL` set, jobs go to Redis and `flask --app competency_app worker` runs
them beside gunicorn. Without it Huey's immediate mode runs each job in-process when it is
enqueued: the same job code, no Redis, no worker.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context
from huey import RedisHuey

# One instance per process; its storage is chosen by configure_queue() from the settings.
huey = RedisHuey("competency-app", immediate=True, results=False)

_app: Flask | None = None


def configure_queue(app: Flask) -> None:
    """Point the queue at `JOBS_REDIS_URL`, or run jobs in-process when it is empty."""
    global _app
    _app = app
    url = app.config.get("JOBS_REDIS_URL") or ""
    use_redis(url)


def use_redis(url: str) -> None:
    """Switch the queue to Redis at `url` ('' for in-process immediate mode)."""
    if url:
        if huey.storage_kwargs.get("url") != url or huey.immediate:
            huey.storage_kwargs = {"url": url}
            huey.immediate = False
            huey.storage = huey.create_storage()
    else:
        huey.immediate = True


def in_process() -> bool:
    return bool(huey.immediate)


def job_app() -> Flask:
    """The application a job runs in: the request's (in-process) or the worker's."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        raise RuntimeError("the job queue has no application: call configure_queue(app)")
    return _app
