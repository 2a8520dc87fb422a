"""Answers to one wave's questionnaire, linked to an invitation or not."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import FetchedValue, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.study import MAX_MEASURES
from surveys.models.types import JSON_DOCUMENT, UTCDateTime

PAIRED_COLUMNS = tuple(
    column
    for slot in range(1, MAX_MEASURES + 1)
    for column in (f"baseline_{slot}", f"score_{slot}")
)


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        # Covering index of linked responses: the paired report counts (baseline,
        # follow-up) pairs from it alone, without reading the table (migration 0005).
        Index("ix_responses_paired", "wave_id", "status", *PAIRED_COLUMNS,
              postgresql_where=text("participant_id IS NOT NULL"),
              sqlite_where=text("participant_id IS NOT NULL")),
        Index("ix_responses_wave", "wave_id", "status", "participant_id"),
    )

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
    # Telephone responses: how many calls it took to complete.
    calls: Mapped[int | None]
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON_DOCUMENT, default=dict)
    # Page the client reached, so a returning client resumes where they left.
    current_page: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_on: Mapped[date | None]
    # Per measure slot (Measure.slot): the answer as an integer (score_<slot>: a scale
    # value, or 1 = yes / 0 = no) and the linked participant's baseline (baseline_<slot>).
    # Both are written by database triggers only (migration 0009): scores derived from
    # `answers` by the study's measures, baselines copied from the participant, so every
    # writer (forms, importers, SQL) keeps them true and the paired report reads both
    # sides of each pair from one covering index.
    score_1: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_1: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_2: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_2: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_3: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_3: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_4: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_4: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_5: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_5: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_6: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_6: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_7: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_7: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    score_8: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    baseline_8: Mapped[int | None] = mapped_column(
        server_default=FetchedValue(), server_onupdate=FetchedValue())
    wave = relationship("Wave")
    invitation = relationship("Invitation")
    participant = relationship("Participant")
    entered_by = relationship("User")
