"""The WSGI application for production servers.

    gunicorn -c gunicorn.conf.py 'surveys.wsgi:app'

Every setting comes from SURVEYS_* environment variables (surveys/settings.py). Web
workers never run the dispatcher: start `surveys scheduler` beside them (one or more;
they share the work through row locks in the database). See docs/production.md.
"""

from __future__ import annotations

import sys

from surveys import create_app
from surveys.heap import freeze_startup_objects
from surveys.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    # Refuse to start, in one line (gunicorn then stops: "App failed to load").
    print(f"Error: {exc.format_message()}", file=sys.stderr, flush=True)
    sys.exit(4)  # gunicorn's APP_LOAD_ERROR: the master halts instead of respawning workers
freeze_startup_objects()


@app.get("/healthz")
def healthz():
    """For load balancers and the benchmarks' ceiling: answers without any work or data."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
