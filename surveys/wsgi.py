"""The WSGI application for production servers.

    gunicorn -c gunicorn.conf.py 'surveys.wsgi:app'

Every setting comes from SURVEYS_* environment variables (surveys/settings.py). Web
workers never run the dispatcher: start `surveys scheduler` beside them (one or more;
they share the work through row locks in the database). See docs/production.md.
"""

from __future__ import annotations

from surveys import create_app

app = create_app()


@app.get("/healthz")
def healthz():
    """For load balancers and the benchmarks' ceiling: answers without any work or data."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
