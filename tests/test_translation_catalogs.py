"""Each committed translation of the interface (app/locale/<lang>/LC_MESSAGES/messages.po) keeps
what the page needs from the English: every placeholder (a help line's name, a clinic, a date),
every HTML tag (a link's address, a call button's markup) and character reference, and one
text for each of the language's plural forms. A translation that dropped %(emergency)s would
tell a person to call nobody; one that changed a link's href would send them elsewhere."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from app import i18n

TRANSLATED = sorted(
    code
    for code, language in i18n.LANGUAGES.items()
    if code not in (i18n.BASE_LANGUAGE, i18n.PSEUDO_LANGUAGE) and i18n.has_catalog(code)
)
# What a plural's singular may leave out: the count itself ("jedno ćwiczenie", not "1 ćwiczenie").
COUNT = re.compile(r"%\((num|count|n)\)[sd]")


def _catalog(code: str) -> Catalog:
    with i18n.catalog_path(code).open("rb") as po:
        return read_po(po, locale=i18n.LANGUAGES[code].locale, domain=i18n.DOMAIN)


def _kept(text: str) -> Counter[str]:
    return Counter(match.group() for match in i18n._KEPT.finditer(text))


def _texts(value: object) -> tuple[str, ...]:
    """A message's id or string as its texts: one, or one per plural form."""
    if isinstance(value, tuple | list):
        return tuple(str(text or "") for text in value)
    return (str(value or ""),)


def _translated(catalog: Catalog) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each translated message's English (singular, plural) and its texts."""
    for message in catalog:
        strings = _texts(message.string)
        if message.id and any(strings):
            yield _texts(message.id), strings


def test_polish_is_among_the_translated_languages() -> None:
    assert "pl" in TRANSLATED


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_translation_keeps_every_placeholder_and_tag_of_its_english(code: str) -> None:
    problems = []
    for english, strings in _translated(_catalog(code)):
        if len(english) > 1:
            kept = _kept(english[0]) | _kept(english[1])
            for form in strings:
                # Every form keeps all but the count; none brings in what the English lacks.
                missing = {k for k in kept - _kept(form) if not COUNT.fullmatch(k)}
                if missing or _kept(form) - kept:
                    problems.append((english[0], form))
        elif _kept(strings[0]) != _kept(english[0]):
            problems.append((english[0], strings[0]))
    assert not problems, f"{code}: translations that lose or add placeholders/tags: {problems}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_plural_has_a_text_for_each_of_the_languages_forms(code: str) -> None:
    catalog = _catalog(code)
    short = [
        english[0]
        for english, strings in _translated(catalog)
        if len(english) > 1 and (len(strings) != catalog.num_plurals or not all(strings))
    ]
    assert not short, f"{code}: plurals without all {catalog.num_plurals} forms: {short}"


def test_polish_has_three_plural_forms_chosen_as_polish_grammar_does() -> None:
    catalog = _catalog("pl")
    form = gettext.c2py(catalog.plural_expr)
    assert catalog.num_plurals == 3
    # 1 ćwiczenie; 2-4, 22-24 ćwiczenia; 0, 5-21, 25-31, 112-114 ćwiczeń
    assert [form(n) for n in (1, 2, 4, 22, 104)] == [0, 1, 1, 1, 1]
    assert {form(n) for n in (0, 5, 11, 12, 14, 21, 25, 112, 114)} == {2}
