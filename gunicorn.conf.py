"""gunicorn settings for the surveys web app (docs/production.md).

    gunicorn -c gunicorn.conf.py 'surveys.wsgi:app'

Command-line options (e.g. -w 4, -b 0.0.0.0:8000) override these; so do the
SURVEYS_WEB_* variables below. The dispatcher is not started here: run
`surveys scheduler` as its own process.
"""

import os

bind = os.environ.get("SURVEYS_WEB_BIND", "127.0.0.1:8000")
# Sync workers: one request at a time each, so a worker is a database connection at most.
# Two per core is a good start; the app is CPU-bound (templates, forms) between queries.
workers = int(os.environ.get("SURVEYS_WEB_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("SURVEYS_WEB_THREADS", "1"))
timeout = int(os.environ.get("SURVEYS_WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Recycle workers now and then so that memory stays flat over months.
max_requests = 5000
max_requests_jitter = 500
# Each worker builds its own app (and database engine) after the fork.
preload_app = False
accesslog = os.environ.get("SURVEYS_WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("SURVEYS_WEB_LOG_LEVEL", "info")
# Behind a TLS-terminating proxy, also set SURVEYS_PROXY_HOPS (surveys/web/setup.py).
forwarded_allow_ips = os.environ.get("SURVEYS_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
