"""The code's shape, as README's "How the code is laid out" describes it: the engine imports
nothing of the app, and no door (app/web, app/staff, app/api) imports another, in Python or in
templates. Doors share services, the engine, models and app-wide helpers, never each other."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
DOORS = ("web", "staff", "api")
# What the engine may import besides itself: the standard library and its YAML reader.
ENGINE_MAY_IMPORT = {*sys.stdlib_module_names, "yaml"}
TEMPLATE_REFERENCE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    package = ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            # `from app import display` imports the module app.display.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def door_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in DOORS else None


@pytest.mark.parametrize("door", list(DOORS))
def test_no_door_imports_another_door(door: str) -> None:
    crossings = [
        f"{path.relative_to(APP.parent)} imports {module}"
        for path in sorted((APP / door).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if door_of(module) not in (None, door)
    ]
    assert crossings == []


@pytest.mark.parametrize("door", ["web", "staff"])
def test_no_door_template_uses_another_doors_templates(door: str) -> None:
    crossings = [
        f"{path.relative_to(APP)} uses {name}"
        for path in sorted((APP / "templates" / door).rglob("*.html"))
        for name in TEMPLATE_REFERENCE.findall(path.read_text())
        if name.split("/")[0] in DOORS and name.split("/")[0] != door
    ]
    assert crossings == []


def test_services_and_shared_modules_import_no_door() -> None:
    shared = [p for p in APP.rglob("*.py") if p.relative_to(APP).parts[0] not in DOORS]
    crossings = [
        f"{path.relative_to(APP.parent)} imports {module}"
        for path in sorted(shared)
        if path.name not in ("main.py", "cli.py", "admin_cli.py")  # they assemble the doors
        for module in sorted(imported_modules(path))
        if door_of(module) is not None
    ]
    assert crossings == []


def test_the_engine_imports_nothing_outside_itself() -> None:
    outside = [
        f"{path.relative_to(APP.parent)} imports {module}"
        for path in sorted((APP / "engine").rglob("*.py"))
        for module in sorted(imported_modules(path))
        if not module.startswith("app.engine")
        and module.split(".")[0] not in ENGINE_MAY_IMPORT
        and module != "__future__"
    ]
    assert outside == []


def test_the_checks_see_a_crossing() -> None:
    """The walk itself: a relative import out of a door, and `from app import web`, are seen."""
    web = APP / "web" / "routes.py"
    assert "app.web.present" in imported_modules(web)  # `from . import present`
    assert door_of("app.staff.deps") == "staff"
    assert door_of("app.services.interview") is None


# A module says what it holds: past this many lines it is holding more than one thing.
MAX_LINES = 450
# The engine's reader and compiler: one grammar each, long by nature.
LONG_BY_NATURE = {"app/engine/_read.py", "app/engine/_expr.py"}
# Still to be split (issue 24); the list only shrinks.
NOT_SPLIT_YET = {
    "app/api/schemas.py",
    "app/services/alerts.py",
    "app/services/interview.py",
    "app/web/routes.py",
}


def test_no_module_grows_past_the_line_limit() -> None:
    long = {
        str(path.relative_to(APP.parent))
        for path in APP.rglob("*.py")
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert long - LONG_BY_NATURE - NOT_SPLIT_YET == set()


def test_shared_presentation_and_units_import_no_database() -> None:
    """What both doors show (app/presentation, app/display.py) and the unit arithmetic
    (app/units.py) read records handed to them: they never open a session themselves."""
    shared = [APP / "units.py", APP / "display.py", *(APP / "presentation").rglob("*.py")]
    found = [
        f"{path.relative_to(APP.parent)} imports {module}"
        for path in shared
        for module in sorted(imported_modules(path))
        if module in ("app.db", "app.deps", "sqlmodel", "sqlalchemy")
        or module.startswith(("sqlmodel.", "sqlalchemy."))
    ]
    assert found == []


def test_units_are_arithmetic_on_the_engines_questions() -> None:
    outside = [
        module
        for module in sorted(imported_modules(APP / "units.py"))
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("app.engine")
    ]
    assert outside == []
