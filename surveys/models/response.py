"""Answers to one wave's questionnaire, linked to an invitation or not."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.types import UTCDateTime


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_wave", "wave_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    # Unique: one response per invitation, enforced by the database.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    # The reference as given, kept for responses that could not be linked.
    participant_ref: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # in_progress|submitted
    mode: Mapped[str] = mapped_column(String(16), default="web")  # web|telephone
    source: Mapped[str] = mapped_column(String(16), default="form")  # form|import
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Page the client reached, so a returning client resumes where they left.
    current_page: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_on: Mapped[date | None]

    wave = relationship("Wave")
    invitation = relationship("Invitation")
    participant = relationship("Participant")
    entered_by = relationship("User")
