"""Passwords and session tokens. The only module that touches password hashes."""

from __future__ import annotations

import hashlib
import secrets

from passlib.context import CryptContext

# argon2id with OWASP's minimum (19 MiB, 2 passes); pbkdf2 is accepted so that
# hashes from an older installation still verify, and is replaced on login.
pwd_context = CryptContext(
    schemes=["argon2", "pbkdf2_sha256"],
    deprecated=["pbkdf2_sha256"],
    argon2__memory_cost=19456,
    argon2__time_cost=2,
    argon2__parallelism=1,
)

# Verified against when the e-mail address is unknown, so that the time taken
# does not tell whether an account exists.
_DUMMY_HASH = pwd_context.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password. Returns (ok, new_hash) where new_hash is set when the
    stored hash is outdated and should be replaced."""
    if not password_hash:
        pwd_context.verify(password, _DUMMY_HASH)
        return False, None
    try:
        return pwd_context.verify_and_update(password, password_hash)
    except ValueError:  # unknown or malformed hash
        pwd_context.verify(password, _DUMMY_HASH)
        return False, None


def new_token() -> str:
    """A random session token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
