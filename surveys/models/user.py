"""Staff accounts: researchers, evaluators and admins."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base

ROLES = ("admin", "researcher", "evaluator")


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
