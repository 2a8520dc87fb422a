"""One telephone call to a participant about a questionnaire, and what came of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base
from surveys.models.types import UTCDateTime


class CallOutcome(enum.StrEnum):
    NO_ANSWER = "no_answer"
    CALL_BACK = "call_back"  # the client asked to be called at another time
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    COMPLETED = "completed"


class CallAttempt(Base):
    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_invitation", "invitation_id", "id"),
        Index("ix_call_attempts_participant", "participant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    call_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
