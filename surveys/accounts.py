"""Staff accounts: creation, password hashing (argon2id) and throttled sign-in."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import passwords, throttle
from surveys.models import User
from surveys.models.user import ROLES

hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown or the account's password is not to be
    checked, so every sign-in costs one full argon2 verification."""
    return hasher.hash("not a real password")


class AccountError(ValueError):
    pass


def create_user(session: Session, email: str, password: str, role: str) -> User:
    """A new staff account; AccountError names the first rule the input breaks."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    email = valid_email(email)
    try:
        passwords.check(password, email)
    except passwords.PasswordRefused as exc:
        raise AccountError(str(exc)) from None
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(f"An account for {email} already exists.")
    user = User(email=email, password_hash=hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def valid_email(email: str) -> str:
    """The address in lower case, if its syntax is valid (no DNS look-up: staff
    accounts may be created offline, and a typo'd domain shows at first sign-in)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"Enter a valid email address, like name@example.org: {exc}") from None
    if len(checked.normalized) > 320:
        raise AccountError("The email address must be at most 320 characters long.")
    return checked.normalized.lower()


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt, counted before any password is checked."""

    email: str
    counts: tuple[throttle.Count, ...]
    # The limit this client has gone past: it gets 'too many attempts', nothing checked.
    throttled: throttle.Count | None = None
    # The account is over its ceiling and this address has tried it before: the
    # password is not checked, and the answer is a wrong password's, just as slow.
    refused_unchecked: bool = False


def begin_sign_in(session: Session, secret: str, email: str, address: str | None,
                  now: datetime) -> Attempt:
    """Count the attempt on each counter in turn; the caller commits at once.

    Keys use the email as typed (known or not), so an unknown address and an
    existing account are throttled alike and the answers say nothing about which."""
    email = email.strip().lower()[:320]
    address = address or "unknown"
    counted: list[throttle.Count] = []
    for limit, parts in (
        (throttle.SIGN_IN_FAILURES, (address,)),
        (throttle.ACCOUNT_FROM_ADDRESS, (email, address)),
    ):
        count = throttle.count_attempt(session, limit, throttle.counter_key(secret, limit, *parts),
                                       now)
        counted.append(count)
        if count.over:
            return Attempt(email, tuple(counted), throttled=count)
    ceiling = throttle.count_attempt(
        session, throttle.ACCOUNT_CEILING,
        throttle.counter_key(secret, throttle.ACCOUNT_CEILING, email), now)
    tried_before = counted[1].attempts > throttle.UNDER_ATTACK_TRIES
    return Attempt(email, (*counted, ceiling), refused_unchecked=ceiling.over and tried_before)


def finish_sign_in(session: Session, attempt: Attempt, password: str) -> tuple[User | None, str]:
    """(user, reason): the user when the password is right; reason for the audit log.

    Exactly one full argon2 verification in every case, against the account's hash
    or a dummy one, so a wrong password, an unknown account and a refused attempt
    cost the same time and get the same page."""
    user = session.scalar(select(User).where(func.lower(User.email) == attempt.email))
    checked = user is not None and not attempt.refused_unchecked
    right = _verify(user.password_hash if checked else _dummy_hash(), password)
    if user is None:
        return None, "unknown_account"
    if attempt.refused_unchecked:
        return None, "account_ceiling"
    if not right:
        return None, "wrong_password"
    address, from_address, ceiling = attempt.counts
    throttle.give_back(session, address)
    throttle.forget(session, from_address)
    throttle.give_back(session, ceiling)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user, "signed_in"


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
