"""The app's routes with the paths they answer, through its included routers (FastAPI includes
them lazily: the walk asks each for its routes as included)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute


def app_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Each route with its whole path (the routers' prefixes in front)."""
    for top in app.routes:
        contexts = (
            top.effective_route_contexts() if hasattr(top, "effective_route_contexts") else [top]
        )
        for context in contexts:
            route = getattr(context, "original_route", context)
            if isinstance(route, APIRoute):
                yield getattr(context, "path", route.path), route
