"""Report work never starves client pages: a bounded number of report builds at once
on this machine, and a built report reused while its data has not changed.

Building a report is the only heavy thing staff can ask for, and web workers are few
(gunicorn's sync workers serve one request each): left alone, a loop of report
downloads held every worker and clients' questionnaire pages waited seconds behind it
(9 of issue 11). So a report request needs one of `report_concurrency` slots, lock
files shared by every web process of the instance (flock: released by the kernel even
if a worker is killed), and inside it looks in the cache (surveys/reports/cache.py)
before building. With every slot taken it is answered 503 at once, with Retry-After:
waiting in a queue would hold a worker just the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from surveys.reports.cache import ReportCache, data_version, exempt_from_stamp
from surveys.web.auth import current_user
from surveys.web.context import db, settings

RETRY_AFTER_SECONDS = 5


class ReportsBusy(Exception):
    """Every report slot is taken."""


def _folder(kind: str = "report-slots") -> Path:
    # One set per database, so two instances on one machine never share them.
    digest = hashlib.sha256(settings().database_url.encode()).hexdigest()[:16]
    folder = Path(current_app.instance_path) / kind / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _take_slot() -> None:
    """Hold one of the machine's report slots until this request ends (ReportsBusy if none
    is free): the whole report request, a cache hit included, since writing out a big
    cached download also keeps a worker busy."""
    if g.get("report_slot") is not None:
        return
    folder = _folder()
    for number in range(settings().report_concurrency):
        fd = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        g.report_slot = fd
        return
    raise ReportsBusy


def _release_slot(_error: BaseException | None = None) -> None:
    fd = g.pop("report_slot", None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def report_cache() -> ReportCache:
    cache = current_app.extensions.get("surveys.report_cache")
    if cache is None:
        cache = ReportCache(folder=_folder("report-cache"))
        current_app.extensions["surveys.report_cache"] = cache
    return cache


def cached_report(study_id: int, name: str, options: dict, build: Callable[[], Any]) -> Any:
    """The report from the cache if its data is unchanged, else built; either way in a slot.

    The key holds everything the figures depend on: the study's data version (read
    before building, so a write during the build can only make the entry newer than
    its key), the options, the viewer's role (disclosure mode) and the language."""
    _take_slot()
    user = current_user()
    version = data_version(db(), study_id)
    if version is None:
        return build()
    key = (study_id, name, tuple(sorted(options.items())), user.role if user else None,
           str(get_locale()), version)
    g.report_key = key  # for rendered() below
    cache = report_cache()
    report = cache.get(key)
    return cache.build(key, build) if report is None else report


def rendered(fmt: str, render: Callable[[], str | bytes]) -> str | bytes:
    """A download of the report cached_report() just gave, rendered once per data version:
    a big breakdown takes longer to write out as CSV or XLSX than to compute. (Pages are
    not cached: they carry the viewer's own CSRF token.)"""
    key = g.get("report_key")
    if key is None:
        return render()
    key = (*key, fmt)
    cache = report_cache()
    out = cache.get(key)
    return cache.build(key, render, count=False) if out is None else out


def _busy(_error: ReportsBusy):
    message = _("Other reports are being prepared at the moment. Try again in a few seconds.")
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    else:
        response = current_app.make_response(render_template("pages/errors/busy.html"))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _client_session() -> None:
    if request.blueprint == "respond":
        exempt_from_stamp(db())


def init(bp: Blueprint) -> None:
    """Wire the 503 answer to the reports blueprint, and mark clients' questionnaire
    sessions (see surveys/reports/cache.py) for the whole app."""
    bp.register_error_handler(ReportsBusy, _busy)
    bp.teardown_request(_release_slot)
    bp.record_once(lambda state: state.app.before_request(_client_session))
