"""The code's shape, as README's "How the code is laid out" describes it: the engine imports
nothing of the app, and no door (app/web, app/staff, app/api) imports another, in Python or in
templates. Doors share services, the engine, models and app-wide helpers, never each other.
Services import no presentation (app/display.py, templates), and no module uses another's
private names (``_name``): what two modules share is public, in the module it belongs to."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
DOORS = ("web", "staff", "api")
# What the engine may import besides itself: the standard library, its YAML reader, and the
# typing module's backport (the result contract's TypedDict, which pydantic reads on 3.11).
ENGINE_MAY_IMPORT = {*sys.stdlib_module_names, "yaml", "typing_extensions"}
TEMPLATE_REFERENCE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


# Presentation: what only the doors' pages use. Services hand data to the doors, which make
# the pages; a service that needs an answer's words uses app/answer_text.py.
PRESENTATION = ("app.display", "app.templating", "jinja2", "fastapi.templating")


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _from_module(node: ast.ImportFrom, package: str) -> str:
    """The absolute name of the module a ``from ... import`` reads (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    package = ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _from_module(node, package)
            found.add(module)
            # `from app import display` imports the module app.display.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, module: str, package: str) -> list[str]:
    """Where ``module`` (in ``package``) uses another app module's private names: ``from x
    import _name``, ``x._name``, or a private module (``x._y``) from outside its package."""
    found: list[str] = []
    bound: set[str] = set()  # names bound to something of another app module
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "app":
                    bound.add(alias.asname or alias.name.split(".")[0])
                    found.extend(_private_module(alias.name, package, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source_module = _from_module(node, package)
            if source_module.split(".")[0] != "app" or source_module == module:
                continue
            found.extend(_private_module(source_module, package, node.lineno))
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if is_private(alias.name):
                    found.append(f"line {node.lineno}: {alias.name} from {source_module}")
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and is_private(node.attr)
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def _private_module(name: str, package: str, line: int) -> list[str]:
    """A private module (``app.engine._model``) is its package's own."""
    parts = name.split(".")
    return [
        f"line {line}: module {name}"
        for i, part in enumerate(parts)
        if is_private(part) and not (package + ".").startswith(".".join(parts[:i]) + ".")
    ]


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
        if path.relative_to(APP) != Path("main.py")  # it assembles the doors
        for module in sorted(imported_modules(path))
        if door_of(module) is not None
    ]
    assert crossings == []


def test_the_command_line_is_one_package() -> None:
    """Every `backaudit` command lives in app/cli (a module per group of commands); no door or
    service keeps a command module of its own. (app/cli imports no door: the check above.)"""
    elsewhere = [
        str(path.relative_to(APP.parent))
        for path in sorted(APP.rglob("*.py"))
        if path.relative_to(APP).parts[0] != "cli"
        and ("cli" in path.stem.split("_") or "add_subparsers" in path.read_text())
    ]
    assert elsewhere == []
    assert (APP / "cli" / "__init__.py").is_file()
    assert (APP / "cli" / "__main__.py").is_file()


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
    web = APP / "web" / "result.py"
    assert "app.web.present" in imported_modules(web)  # `from . import present`
    assert door_of("app.staff.deps") == "staff"
    assert door_of("app.services.interview") is None


TESTS = APP.parent / "tests"
# A test goes beside what it tests: a door's, the services', the engine's, the browser's; data
# holds files, support the helpers more than one folder uses. App-wide tests sit in tests/.
TEST_FOLDERS = {*DOORS, "services", "engine", "browser", "data", "support"}
# The engine's tests build their check-in answers from the questionnaire (tests/engine/support.py).
OWN_ANSWER_SETS = {("tests/engine/test_checkin.py", "checkin")}


def test_test_folders_mirror_the_app() -> None:
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= TEST_FOLDERS, folders - TEST_FOLDERS


def test_the_shared_test_helpers_are_defined_once_in_tests_support() -> None:
    shared = {
        name
        for path in (TESTS / "support").glob("*.py")
        for node in ast.parse(path.read_text()).body
        for name in (
            [node.name]
            if isinstance(node, ast.FunctionDef)
            else [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign)
            else []
        )
        if not name.startswith("_")
    }
    assert {"free_port", "stored_assessments", "checkin"} <= shared
    copies = [
        f"{where} defines {node.name}"
        for path in sorted([*TESTS.rglob("*.py"), *(APP.parent / "benchmarks").rglob("*.py")])
        if "support" not in path.relative_to(TESTS.parent).parts[:2]
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name in shared
        for where in [str(path.relative_to(TESTS.parent))]
        if (where, node.name) not in OWN_ANSWER_SETS
    ]
    assert copies == []


# The modules that run check-ins: the question ids they need come from the check-in YAML
# (its context's "from" and its "trend"), never from a string in the code. (The API's OpenAPI
# examples are answers, not logic: api/checkins.py is not checked.)
CHECKIN_MODULES = (
    "services/checkins.py",
    "services/checkin_pages.py",
    "services/checkin_trend.py",
    "services/checkin_dates.py",
    "web/checkins.py",
    "display.py",
)


def question_ids() -> set[str]:
    """Every question and derived value id of every loaded questionnaire, but the trend's line
    names (the result's keys: "pain_now" is a line and a question)."""
    from app.engine import load_versions

    loaded = load_versions(APP.parent / "questionnaires")
    lines = {line.name for q in loaded for line in q.trend}
    return {name for q in loaded for name in (*q.question_by_id, *q.derived_by_id)} - lines


def string_literals(path: Path) -> set[str]:
    """The strings in ``path``'s code (docstrings and comments are not code)."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    }


@pytest.mark.parametrize("module", CHECKIN_MODULES)
def test_check_in_code_names_no_question_id(module: str) -> None:
    named = string_literals(APP / module) & question_ids()
    assert not named, f"app/{module} names question ids {sorted(named)}: say them in the YAML"


def test_no_module_uses_another_modules_private_names() -> None:
    crossings = [
        f"{path.relative_to(APP.parent)} {use}"
        for path in sorted(APP.rglob("*.py"))
        for use in private_uses(
            path.read_text(),
            module_name(path),
            ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1]),
        )
    ]
    assert crossings == []


def test_the_private_name_check_sees_a_crossing() -> None:
    source = (
        "from .bundle import _prediction as prediction\n"
        "from app.services import assessments\n"
        "from app.engine._model import Rule\n"
        "from ..engine._model import Step\n"
        "assessments._replay(None)\n"
    )
    assert private_uses(source, "app.services.fhir.checkin", "app.services.fhir") == [
        "line 1: _prediction from app.services.fhir.bundle",
        "line 3: module app.engine._model",
        "line 4: module app.services.engine._model",
        "line 5: assessments._replay",
    ]
    # Inside its package, a private module is the package's own; a module's own names too.
    assert private_uses("from ._model import Rule\n", "app.engine._load", "app.engine") == []


def test_services_import_no_presentation() -> None:
    crossings = [
        f"{path.relative_to(APP.parent)} imports {module}"
        for path in sorted((APP / "services").rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module.startswith(PRESENTATION)
    ]
    assert crossings == []
    assert "app.display" in imported_modules(APP / "web" / "result.py")  # the check sees one


# A module says what it holds: past this many lines it is holding more than one thing.
MAX_LINES = 450
# The engine's reader and compiler: one grammar each, long by nature.
LONG_BY_NATURE = {"app/engine/_read.py", "app/engine/_expr.py"}


def test_no_module_grows_past_the_line_limit() -> None:
    long = {
        str(path.relative_to(APP.parent))
        for path in APP.rglob("*.py")
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert long - LONG_BY_NATURE == set()


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
