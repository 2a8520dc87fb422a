"""Staff accounts: creation, password hashing (argon2id) and sign-in with lockout."""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import User
from surveys.models.user import ROLES

hasher = PasswordHasher()
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)



@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost the same time."""
    return hasher.hash("not a real password")


class AccountError(ValueError):
    pass


def create_user(session: Session, email: str, password: str, role: str) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 320:
        raise AccountError("Enter an email address, like name@example.org.")
    if len(password) < 12:
        raise AccountError("The password must be at least 12 characters long.")
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(f"An account for {email} already exists.")
    user = User(email=email, password_hash=hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user if the password is right and the account is not locked; counts failures."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(), password)
        return None
    if user.locked_until and user.locked_until > now:
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def is_locked(user: User | None, now: datetime) -> bool:
    return bool(user and user.locked_until and user.locked_until > now)
