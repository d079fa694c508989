"""gunicorn settings, all from the environment (the same names in the container and on a bare host).

Run from backend/: `gunicorn config.wsgi -c gunicorn.conf.py` (scripts/start-backend.sh does this).
"""

from __future__ import annotations

import os
from typing import Any


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "") or default


# The image sets HOST=0.0.0.0 (the container's network is the boundary); on a bare host keep 127.0.0.1.
bind = f"{_env('HOST', '127.0.0.1')}:{_env('PORT', '8000')}"
workers = int(_env("WEB_CONCURRENCY", "2"))
# Many threads per worker (docs/decisions/0008): a request waiting on a provider holds no transaction, no
# lock and no database connection (pooled, handed back meanwhile), only its thread, so 32 x 2 requests can
# wait on providers at once while the database pool (DB_POOL_MAX_SIZE per worker) serves the short queries.
threads = int(_env("GUNICORN_THREADS", "32"))
worker_class = "gthread"
# A request is bounded by the provider calls (PROVIDER_TIMEOUT_SECONDS=10, retried reads): 30 s covers it.
timeout = int(_env("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never becomes an outage. Not too often: a worker's start costs
# about a second of CPU and a cold connection pool, and at 2000 requests a busy replica (hundreds of
# requests a second) restarted each worker every few seconds, often both at once; a wide jitter keeps them
# apart.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 5
# Heartbeat files on tmpfs: a container's overlay filesystem can stall workers into false timeouts.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs, not a temp file

# Which proxies may set X-Forwarded-*; Django only trusts X-Forwarded-Proto with DJANGO_SECURE_PROXY=1.
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr, one line per request; the request id is the one RequestIdMiddleware answers with.
accesslog = "-"
errorlog = "-"
loglevel = _env("LOG_LEVEL", "info").lower()
if _env("LOG_FORMAT", "json") == "json":
    # JSON lines like the app's, every value escaped (config/gunicorn_logging.py).
    logger_class = "config.gunicorn_logging.JsonLogger"
else:
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# gunicorn's control socket lives in $HOME, shared by every instance of a user (and not writable in the
# image); nothing here uses it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Warn once (first worker, settings loaded) when several workers would each count rate limits alone."""
    if worker.age != 1:
        return
    from django.conf import settings  # noqa: PLC0415 - the app (and its settings) is loaded by now

    from config.startup_checks import per_process_cache_warning  # noqa: PLC0415

    warning = per_process_cache_warning(settings.CACHES, worker.cfg.workers)
    if warning:
        worker.log.warning(warning)
