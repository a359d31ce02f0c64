"""Small security primitives shared by the API, the patient pages and the staff pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 24) -> str:
    """A URL-safe random secret; 24 bytes is 192 bits (at least 128 are required)."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """How secrets are stored: they are long and random, so SHA-256 needs no salt or stretching."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign(secret_key: str, purpose: str, value: str) -> str:
    """An HMAC of ``value`` for ``purpose`` (e.g. a CSRF token bound to a session)."""
    mac = hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def verify(secret_key: str, purpose: str, value: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret_key, purpose, value), signature or "")
