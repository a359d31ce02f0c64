"""No two routes answer the same request: so the order in which app/main.py includes the
routers (the patient's pages first, as most requests are theirs) decides nothing but how soon
a request finds its route."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.routing import compile_path

from tests.support.routes import app_routes

pytestmark = pytest.mark.database_agnostic  # the app's shape, not its data

PARAMETER = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def shared(routes: list[tuple[str, set[str]]]) -> list[str]:
    """Each request (method, a path with sample values) that more than one route answers."""
    compiled = [(path, compile_path(path)[0], methods) for path, methods in routes]
    found = []
    for path, _, methods in compiled:
        sample = PARAMETER.sub("sample", path)
        answering = [
            other for other, regex, other_methods in compiled
            if regex.match(sample) and methods & other_methods
        ]  # fmt: skip
        if answering != [path]:
            found.append(f"{sorted(methods)} {sample}: {answering}")
    return found


def test_no_two_routes_answer_the_same_request(app: FastAPI) -> None:
    routes = [(path, route.methods or set()) for path, route in app_routes(app)]
    assert len(routes) > 100, "the walk no longer finds the included routers' routes"
    assert shared(routes) == []


def test_two_routes_for_one_request_are_found() -> None:
    routes = [("/result/{token}", {"GET"}), ("/result/{other}", {"GET", "HEAD"})]
    assert len(shared(routes)) == 2
    assert shared([("/result/{token}", {"GET"}), ("/result/{other}", {"POST"})]) == []
    assert shared([("/result/{token}", {"GET"}), ("/result/{token}/pdf", {"GET"})]) == []
