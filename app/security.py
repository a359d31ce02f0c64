"""Small security primitives shared by the API, the patient pages and the staff pages."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


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


# Secrets kept only until they are used (a staff member's TOTP secret, a result link waiting to
# be e-mailed): AES-GCM with a key derived from SECRET_KEY for each purpose, bound to the row
# they belong to, so a sealed value copied to another row does not open.
_SEALED_PREFIX = "v1."


def _cipher(secret_key: str, purpose: str) -> AESGCM:
    key = hmac.new(secret_key.encode(), f"backaudit: {purpose}".encode(), hashlib.sha256)
    return AESGCM(key.digest())


def seal(secret_key: str, purpose: str, bound_to: bytes, plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(secret_key, purpose).encrypt(nonce, plaintext.encode(), bound_to)
    return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret_key: str, purpose: str, bound_to: bytes, stored: str) -> str | None:
    """The plaintext, or None if it cannot be read (SECRET_KEY changed, another row's)."""
    if not stored.startswith(_SEALED_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(_SEALED_PREFIX))
        return _cipher(secret_key, purpose).decrypt(raw[:12], raw[12:], bound_to).decode()
    except (InvalidTag, ValueError, binascii.Error):
        return None
