"""How values are stored in columns, the same on SQLite and PostgreSQL: JSON (jsonb on
PostgreSQL), a result as a zstd frame, and times in UTC. The tables are app/models.py."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import zstandard
from sqlalchemy import JSON, DateTime, LargeBinary, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from . import codec

JSONType = JSON().with_variant(JSONB(), "postgresql")


# Level 1, not zstd's default 3: under load compressing was ~11% of the API's CPU at level 3,
# and level 1 needs a quarter less time for rows 5% larger (7.2 instead of 6.8 kB).
ZSTD_LEVEL = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # how every zstd frame begins


class _Zstd(threading.local):
    # zstandard's (de)compressor objects must not be used by two threads at once; making a new
    # one for every value costs a third more than reusing one.
    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self.decompressor = zstandard.ZstdDecompressor()


_ZSTD = _Zstd()


class CompressedJSON(TypeDecorator[Any]):
    """A JSON value stored as one standard zstd frame of its UTF-8 JSON text.

    For the assessment's result: ~22 kB of JSON, most of it the plan's exercise texts. As jsonb,
    PostgreSQL parsed it and compressed it (lz4) to ~12 kB on every insert, and those bytes set
    the API's tail latency under load (benchmarks/api.py: p99 25-73 ms, rising from round to
    round as the table grew; 22-39 ms as zstd). zstd makes ~7 kB in ~30 us, here, in the app.
    Nothing queries inside a result in SQL: what is filtered or sorted on has its own columns.
    The frame format is standard (Python 3.14's compression.zstd reads it too), and the key
    order is kept as written.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _ZSTD.compressor.compress(codec.dumps(value))

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str) or value[:4] != ZSTD_MAGIC:
            # Plain JSON, as a process of an older version still running during an upgrade can
            # write it on SQLite: read, not refused (one such row would fail a whole page).
            return codec.loads(value)
        return codec.loads(_ZSTD.decompressor.decompress(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
