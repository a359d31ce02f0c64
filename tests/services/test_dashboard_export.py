"""The CSV export's cells: text quoted, numbers bare, and none that a spreadsheet would run as
a formula, whichever separator it splits the file on; and its data dictionary."""

from __future__ import annotations

import csv
import io
import re
from typing import cast

import pytest

from app.engine import Result
from app.models import Assessment
from app.services.exports import CSV_COLUMNS, ExportShape, csv_rows, dictionary_rows
from app.services.questionnaires import Registry
from app.services.queue import Submission

# Where a spreadsheet may start a new cell, depending on its locale and import settings.
SEPARATORS = re.compile(r"[,;\t\r\n]")


def export(patient_reference: str) -> str:
    assessment = Assessment(
        questionnaire_id="low-back-audit",
        questionnaire_version="1",
        answers={},
        # Only what the export reads: the reasons' codes.
        result=cast(Result, {"triage": {"reasons": [{"code": "red_flag"}]}}),
        triage_level="self_care",
        channel="intake",
    )
    return "".join(csv_rows(iter([Submission(assessment, patient_reference, None)])))


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ("Smith;=cmd|' /C calc'!A0;=2+5", "Smith; =cmd|' /C calc'!A0; =2+5"),
        ("Smith,+1", "Smith, +1"),
        ("Smith\t-1", "Smith\t -1"),
        ("Smith\n@SUM(1)", "Smith\n @SUM(1)"),
        ("Smith; =1", "Smith; =1"),  # a space before it already keeps it text
        ("=HYPERLINK(1)", " =HYPERLINK(1)"),
        (" =1", " =1"),
        ("\tSmith", " \tSmith"),  # a spreadsheet skips a leading tab, not a space
        ("\r=1", " \r =1"),
        ("+44 7700 900123", " +44 7700 900123"),  # readable: no apostrophe
        ("-12", "-12"),  # a plain number is read as the number it is
        ("Appt 4471 - room 2", "Appt 4471 - room 2"),  # a dash inside a part is just text
        ("O'Brien", "O'Brien"),
    ],
)
def test_no_part_of_a_cell_starts_a_formula(typed: str, exported: str) -> None:
    text = export(typed)
    _header, row = csv.reader(io.StringIO(text))
    assert row[CSV_COLUMNS.index("patient_reference")] == exported
    for part in SEPARATORS.split(text):
        if part.strip('"') != "-12":  # a number, not a formula
            assert part.lstrip('"')[:1] not in ("=", "+", "-", "@", "\t", "\r"), part


def test_text_is_quoted_and_numbers_are_not() -> None:
    lines = export("Appt 4471").splitlines()
    assert lines[0] == ",".join(f'"{name}"' for name in (*CSV_COLUMNS, "other_answers"))
    assert re.fullmatch(r'"[^"]*"(,"[^"]*")*', lines[1]), lines[1]
    # Python's reader types the cells by their quotes, as LibreOffice can: all text here.
    [_header, row] = csv.reader(io.StringIO("\n".join(lines)), quoting=csv.QUOTE_NONNUMERIC)
    assert all(isinstance(cell, str) for cell in row)


def test_the_data_dictionary_names_every_column_with_its_kind_and_unit(
    registry: Registry,
) -> None:
    questions = [q for page in registry.default.pages for q in page.questions]
    shape = ExportShape(questions=questions)
    export_headings = next(csv.reader(io.StringIO(next(csv_rows(iter([]), shape)))))
    rows = list(csv.DictReader(io.StringIO("".join(dictionary_rows(CSV_COLUMNS, shape)))))
    assert [row["column"] for row in rows] == export_headings
    by_column = {row["column"]: row for row in rows}
    assert by_column["height_cm (cm)"]["kind"] == "number"
    assert by_column["height_cm (cm)"]["unit"] == "cm"
    assert (
        by_column["height_cm (cm)"]["meaning"] == registry.default.question_by_id["height_cm"].text
    )
    assert "ISO 8601" in by_column["submitted_at"]["meaning"]
    assert by_column["bowel_change"]["kind"] == "yes/no"
    assert by_column["sitting_breaks"]["values"].endswith(" | Rarely")
    assert by_column["sitting_breaks"]["kind"] == "choice"
    assert by_column["pain_intensity"]["values"] == "0 to 10"
    assert max(len(heading) for heading in export_headings) <= 40
