"""Administrators' pages: the audit log, read-only.

No route changes or deletes an audit event: this blueprint only reads them,
and the database refuses UPDATE and DELETE on `audit_events` (migration 0002).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import func, select

from surveys.models import AuditEvent
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db

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


def _describe(detail: dict | None) -> list[tuple[str, str]]:
    return [(str(key), value if isinstance(value, str) else repr(value))
            for key, value in sorted((detail or {}).items())]


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    """Every recorded event, newest first, 50 to a page."""
    total = db().scalar(select(func.count()).select_from(AuditEvent)) or 0
    last = max(1, -(-total // PER_PAGE))
    page = _page_number(request.args.get("page"), last)
    events = db().scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return render_template(
        "pages/admin/audit.html",
        events=[(event, _describe(event.detail)) for event in events],
        page=page,
        last=last,
        total=total,
        previous_url=url_for("admin.audit_log", page=page - 1) if page > 1 else None,
        next_url=url_for("admin.audit_log", page=page + 1) if page < last else None,
    )
