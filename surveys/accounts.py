"""Staff accounts: creation, password hashing (argon2id) and throttled sign-in."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from surveys import passwords, throttle, tokens
from surveys.models import User
from surveys.models.user import ROLES, user_studies

hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown or the account's password is not to be
    checked, so every sign-in costs one full argon2 verification."""
    return hasher.hash("not a real password")


class AccountError(ValueError):
    pass


class AccountExists(AccountError):
    pass


class LastAdmin(AccountError):
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
        raise AccountExists(f"An account for {email} already exists.")
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
    # An admin's unlock restarts this account's counters from every address.
    unlocked_at = throttle.unlocked_at(session, secret, email)
    for limit, parts, since in (
        (throttle.SIGN_IN_FAILURES, (address,), None),
        (throttle.ACCOUNT_FROM_ADDRESS, (email, address), unlocked_at),
    ):
        count = throttle.count_attempt(session, limit, throttle.counter_key(secret, limit, *parts),
                                       now, restart_before=since)
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
    if not user.active:  # deactivated: the same page as a wrong password, nothing given back
        return None, "inactive"
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


# --- invitations to set a password, and changes an admin makes ----------------------------

INVITE_LIFETIME = timedelta(hours=72)
# Counted per study restriction on the staff page: no rows in user_studies = every study.
RESTRICTED_ROLES = ("researcher", "evaluator", "interviewer")


class InviteUnusable(ValueError):
    """The set-password link is unknown, already used or past its expiry."""


def invite_user(session: Session, email: str, role: str, now: datetime) -> tuple[User, str]:
    """A new account with no usable password, and the single-use token that sets one.

    Only the token's hash is stored (surveys/tokens.py), so the database alone opens nothing;
    the caller emails the link and commits."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    email = valid_email(email)
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountExists(f"An account for {email} already exists.")
    token = secrets.token_urlsafe(32)
    user = User(email=email, role=role, active=True,
                # Unusable until the invitation is taken up: nobody knows this password.
                password_hash=hasher.hash(secrets.token_urlsafe(32)),
                invite_hash=tokens.hash_token(token), invite_expires_at=now + INVITE_LIFETIME)
    session.add(user)
    session.flush()
    return user, token


def reissue_invite(user: User, now: datetime) -> str:
    """A fresh link for an account whose invitation is not taken up; the old link stops."""
    if user.invite_hash is None:
        raise AccountError(f"{user.email} has already set a password.")
    token = secrets.token_urlsafe(32)
    user.invite_hash = tokens.hash_token(token)
    user.invite_expires_at = now + INVITE_LIFETIME
    return token


def invited_user(session: Session, token: str, now: datetime) -> User:
    """The account a set-password link belongs to, while it is usable."""
    if not token or len(token) > 100:
        raise InviteUnusable
    user = session.scalar(select(User).where(User.invite_hash == tokens.hash_token(token)))
    if user is None or user.invite_expires_at is None or user.invite_expires_at <= now:
        raise InviteUnusable
    if not user.active:
        raise InviteUnusable
    return user


def set_invited_password(session: Session, token: str, password: str, now: datetime) -> User:
    """Take up the invitation: the password (after the project's rules), the link spent."""
    user = invited_user(session, token, now)
    try:
        passwords.check(password, user.email)
    except passwords.PasswordRefused as exc:
        raise AccountError(str(exc)) from None
    user.password_hash = hasher.hash(password)
    user.invite_hash = None
    user.invite_expires_at = None
    user.session_epoch += 1
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id)) or 0


def _keep_an_admin(session: Session, user: User) -> None:
    if user.role == "admin" and user.active and not _other_active_admins(session, user):
        raise LastAdmin(f"{user.email} is the last active admin: make another admin first.")


def change_role(session: Session, user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if role != "admin":
        _keep_an_admin(session, user)
    user.role = role
    # A session opened with the old role's rights stops here.
    user.session_epoch += 1


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivate (no sign-in; every open session ends) or reactivate an account."""
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    user.session_epoch += 1


def unlock(session: Session, secret: str, user: User, now: datetime) -> None:
    """Clear the account's sign-in counters, from every address (surveys/throttle.py)."""
    throttle.unlock_account(session, secret, user.email.lower(), now)


def set_studies(session: Session, user: User, study_ids: list[int]) -> None:
    """The studies a researcher or evaluator may see; none listed = every study."""
    session.execute(delete(user_studies).where(user_studies.c.user_id == user.id))
    if study_ids:
        session.execute(insert(user_studies),
                        [{"user_id": user.id, "study_id": sid} for sid in sorted(set(study_ids))])
