"""The command line: `backaudit validate` and `backaudit assess` (the engine), and how the
commands that use the database treat one that has no tables yet."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

import app.migrate
from app.cli import main
from app.config import get_settings
from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "questionnaires"
CONSOLE_SCRIPT = "import sys; from app.cli import main; sys.exit(main())"  # as pip writes it

SAFETY_NO = {**dict.fromkeys(["saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change", "both_legs", "chest_pain", "leg_weakness", "walking_difficulty", "fever", "weight_loss", "cancer_history", "night_pain", "pain_on_straining", "thoracic_pain", "back_shape_change", "osteoporosis_or_steroids", "infection_risk", "pregnant"], False), "serious_accident": "no"}  # fmt: skip


def test_validate_accepts_the_shipped_questionnaires(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(QUESTIONNAIRES)]) == 0
    assert "ok" in capsys.readouterr().out


def test_validate_reports_every_problem_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(QUESTIONNAIRES / "exercise-blocks.yaml", tmp_path)
    text = (QUESTIONNAIRES / "low-back-audit.yaml").read_text()
    broken = text.replace("when: saddle_numbness\n", "when: saddle_numbnes\n", 1)
    broken = broken.replace("when: fever\n", "when: fever > 3\n", 1)
    target = tmp_path / "low-back-audit.yaml"
    target.write_text(broken)
    lines = broken.splitlines()
    typo_line = lines.index("    when: saddle_numbnes") + 1
    type_line = lines.index("    when: fever > 3") + 1

    assert main(["validate", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert f"{target}:{typo_line}:" in err
    assert "did you mean 'saddle_numbness'" in err
    assert f"{target}:{type_line}:" in err
    assert "2 problem(s) found" in err


def test_validate_refuses_a_condition_fhir_cannot_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A derived value named "resource" would read as FHIRPath's own %resource in the export.
    shutil.copy(QUESTIONNAIRES / "exercise-blocks.yaml", tmp_path)
    text = (QUESTIONNAIRES / "low-back-audit.yaml").read_text()
    target = tmp_path / "low-back-audit.yaml"
    target.write_text(
        text.replace("  - id: bmi\n", "  - id: resource\n    value: age + 1\n  - id: bmi\n", 1)
    )

    assert main(["validate", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert f"{target}: the FHIR export cannot say this:" in err
    assert "'resource'" in err


def test_validate_fails_on_a_broken_translation_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.translations import catalogue, line_with, stand_in, write_translation

    for stem in ("low-back-audit", "exercise-blocks"):
        shutil.copy(QUESTIONNAIRES / f"{stem}.yaml", tmp_path)
        write_translation(tmp_path, stem)
    assert main(["validate", str(tmp_path)]) == 0
    capsys.readouterr()
    texts = {key: stand_in(text) for key, text in catalogue("low-back-audit").items()}
    del texts["questions.bladder_change.text"]  # a text missing
    texts["questions.bladder_chnage.text"] = "XX ? XX"  # an unknown key
    texts["levels.emergency.advice"] = "XX call for help XX"  # {emergency_name} lost
    texts["title"] = "Low back pain check"  # the same as the English: a warning only
    target = write_translation(tmp_path, "low-back-audit", texts=texts)

    assert main(["validate", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert (
        f"{target}:{line_with(target, 'texts:')}: missing text 'questions.bladder_change.text'"
        in err
    )
    assert f"{target}:{line_with(target, 'questions.bladder_chnage.text')}: unknown text" in err
    assert (
        f"{target}:{line_with(target, 'levels.emergency.advice')}: levels.emergency.advice: placeholders differ"
        in err
    )
    assert "3 problem(s) found" in err


def test_validate_warns_of_a_text_left_in_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.translations import catalogue, stand_in, write_translation

    for stem in ("low-back-audit", "exercise-blocks"):
        shutil.copy(QUESTIONNAIRES / f"{stem}.yaml", tmp_path)
        write_translation(tmp_path, stem)
    texts = {key: stand_in(text) for key, text in catalogue("low-back-audit").items()}
    texts["title"] = "Low back pain check"
    target = write_translation(tmp_path, "low-back-audit", texts=texts)

    assert main(["validate", str(tmp_path)]) == 0

    out = capsys.readouterr()
    assert f"{target}:" in out.err
    assert "title: the same as the English text" in out.err
    assert "(1 warning(s))" in out.out


def test_validate_a_missing_path_is_a_problem_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_assess_prints_the_result_for_an_emergency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"answers": {"saddle_numbness": True}}))

    assert main(["assess", str(answers)]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["triage"]["level"] == "emergency"
    assert result["complete"] is True
    assert result["plan"] is None
    assert [r["code"] for r in result["triage"]["reasons"]] == ["cauda_equina_saddle"]


def test_assess_reads_answers_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"bowel_change": True})))
    assert main(["assess", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["triage"]["level"] == "emergency"


def test_assess_lists_every_problem_by_question_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({**SAFETY_NO, "age": 200, "pregnant": "no", "colour": "red"}))

    assert main(["assess", str(answers)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""  # no result at all
    assert "age: must be from 0 to 120 [out_of_range]" in captured.err
    assert "pregnant: must be true or false" in captured.err
    assert "colour: is not a question in this questionnaire [unknown_question]" in captured.err
    assert "pain_duration: is required [required]" in captured.err
    assert "[removed_question]" not in captured.err  # every id sent is one 2.0.0 has


def test_assess_names_the_version_that_removed_an_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({**SAFETY_NO, "age": 40, "major_trauma": False}))

    assert main(["assess", str(answers)]) == 2

    err = capsys.readouterr().err
    assert "major_trauma: was removed in version 2.0.0" in err
    assert "'serious_accident'" in err
    assert "[removed_question]" in err


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"'])
def test_assess_refuses_input_that_is_not_an_object_of_answers(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(content)
    assert main(["assess", str(answers)]) == 2
    assert capsys.readouterr().out == ""


def test_assess_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_assess_into_a_pipe_that_closes_early_stops_quietly(tmp_path: Path) -> None:
    """`backaudit assess answers.json | head -1`: no BrokenPipeError traceback."""
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"saddle_numbness": True}))
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before anything is written: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-c", CONSOLE_SCRIPT, "assess", str(answers)],
            stdout=writer,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.stderr.decode() == ""
    assert done.returncode == 141  # as for a command stopped by SIGPIPE


# -- commands that use the database --------------------------------------------------------------


@pytest.fixture
def empty_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL is a SQLite file with no tables, as before `backaudit serve` ever ran."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_database_commands_migrate_a_new_sqlite_database_first(
    empty_sqlite: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clinic", "list"]) == 0
    assert {"clinic", "staff_user", "api_client", "alembic_version"} <= table_names(empty_sqlite)

    assert main(["clinic", "create", "Riverside Physio"]) == 0
    assert main(["clinic", "list"]) == 0
    assert "Riverside Physio" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        ["clinic", "create", "Riverside Physio"],
        ["clinic", "list"],
        [
            "user",
            "create",
            "--clinic",
            "Riverside Physio",
            "--email",
            "a@b.example",
            "--no-password",
        ],
        ["api-key", "create", "--name", "booking app"],
        ["api-key", "list"],
        ["api-key", "revoke", "ba_nothing"],
    ],
)
def test_no_database_command_crashes_on_a_new_sqlite_database(
    empty_sqlite: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) in (0, 2)  # 2: nothing found (no such clinic or key), said in words
    assert "no such table" not in capsys.readouterr().err
    assert "clinic" in table_names(empty_sqlite)


def test_a_database_that_is_not_migrated_is_a_one_line_message_not_a_traceback(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What PostgreSQL does (migrations are a deliberate step there), shown on SQLite."""
    monkeypatch.setattr(app.migrate, "prepare", app.migrate.require_current_schema)

    assert main(["api-key", "list"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "run `backaudit db upgrade`" in captured.err
    assert "Traceback" not in captured.err
    assert table_names(empty_sqlite) == set()  # nothing was created


def test_an_unreachable_database_is_a_one_line_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        assert main(["clinic", "list"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("backaudit: cannot use the database (")
    assert "check DATABASE_URL" in err
    assert err.count("\n") == 1


def test_serve_refuses_a_database_that_is_not_migrated_the_same_way(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(app.migrate, "prepare", app.migrate.require_current_schema)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr("uvicorn.run", never)

    assert main(["serve"]) == 2
    assert "run `backaudit db upgrade`" in capsys.readouterr().err


def test_serve_does_not_announce_the_server_software(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No "Server: uvicorn" header: it tells an attacker which bugs to try."""
    options: dict[str, object] = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: options.update(kwargs))

    assert main(["serve"]) == 0
    assert options["server_header"] is False
    assert options["access_log"] is False  # paths with tokens are never logged


def test_forwarded_headers_are_believed_only_from_the_proxies_named(
    empty_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default nobody's X-Forwarded-For counts, or a client could give each wrong password
    another address and slip past the sign-in throttle."""
    options: dict[str, object] = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: options.update(kwargs))
    assert main(["serve"]) == 0
    assert options["proxy_headers"] is False

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 0
    finally:
        get_settings.cache_clear()
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.5"


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL (PostgreSQL)",
)
def test_on_postgresql_database_commands_ask_for_db_upgrade_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_migrations import _postgres_database

    databases = _postgres_database()
    url = next(databases)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["clinic", "list"]) == 2
        err = capsys.readouterr().err
        assert (
            err == "backaudit: the database has no tables yet: run `backaudit db upgrade` first\n"
        )
        assert table_names(url) == set()

        assert main(["db", "upgrade"]) == 0
        assert main(["clinic", "create", "Riverside Physio"]) == 0
        assert "Riverside Physio" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
        databases.close()  # drops the database


def test_the_served_app_freezes_its_start_up_heap_and_collects_less_often(tmp_path: Path) -> None:
    """`serve` builds each worker's app with create_served_app: the garbage collector's settings
    that benchmarks/api.py measured (app/main.py). In a child process: they are process-wide."""
    probe = (
        "import gc; from app.main import create_served_app; create_served_app();"
        " print(gc.get_threshold()[0], gc.get_freeze_count() > 1000)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"},
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["10000", "True"]


def test_texts_prints_a_translation_to_start_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for stem in ("low-back-audit", "exercise-blocks"):
        shutil.copy(QUESTIONNAIRES / f"{stem}.yaml", tmp_path)
        assert main(["texts", str(tmp_path / f"{stem}.yaml"), "--language", "de"]) == 0
        started = capsys.readouterr().out.replace("name: ''", "name: Deutsch")
        (tmp_path / f"{stem}.de.yaml").write_text(started, encoding="utf-8")
    # Valid as it is, every text still English: each a warning to translate.
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "questions.saddle_numbness.text: the same as the English text" in out.err
    assert "blocks.hip_bridge.title: the same as the English text" in out.err
