"""The engine's command line: `backaudit validate` and `backaudit assess`."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from app.cli import main

QUESTIONNAIRES = Path(__file__).resolve().parent.parent / "questionnaires"

SAFETY_NO = dict.fromkeys(["saddle_numbness", "bladder_change", "bowel_change", "both_legs", "chest_pain", "major_trauma", "leg_weakness_worsening", "fever", "weight_loss", "cancer_history", "night_pain", "back_shape_change", "osteoporosis_or_steroids", "infection_risk", "pregnant"], False)  # fmt: skip


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
