"""`backaudit validate` and `backaudit assess`: the engine on files, no database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from app.clock import system_clock
from app.config import get_settings
from app.engine import (
    AnswerError,
    DefinitionError,
    DefinitionProblem,
    Questionnaire,
    assess,
    load_versions,
    rule_warnings,
    text_catalogue,
    validate_path,
    version_key,
)
from app.services import fhir
from app.services.questionnaires import (
    DEFAULT_QUESTIONNAIRE,
    Registry,
    UnknownQuestionnaireError,
    VersionNotAcceptedError,
)

from .exits import EXIT_OK, EXIT_PROBLEM


def register(sub: Any) -> None:
    """Add `validate` and `assess` to the `backaudit` parser."""
    p = sub.add_parser("validate", help="check questionnaire and exercise-block files")
    p.add_argument(
        "path", nargs="?", type=Path, help="a file or folder (default: the questionnaires folder)"
    )
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser(
        "texts", help="print a definition's texts by key: the start of a translation file"
    )
    p.add_argument("file", type=Path, help="a questionnaire or exercise-blocks file")
    p.add_argument("--language", default="xx", help="the translation's language tag")
    p.set_defaults(handler=cmd_texts)

    p = sub.add_parser("assess", help="print the result for a JSON file of answers")
    p.add_argument("file", help='a JSON object of answers, or {"answers": {...}}; "-" reads stdin')
    p.add_argument("--questionnaire", help="questionnaire id (default: the default questionnaire)")
    p.add_argument(
        "--questionnaire-version",
        help="assess against this older version while it is accepted (default: the newest)",
    )
    p.set_defaults(handler=cmd_assess)


def cmd_validate(args: argparse.Namespace) -> int:
    path = args.path or get_settings().questionnaires_dir
    loaded: list[Questionnaire] = []
    # Texts of a translation left the same as the English: allowed, printed to look at.
    same_as_english: list[DefinitionProblem] = []
    problems = validate_path(path, loaded=loaded, warnings=same_as_english)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_PROBLEM
    # Every condition must say the same in the FHIR export (SDC FHIRPath) as in the engine.
    for q in loaded:
        try:
            fhir.questionnaire_resource(q, base_url="http://localhost")
        except fhir.FhirPathError as exc:
            print(f"{q.path}: the FHIR export cannot say this: {exc}", file=sys.stderr)
            return EXIT_PROBLEM
    # Warnings for the version in use only: older versions are read-only.
    newest: dict[str, Questionnaire] = {}
    for q in loaded:
        if q.id not in newest or version_key(q.version) > version_key(newest[q.id].version):
            newest[q.id] = q
    warnings = [w for q in newest.values() for w in rule_warnings(q)] + same_as_english
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"{path}: ok" + (f" ({len(warnings)} warning(s))" if warnings else ""))
    return EXIT_OK


def cmd_texts(args: argparse.Namespace) -> int:
    """A translation file to start from: the header, and every text in English by its key
    (the translator replaces each; `backaudit validate` then warns of any left in English)."""
    try:
        top = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    if not isinstance(top, dict) or not ({"sections", "blocks"} & set(top)):
        print(f"{args.file}: not a questionnaire or exercise-blocks file", file=sys.stderr)
        return EXIT_PROBLEM
    header = {
        "language": args.language,
        "name": "",
        "translates": "exercise-blocks" if "sections" not in top else top.get("id"),
        "version": str(top.get("version")),
        "status": "draft",
        "reviewed_by": None,
        "reviewed_on": None,
    }
    print(f"# {args.file.stem}.{args.language}.yaml: translate each text, keep every placeholder")
    print(yaml.safe_dump(header, sort_keys=False, allow_unicode=True), end="")
    texts = {"texts": text_catalogue(top)}
    print(yaml.safe_dump(texts, sort_keys=False, allow_unicode=True, width=96), end="")
    return EXIT_OK


def cmd_assess(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_PROBLEM
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"{args.file}: not valid JSON: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    if isinstance(data, dict) and set(data) == {"answers"}:
        data = data["answers"]
    try:
        registry = Registry(
            load_versions(
                settings.questionnaires_dir, help_lines=settings.help_lines.placeholders()
            ),
            DEFAULT_QUESTIONNAIRE,
        )
    except DefinitionError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEM
    qid = args.questionnaire or DEFAULT_QUESTIONNAIRE
    try:
        q = registry.for_client(qid, args.questionnaire_version, system_clock().date())
    except UnknownQuestionnaireError:
        names = ", ".join(q.id for q in registry.all())
        print(f"unknown questionnaire {qid!r} (have: {names})", file=sys.stderr)
        return EXIT_PROBLEM
    except VersionNotAcceptedError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_PROBLEM
    try:
        result = assess(q, data)
    except AnswerError as exc:
        for problem in exc.problems:
            print(f"{problem.question}: {problem.message} [{problem.code}]", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; no result", file=sys.stderr)
        return EXIT_PROBLEM
    newer = registry.newer_version(q.id, q.version)
    if newer is not None:
        result["questionnaire"]["newer_version"] = newer
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return EXIT_OK
