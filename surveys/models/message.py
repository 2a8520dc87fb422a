"""Every message sent or tried, one row per channel: what the participant's timeline shows
and what delivery receipts update."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, UniqueConstraint, and_, exists
from sqlalchemy.orm import Mapped, aliased, mapped_column

from surveys.db import Base
from surveys.models.types import UTCDateTime


class MessageStatus(enum.StrEnum):
    SENDING = "sending"  # handed to the provider; no receipt yet
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"  # the provider gave up for now; retried
    PERMANENT_FAILURE = "permanent-failure"  # wrong address or number: a researcher fixes it
    TECHNICAL_FAILURE = "technical-failure"  # our side or the provider's: retried
    SENT = "sent"  # accepted by an SMTP server, which gives no receipt


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # One message per invitation, kind, reminder number and channel: a retry after a
        # failure on one channel never sends the other again.
        UniqueConstraint("invitation_id", "kind", "sequence", "channel"),
        Index("ix_messages_participant", "participant_id", "id"),
        # Receipts: messages still waiting for their outcome, oldest first.
        Index("ix_messages_status", "status", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # invitation | reminder | resend
    # 0 for the invitation, 1..3 for reminders, 1, 2... for the link sent again by staff.
    sequence: Mapped[int]
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    provider: Mapped[str] = mapped_column(String(16))  # smtp | outbox | notify
    # The provider's id for the message (Notify's notification id, or the Message-ID).
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def undelivered() -> ColumnElement[bool]:
    """Messages that could not be delivered and still need a researcher: a permanent
    failure that no later message of the same invitation and channel has overtaken (the
    link sent again, or a reminder, after the address or number was put right). The
    unique constraint's index (invitation_id first) answers the NOT EXISTS."""
    later = aliased(Message)
    return and_(Message.status == MessageStatus.PERMANENT_FAILURE, ~exists().where(
        later.invitation_id == Message.invitation_id, later.channel == Message.channel,
        later.id > Message.id, later.status != MessageStatus.PERMANENT_FAILURE))
