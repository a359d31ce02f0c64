"""Every dependency and route of the app is a coroutine, or a plain function that only renders.

FastAPI runs a plain ``def`` dependency in its thread pool: a hop to another thread for every
request that uses it, for work (reading a header, checking a role) that takes microseconds. On
the API's check-in path two such dependencies cost more than its database work. A dependency
that blocks (the database) goes through ``Db.run`` instead (app/deps.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

pytestmark = pytest.mark.database_agnostic  # the app's shape, not its data

# Plain-function routes that only render a template or build a small response: FastAPI runs
# them in the thread pool too, which is harmless for a page asked for now and then.
PLAIN_ROUTES_ALLOWED = 8


def _routes(app: FastAPI) -> Iterator[APIRoute]:
    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            for attribute in ("routes", "router", "original_router"):
                inner = getattr(route, attribute, None)
                inner_routes = getattr(inner, "routes", inner)
                if isinstance(inner_routes, list) and inner is not None:
                    yield from walk(inner_routes)
                    break

    return walk(app.routes)


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    return (
        inspect.iscoroutinefunction(call)
        or inspect.isasyncgenfunction(call)
        or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
    )


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        yield from _dependencies(sub)
        if sub.call is not None:
            yield sub.call


def test_no_dependency_runs_in_the_thread_pool(app: FastAPI) -> None:
    routes = list(_routes(app))
    assert len(routes) > 100  # every door's routes were found
    plain = {
        f"{call.__module__}.{call.__qualname__}"
        for route in routes
        for call in _dependencies(route.dependant)
        if not _runs_on_the_loop(call)
    }
    assert plain == set()


def test_plain_routes_stay_few(app: FastAPI) -> None:
    plain = [route.path for route in _routes(app) if not _runs_on_the_loop(route.endpoint)]
    assert len(plain) <= PLAIN_ROUTES_ALLOWED, plain
