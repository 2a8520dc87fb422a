"""Staff accounts: researchers, evaluators and admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base
from surveys.models.types import UTCDateTime

ROLES = ("admin", "researcher", "evaluator")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised at sign-out: every session signed with an older value stops working.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
