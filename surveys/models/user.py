"""Staff accounts: researchers, evaluators, interviewers and admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base
from surveys.models.types import UTCDateTime

# Interviewers see call lists and enter answers by telephone, nothing else (issue 14).
ROLES = ("admin", "researcher", "evaluator", "interviewer")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Failed sign-ins are counted per address and per account in `sign_in_counters`
    # (surveys/throttle.py), never as a lock on the account that anyone could set off.
    # Raised at sign-out: every session signed with an older value stops working.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # Deactivated accounts cannot sign in (their audit history stays).
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # An invitation to set a password: the hash of a single-use token, and its expiry.
    invite_hash: Mapped[str | None] = mapped_column(String(64))
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Which studies a researcher or evaluator may see; admins see every study.
user_studies = Table(
    "user_studies",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("study_id", ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True),
)
