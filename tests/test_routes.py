"""No two routes answer the same request: so the order in which app/main.py includes the
routers (the API's first, then the patient's pages, the staff pages last) decides nothing but
how soon a request finds its route, and one thing more, pinned here: for a method no route of a
path takes, the 405's Allow header lists the first matching route's methods."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.routes import app_routes

pytestmark = pytest.mark.database_agnostic  # the app's shape, not its data

PARAMETER = re.compile(r"^{[^}:]+}$")  # a whole segment that is a parameter (no converters here)


def could_both_match(one: str, other: str) -> bool:
    """Whether some path matches both templates: as many segments, and at each one the same
    text or a parameter on either side (a parameter matches any one segment)."""
    a, b = one.split("/"), other.split("/")
    return len(a) == len(b) and all(
        x == y or PARAMETER.match(x) or PARAMETER.match(y) for x, y in zip(a, b, strict=True)
    )


def shared(routes: list[tuple[str, set[str]]]) -> list[str]:
    """Each pair of routes that some request (a method and a path) could reach both of."""
    return [
        f"{sorted(methods & other_methods)} {path} ~ {other}"
        for i, (path, methods) in enumerate(routes)
        for other, other_methods in routes[i + 1 :]
        if methods & other_methods and could_both_match(path, other)
    ]


def test_no_two_routes_answer_the_same_request(app: FastAPI) -> None:
    routes = [(path, route.methods or set()) for path, route in app_routes(app)]
    assert any(path == "/result/{token}" for path, _ in routes)
    assert len(routes) > 100, "the walk no longer finds the included routers' routes"
    assert shared(routes) == []


def test_two_routes_for_one_request_are_found() -> None:
    assert shared([("/result/{token}", {"GET"}), ("/result/{other}", {"GET", "HEAD"})]) != []
    # No path has the same text where both have it, but /y/x matches both.
    assert shared([("/{a}/x", {"GET"}), ("/y/{b}", {"GET"})]) != []
    assert shared([("/result/{token}", {"GET"}), ("/result/{other}", {"POST"})]) == []
    assert shared([("/result/{token}", {"GET"}), ("/result/{token}/pdf", {"GET"})]) == []
    assert shared([("/a/{x}", {"GET"}), ("/b/{x}", {"GET"})]) == []


def test_a_method_no_route_of_a_path_takes_is_405_with_the_first_routes_methods(
    client: TestClient,
) -> None:
    # /result/{token}/change: the form's GET (form.py) and the correction's POST (correction.py),
    # in two routers. What Starlette's 405 lists is the first one's; an order that put the
    # correction first would change it, and this says so.
    response = client.put("/result/abc/change")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
