"""Recording who did what: append-only, written in the same transaction as the act."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from surveys.models import AuditEvent, User


def record(
    session: Session, now: datetime, user: User | None, action: str, **detail: object
) -> None:
    session.add(
        AuditEvent(
            at=now,
            user_id=user.id if user else None,
            actor=user.email if user else str(detail.pop("actor", "system")),
            action=action,
            detail=detail,
        )
    )
