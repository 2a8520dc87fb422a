"""Personal-link tokens: 256 bits, derived from a server secret, stored only as a hash.

A token is HMAC(secret, invitation nonce). The database keeps the random nonce
and the SHA-256 of the token, so a copy of the database alone reveals no
working link, while the service can still rebuild a link for an email retry
or for the telephone `links` list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_token(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)
