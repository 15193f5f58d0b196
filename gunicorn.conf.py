"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "competency_app:create_app()"`.

Sync workers (the work is short SQL and template rendering); the application is loaded once
in the master and the garbage collector's generations frozen before forking, so workers share
the loaded code copy-on-write and do not pay for full collections of it (measured on a page
with a 50 × 60 table: p95 35 ms → 11 ms).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then: bounded memory over weeks
max_requests_jitter = 500
accesslog = None  # the application logs each request itself, without personal data
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Refuse to serve several workers with per-process (memory://) sign-in throttling."""
    # gunicorn reads this file before it loads the app: the app's modules load in the hooks.
    from competency_app.config import require_shared_rate_limits  # noqa: PLC0415 - see above

    app = server.app.wsgi()  # already loaded in this process (preload_app)
    require_shared_rate_limits(app.config, server.cfg.workers)  # RuntimeError: exit 1


def when_ready(server):
    from competency_app.common.charts import figure_class  # noqa: PLC0415 - in a hook

    figure_class()  # matplotlib, imported once here and shared by every worker
    gc.collect()
    gc.freeze()
