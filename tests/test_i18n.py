"""The interface's languages (app/i18n.py): the committed catalog template is up to date, the
pseudo-locale keeps what a translation must keep, and a language is chosen in the right order."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parent.parent


def _ids(pot: Path) -> set[tuple[object, object]]:
    with pot.open("rb") as file:
        catalog = read_po(file)
    return {(message.id if isinstance(message.id, str) else tuple(message.id), message.context)
            for message in catalog if message.id}  # fmt: skip


def test_the_committed_template_holds_every_marked_string(tmp_path: Path) -> None:
    """Fails when a string was marked (or changed, or removed) without extracting again: the
    README's command, run here, must find the very messages the committed .pot has."""
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), "app"],
        cwd=ROOT,
        check=True,
    )
    committed, extracted = _ids(i18n.POT_FILE), _ids(fresh)
    assert committed == extracted, (
        f"app/locale/messages.pot is out of date: missing {sorted(map(str, extracted - committed))},"
        f" stale {sorted(map(str, committed - extracted))}. Run the extract command in the"
        " README (Translating the pages)."
    )


def test_pseudo_text_accents_every_letter_and_keeps_placeholders_and_html() -> None:
    text = 'Call %(name)s or {urgent_name} <a href="/x">now</a> &amp; 999.'
    pseudo = i18n.pseudo_text(text)
    for kept in ("%(name)s", "{urgent_name}", '<a href="/x">', "</a>", "&amp;", "999"):
        assert kept in pseudo
    assert not re.search(r"[A-Za-z]{2,}", re.sub(r"%\(\w+\)s|\{\w+\}|<[^>]*>|&\w+;", "", pseudo))
    letters = len(re.sub(r"%\(\w+\)s|\{\w+\}|<[^>]*>|&\w+;", "", text))
    assert len(pseudo) - len(text) >= 0.35 * letters


def test_the_pseudo_locale_translates_the_template_and_its_plurals() -> None:
    with i18n.language(i18n.PSEUDO_LANGUAGE):
        assert i18n.gettext("Low back pain check").startswith("Ļöŵ ƀàçķ þàîñ çĥéçķ")
        assert i18n.gettext("not in the catalog") == "not in the catalog"
    assert i18n.gettext("Low back pain check") == "Low back pain check"


OFFERED = ("en", "pl", "en-XA")


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "chosen"),
    [
        ("pl", "en", "en", "pl"),  # the switcher's link first
        (None, "pl", "en", "pl"),  # then the cookie
        (None, None, "de, pl;q=0.8, en;q=0.5", "pl"),  # then the browser's, by quality
        (None, None, "en;q=0.2, pl-PL;q=0.9", "pl"),  # a region names its language
        (None, None, None, "en"),  # then English
        ("de", "fr", "de", "en"),  # languages not offered are passed over
        ("xx", "pl", None, "pl"),  # an unknown ?lang= falls through to the cookie
        (None, "nonsense", "pl", "pl"),
        (None, None, "pl;q=0, en", "en"),  # q=0: not this
        (None, None, "*", "en"),
        (None, None, "en-XA", "en-XA"),
        (None, None, "en-US", "en"),
        ("EN-xa", None, None, "en-XA"),
    ],
)
def test_negotiation_order(
    query: str | None, cookie: str | None, accept: str | None, chosen: str
) -> None:
    assert i18n.negotiate(query=query, cookie=cookie, accept=accept, offered=OFFERED) == chosen


def test_a_private_use_region_is_never_reached_by_its_language_alone() -> None:
    assert i18n.negotiate(query=None, cookie=None, accept="en", offered=("en-XA",)) == "en"


def test_drafts_are_offered_only_when_asked() -> None:
    def offered(**options: object) -> set[str]:
        return {language.code for language in i18n.offered_languages(**options)}  # type: ignore[arg-type]

    assert offered(offer_drafts=False, pseudo_locale=True) == {"en"}
    assert "en-XA" in offered(offer_drafts=True, pseudo_locale=True)
    assert "en-XA" not in offered(offer_drafts=True, pseudo_locale=False)
    # Not a language the questionnaires are offered in: not offered for the pages either.
    assert offered(offer_drafts=True, pseudo_locale=True, definitions={"en"}) == {"en"}


def test_switch_links_keep_the_query_and_replace_lang() -> None:
    assert i18n.switch_href("", "pl") == "?lang=pl"
    assert i18n.switch_href("next=q2&lang=en", "pl") == "?next=q2&lang=pl"


def test_numbers_and_days_in_the_languages_format() -> None:
    from datetime import date

    with i18n.language("en"):
        assert i18n.format_number(1234.5, decimals=1) == "1,234.5"
        assert i18n.format_day(date(2026, 12, 7)) == "7 December 2026"
    with i18n.language("pl"):
        assert i18n.format_number(1234.5, decimals=1) == "1\xa0234,5"
        assert i18n.format_day(date(2026, 12, 7)) == "7 grudnia 2026"


PL_PO = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\n"
"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

msgid "Continue"
msgstr "Dalej"

msgid "%(num)d minute"
msgid_plural "%(num)d minutes"
msgstr[0] "%(num)d minuta"
msgstr[1] "%(num)d minuty"
msgstr[2] "%(num)d minut"

#, fuzzy
msgid "Back"
msgstr "Wstecz?"
"""


def test_a_catalog_is_compiled_from_its_po_with_plurals_and_without_guesses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "pl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(PL_PO)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.has_catalog("pl")
        with i18n.language("pl"):
            assert i18n.gettext("Continue") == "Dalej"
            minutes = [i18n.ngettext("%(num)d minute", "%(num)d minutes", n) for n in (1, 3, 5, 22)]
            assert minutes == [
                "%(num)d minuta",
                "%(num)d minuty",
                "%(num)d minut",
                "%(num)d minuty",
            ]
            assert i18n.gettext("Back") == "Back"  # a fuzzy entry is a guess: English instead
            assert i18n.gettext("Not translated") == "Not translated"
    finally:
        i18n.translations.cache_clear()


def test_a_reviewed_language_names_its_reviewer_and_the_day() -> None:
    with pytest.raises(ValueError, match="reviewed_by"):
        i18n.Language("pl", "Polski", "pl", "pl_PL", "reviewed")
    from datetime import date

    reviewed = i18n.Language(
        "pl", "Polski", "pl", "pl_PL", "reviewed", "A. Nowak, GP", date(2027, 1, 4)
    )
    assert reviewed.status == "reviewed"


def test_a_passage_in_another_language_is_marked_and_one_in_the_pages_is_not() -> None:
    with i18n.language("en-XA"):
        assert i18n.lang_attr("en-GB") == ' lang="en-GB"'
        assert i18n.lang_attr("en-XA") == ""
        assert i18n.lang_attr(None) == ""
    assert i18n.lang_attr("en-GB") == ""
    assert i18n.lang_attr('"><script>') == ' lang="&#34;&gt;&lt;script&gt;"'
