"""The CSV export's cells: all quoted, and none that a spreadsheet would run as a formula,
whichever separator it splits the file on."""

from __future__ import annotations

import csv
import io
import re
from typing import cast

import pytest

from app.engine import Result
from app.models import Assessment
from app.services.exports import CSV_COLUMNS, csv_rows
from app.services.queue import Submission

# Where a spreadsheet may start a new cell, depending on its locale and import settings.
SEPARATORS = re.compile(r"[,;\t\r\n]")


def export(patient_reference: str) -> str:
    assessment = Assessment(
        questionnaire_id="low-back-audit", questionnaire_version="1", answers={},
        # Only what the export reads: the reasons' codes.
        result=cast(Result, {"triage": {"reasons": [{"code": "red_flag"}]}}), triage_level="self_care",
        channel="intake",
    )  # fmt: skip
    return "".join(csv_rows(iter([Submission(assessment, patient_reference, None)])))


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ("Smith;=cmd|' /C calc'!A0;=2+5", "Smith;'=cmd|' /C calc'!A0;'=2+5"),
        ("Smith,+1", "Smith,'+1"),
        ("Smith\t-1", "Smith\t'-1"),
        ("Smith\n@SUM(1)", "Smith\n'@SUM(1)"),
        ("Smith; =1", "Smith; '=1"),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        (" =1", " '=1"),
        ("\tSmith", "'\tSmith"),
        ("Appt 4471 - room 2", "Appt 4471 - room 2"),  # a dash inside a part is just text
    ],
)
def test_no_part_of_a_cell_starts_a_formula(typed: str, exported: str) -> None:
    text = export(typed)
    _header, row = csv.reader(io.StringIO(text))
    assert row[CSV_COLUMNS.index("patient_reference")] == exported
    for part in SEPARATORS.split(text):
        assert part.strip(' "')[:1] not in ("=", "+", "-", "@"), part


def test_every_cell_is_quoted() -> None:
    lines = export("Appt 4471").splitlines()
    assert lines[0] == ",".join(f'"{name}"' for name in (*CSV_COLUMNS, "other_answers"))
    assert re.fullmatch(r'"[^"]*"(,"[^"]*")*', lines[1]), lines[1]
