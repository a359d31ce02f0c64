"""The Idempotency-Key header of the API's storing routes (assessments, check-ins): checked
once, here; what a key does is app/services/idempotency.py's.

No ``from __future__ import annotations`` here: FastAPI reads the header's annotation, which
names the factory's arguments, at run time."""

import re
from typing import Annotated, Any, Final

from fastapi import Depends, Header, status

from app.errors import AppError

from .errors import field_problem

# Printable ASCII without spaces, like the keys clients generate (UUIDs, ULIDs, random tokens).
IDEMPOTENCY_KEY: Final = re.compile(r"^[\x21-\x7e]{1,200}$")


def checked_idempotency_key(key: str | None) -> str | None:
    """The key as sent, or None without one; a 422 naming the header if it is not a key."""
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise AppError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The Idempotency-Key header is not valid.",
            [field_problem("Idempotency-Key", "invalid", "must be 1 to 200 printable characters")],
        )
    return key


def idempotency_key_header(
    *, description: str | None = None, examples: list[str] | None = None
) -> Any:
    """The dependency a storing route declares its optional Idempotency-Key with. The header's
    words in the OpenAPI document are the route's (each route's document stays as it was)."""

    async def header(
        idempotency_key: Annotated[
            str | None, Header(description=description, examples=examples)
        ] = None,
    ) -> str | None:
        return checked_idempotency_key(idempotency_key)

    return Depends(header)
