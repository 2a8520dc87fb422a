"""Administrators' pages: the audit log, read-only (filtered, paginated, CSV).

No route changes or deletes an audit event: this blueprint only reads them,
and the database refuses UPDATE and DELETE on `audit_events` (migration 0002).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from surveys import audit
from surveys.csv_safety import write_csv
from surveys.models import AuditEvent, Participant, Study
from surveys.models.audit import detail_key
from surveys.web.audit_words import (
    ACTIONS,
    action_text,
    other_details,
    participant_id,
    participant_ref,
)
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now

bp = Blueprint("admin", __name__, url_prefix="/staff")

PER_PAGE = 50


@bp.app_context_processor
def staff_context() -> dict:
    # Templates call it only where they need it (the staff navigation), so pages
    # for clients never look up a staff account.
    return {"signed_in_staff": current_user}


def _page_number(raw: str | None, last: int) -> int:
    if not raw or not raw.isdigit() or len(raw) > 9:
        return 1
    return min(max(int(raw), 1), last)


class AuditFilters:
    """The filters from the query string; a bad date is named, and that filter left off."""

    def __init__(self, args) -> None:
        self.who = (args.get("who") or "").strip()[:320]
        self.study = (args.get("study") or "").strip()[:100]
        self.kind = (args.get("kind") or "").strip()[:64]
        self.problems: list[str] = []
        self.start = self._date(args.get("from"), _("Enter the ‘from’ date like 2026-03-02"))
        self.end = self._date(args.get("to"), _("Enter the ‘to’ date like 2026-03-31"))
        self.from_text = (args.get("from") or "").strip()[:10]
        self.to_text = (args.get("to") or "").strip()[:10]

    def _date(self, raw: str | None, problem: str) -> date | None:
        raw = (raw or "").strip()
        if not raw:
            return None
        try:
            if len(raw) != 10:  # YYYY-MM-DD only (fromisoformat takes other shapes too)
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.problems.append(problem)
            return None

    def params(self) -> dict:
        given = {"who": self.who, "study": self.study, "kind": self.kind,
                 "from": self.from_text if self.start else "",
                 "to": self.to_text if self.end else ""}
        return {key: value for key, value in given.items() if value}

    def apply(self, statement):
        # Each equality is the lead of an index (migration 0014), in the same spelling.
        if self.who:
            statement = statement.where(func.lower(AuditEvent.actor) == self.who.lower())
        if self.study:
            statement = statement.where(detail_key("study") == self.study)
        if self.kind:
            statement = statement.where(AuditEvent.action == self.kind)
        # Bounds on `at` (indexed) in UTC, the 'to' day included.
        if self.start:
            statement = statement.where(AuditEvent.at >= datetime.combine(
                self.start, time(), tzinfo=UTC))
        if self.end:
            statement = statement.where(AuditEvent.at < datetime.combine(
                self.end + timedelta(days=1), time(), tzinfo=UTC))
        return statement


def _references(events) -> dict[int, str]:
    """Participant id -> reference, for the events that name a participant by id."""
    ids = {pid for event in events if (pid := participant_id(event.detail)) is not None}
    if not ids:
        return {}
    rows = db().execute(select(Participant.id, Participant.ref).where(Participant.id.in_(ids)))
    return {pid: ref for pid, ref in rows}


def _newest_first(statement):
    return statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    """Recorded events, newest first, 50 to a page, filtered by who, study, kind and date."""
    filters = AuditFilters(request.args)
    total = db().scalar(filters.apply(select(func.count()).select_from(AuditEvent))) or 0
    last = max(1, -(-total // PER_PAGE))
    page = _page_number(request.args.get("page"), last)
    events = db().scalars(
        _newest_first(filters.apply(select(AuditEvent)))
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    refs = _references(events)
    params = filters.params()
    kinds = sorted(ACTIONS.items(), key=lambda item: str(item[1]))
    return render_template(
        "pages/admin/audit.html",
        events=[(event, action_text(event.action), (event.detail or {}).get("study", ""),
                 participant_ref(event.detail, refs), other_details(event.detail))
                for event in events],
        filters=filters,
        filtered=bool(params),
        kinds=kinds,
        studies=db().scalars(select(Study.slug).order_by(Study.slug)).all(),
        page=page,
        last=last,
        total=total,
        csv_url=url_for("admin.audit_csv", **params),
        previous_url=url_for("admin.audit_log", page=page - 1, **params) if page > 1 else None,
        next_url=url_for("admin.audit_log", page=page + 1, **params) if page < last else None,
    ), 400 if filters.problems else 200


@bp.route("/audit.csv")
@roles_required("admin")
def audit_csv():
    """The filtered events as CSV, newest first, read in batches so a long log streams."""
    filters = AuditFilters(request.args)
    if filters.problems:
        abort(400)
    audit.record(db(), now(), current_user(), "export", report="audit",
                 filters=filters.params())
    db().commit()
    statement = _newest_first(filters.apply(select(AuditEvent))).execution_options(
        yield_per=1000)

    def rows():
        yield write_csv([["when_utc", "who", "event", "code", "study", "participant_ref",
                          "details"]])
        batch: list[AuditEvent] = []
        for event in db().scalars(statement):
            batch.append(event)
            if len(batch) == 1000:
                yield _csv_rows(batch)
                batch = []
        yield _csv_rows(batch)

    def _csv_rows(batch: list[AuditEvent]) -> str:
        refs = _references(batch)
        return write_csv([
            event.at.strftime("%Y-%m-%d %H:%M:%S"), event.actor, action_text(event.action),
            event.action, (event.detail or {}).get("study", ""),
            participant_ref(event.detail, refs),
            json.dumps(dict(other_details(event.detail)), ensure_ascii=False),
        ] for event in batch)

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
