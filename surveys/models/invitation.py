"""One invitation per participant and wave: the schedule's unit of work."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.types import UTCDateTime


class InvitationStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for its due date
    ISSUED = "issued"  # link live, not yet answered
    COMPLETED = "completed"  # a response was submitted
    CLOSED = "closed"  # closing date passed unanswered
    OUT_OF_WINDOW = "out_of_window"  # due after the study's end date: never issued
    LAPSED = "lapsed"  # its answering window passed before it could be issued


class DeliveryStatus(enum.StrEnum):
    NONE = "none"  # no email address: reached by telephone through `surveys links`
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; shown to researchers
    # Not sent, because by sending time the questionnaire was answered, closed, or had no
    # address to go to; the reason (surveys.invitations.CANCEL_REASONS) is last_error.
    CANCELLED = "cancelled"


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("participant_id", "wave_id"),
        # Column order follows each dispatcher query, ORDER BY included (migration 0004).
        Index("ix_invitations_due", "status", "due_on", "id"),
        Index("ix_invitations_delivery", "delivery_status", "next_attempt_at", "id"),
        Index("ix_invitations_closing", "status", "closes_on"),
        Index("ix_invitations_reminder", "status", "reminder_due_on"),
        # The questionnaires page, latest due first within a wave, of any or one status (0015).
        Index("ix_invitations_wave_due", "wave_id", "due_on", "id"),
        Index("ix_invitations_wave_status", "wave_id", "status", "due_on", "id"),
        # Call lists: a telephone wave's open questionnaires, next call first (0013).
        Index("ix_invitations_calls", "wave_id", "status", "next_call_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.SCHEDULED)
    nonce: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_on: Mapped[date | None]
    reminder_due_on: Mapped[date | None]
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many of the wave's reminders (Wave.reminder_days) have been queued.
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    # How many times staff asked for the link to be sent again ("resend" messages, 0014);
    # while delivery_kind is "resend", also the number of the one in flight.
    resends: Mapped[int] = mapped_column(default=0, server_default="0")
    # Telephone waves: call attempts made, and when the next call is due.
    calls: Mapped[int] = mapped_column(default=0, server_default="0")
    next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.NONE)
    delivery_kind: Mapped[str] = mapped_column(String(16), default="invitation")  # Message.kind
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Kept by PostgreSQL's triggers for the report's counts (migration 0018), never set here:
    # whether this participant submitted a response to this wave, and the last call's outcome.
    answered: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_outcome: Mapped[str | None] = mapped_column(String(16))

    participant = relationship("Participant")
    wave = relationship("Wave")
    # The answers given through this invitation (at most one response, by constraint).
    # Read-only here: questionnaire pages load it with the invitation in one SELECT.
    response = relationship(
        "Response", primaryjoin="Response.invitation_id == Invitation.id", viewonly=True,
        uselist=False,
    )
