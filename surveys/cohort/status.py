"""Counts a researcher needs at a glance: invitations per wave and status."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Invitation, Participant, Study, Wave


def invitation_counts(session: Session, study: Study) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(Wave.code, Invitation.status, func.count())
        .join(Invitation, Invitation.wave_id == Wave.id)
        .where(Wave.study_id == study.id)
        .group_by(Wave.code, Invitation.status)
    )
    counts: dict[str, dict[str, int]] = {w.code: {} for w in study.waves}
    for code, status, n in rows:
        counts[code][status] = n
    return counts


def delivery_counts(session: Session, study: Study) -> dict[str, int]:
    rows = session.execute(
        select(Invitation.delivery_status, func.count())
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(Wave.study_id == study.id)
        .group_by(Invitation.delivery_status)
    )
    return dict(rows.all())


def participant_count(session: Session, study: Study) -> int:
    return session.scalar(
        select(func.count()).select_from(Participant).where(Participant.study_id == study.id)
    ) or 0
