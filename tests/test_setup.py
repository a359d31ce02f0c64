"""Setting up: the README's install commands and CI share constraints.txt, so that installing
the test extra leaves the app's own versions as they were, and the tests run on those."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$", "\n".join(lines), re.M))
    assert found, "constraints.txt pins nothing"
    return found


def test_the_readme_and_ci_install_with_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"pip install [^&\n]*", readme)
    assert any("-e ." in line for line in installs)
    assert any("-e '.[test]'" in line for line in installs)
    for line in installs:
        if "-e " in line:
            assert "-c constraints.txt" in line, line
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/pip install -q -c constraints.txt -e '.[test]'" in ci


def test_the_tests_run_on_the_pinned_versions() -> None:
    for name, pinned in pins().items():
        assert version(name) == pinned, (
            f"{name} {version(name)} is installed, constraints.txt pins {pinned}: "
            "install with `pip install -c constraints.txt -e '.[test]'`"
        )
