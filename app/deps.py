"""The dependencies every door shares, as Annotated aliases so routes read like their intent.

One session world: each request that needs the database gets one plain SQLAlchemy session,
and FastAPI runs its route in the thread pool. The session commits at one boundary, when the
route has returned and before the response is sent; a route that raises stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from .config import Settings
from .services.questionnaires import Registry


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_settings(request: Request) -> Settings:
    # async: a plain def would cost a trip through the thread pool to read an attribute.
    return settings_of(request)


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session
        session.commit()


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
# scope="function": the commit runs before the response is sent, so a failed commit is the
# request's error, and nobody is told "stored" for a row that is not.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
