"""The languages of the interface: gettext catalogs (Babel), the current language, and choosing it.

Strings in templates and Python are marked for gettext and extracted with Babel into
``app/locale/messages.pot``; each language's catalog is ``app/locale/<lang>/LC_MESSAGES/messages.po``
(README, "Languages", has the commands). Compiled ``.mo`` files are not committed and not built:
a catalog is compiled from its ``.po`` in memory the first time it is used, once per process
(a few milliseconds), so a checkout, an installed package and the tests all read the very file a
translator edited, and no build step can be forgotten or left stale.

The current language is a context variable, set for each patient page's request by
``LanguageMiddleware`` (``?lang=`` from the switcher's links, then the ``lang`` cookie, then
``Accept-Language``, then English) and read by ``gettext``/``ngettext`` here and by the
templates' ``_()``/``{% trans %}``. Staff pages and the API are not negotiated here: they stay
English (the API's own ``Accept-Language`` is its business).

Only offered languages are ever chosen: English always; another when its catalog exists and is
reviewed, or when draft languages are offered (``settings.languages.offered``: development and
tests), and the questionnaires are offered in it too. ``en-XA`` is a pseudo-locale made from the
.pot (accented letters, 40% longer) so tests find strings that bypass translation and layouts
that break with longer text; a draft offered only with LANGUAGES_PSEUDO_LOCALE (unset: in
tests), never in production.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import cache
from http.cookies import SimpleCookie
from io import BytesIO
from pathlib import Path
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as babel_format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALE_DIR: Final = Path(__file__).parent / "locale"
POT_FILE: Final = LOCALE_DIR / "messages.pot"
DOMAIN: Final = "messages"

BASE_LANGUAGE: Final = "en"
PSEUDO_LANGUAGE: Final = "en-XA"
LANG_COOKIE: Final = "lang"
LANG_QUERY: Final = "lang"
LANG_COOKIE_AGE: Final = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    """A language of the interface. ``code`` is the BCP 47 tag people and links use (``?lang=``,
    the cookie); ``html_lang`` the tag on ``<html>`` (English pages say en-GB, as they always
    have); ``locale`` Babel's, for numbers and dates; ``name`` the language named in itself,
    for the switcher."""

    code: str
    name: str
    html_lang: str
    locale: str
    status: Literal["reviewed", "draft"]
    # Who reviewed the interface's catalog, and when: required for "reviewed".
    reviewed_by: str | None = None
    reviewed_on: date | None = None

    def __post_init__(self) -> None:
        # A translation is reviewed by someone, on a day: the record a reader can trust.
        reviewed = self.status == "reviewed" and self.code != BASE_LANGUAGE
        if reviewed and not (self.reviewed_by and self.reviewed_on):
            raise ValueError(f"{self.code}: reviewed needs reviewed_by and reviewed_on")


# Every interface language there may be. One is offered only when its catalog exists (English
# and the pseudo-locale need none) and it is reviewed or drafts are offered.
LANGUAGES: Final[Mapping[str, Language]] = {
    language.code: language
    for language in (
        Language("en", "English", "en-GB", "en_GB", "reviewed"),
        # Draft until a qualified reviewer has read the catalog (and the definitions' texts).
        Language("pl", "Polski", "pl", "pl_PL", "draft"),
        Language(PSEUDO_LANGUAGE, "Ƥšéûðö", PSEUDO_LANGUAGE, "en_GB", "draft"),
    )
}


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def has_catalog(code: str) -> bool:
    return code in (BASE_LANGUAGE, PSEUDO_LANGUAGE) or catalog_path(code).is_file()


def offered_languages(
    *, offer_drafts: bool, pseudo_locale: bool, definitions: Collection[str] | None = None
) -> tuple[Language, ...]:
    """The languages a person may be given, English first: with a catalog, reviewed or drafts
    offered (the pseudo-locale only where it is asked for), and, given ``definitions`` (the
    languages the questionnaires are offered in), only those: a person is never given the
    pages in a language their questions are not in."""
    return tuple(
        language
        for language in LANGUAGES.values()
        if language.code == BASE_LANGUAGE
        or (
            has_catalog(language.code)
            and (language.status == "reviewed" or offer_drafts)
            and (language.code != PSEUDO_LANGUAGE or pseudo_locale)
            and (definitions is None or language.code in definitions)
        )
    )


# -- Catalogs -------------------------------------------------------------------------------------


def _compiled(catalog: Catalog) -> Translations:
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@cache
def translations(code: str) -> NullTranslations:
    """The language's compiled catalog, made once per process (English: the msgids themselves)."""
    if code == BASE_LANGUAGE or code not in LANGUAGES:
        return NullTranslations()
    if code == PSEUDO_LANGUAGE:
        return _compiled(pseudo_catalog())
    with catalog_path(code).open("rb") as po:
        # Fuzzy entries are a translator's guess, not a translation: gettext gives English.
        catalog = read_po(po, locale=LANGUAGES[code].locale, domain=DOMAIN)
    return _compiled(catalog)


# -- The pseudo-locale ----------------------------------------------------------------------------

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÀƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
# What a translation must keep as it is: placeholders (%(name)s, %s, {name}), HTML tags and
# character references.
_KEPT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdf]|%[sdf%]|\{[^{}]*\}|<[^<>]*>|&#?[A-Za-z0-9]+;")
# Words added to make a text ~40% longer, as many translations are: in words, so a line can
# still break between them as in a real language.
_FILLER = "ļöŕéɱ îþšûɱ ðöļöŕ šîţ àɱéţ çöñšéçţéţûŕ àðîþîšçîñĝ éļîţ šéð ðö éîûšɱöð ţéɱþöŕ"


def pseudo_text(text: str) -> str:
    """``text`` with its letters accented and ~40% more words, its placeholders and HTML kept."""
    if not text:
        return text
    parts: list[str] = []
    position = 0
    letters = 0
    for kept in _KEPT.finditer(text):
        plain = text[position : kept.start()]
        parts.extend((plain.translate(_ACCENTED), kept.group()))
        letters += len(plain)
        position = kept.end()
    plain = text[position:]
    parts.append(plain.translate(_ACCENTED))
    letters += len(plain)
    extra = math.ceil(letters * 0.4)
    if extra:
        filler = (_FILLER * (extra // len(_FILLER) + 1))[:extra].strip()
        if filler:
            parts.append(" " + filler)
    return "".join(parts)


def pseudo_catalog() -> Catalog:
    """The pseudo-locale: every msgid of the .pot, pseudo-translated."""
    with POT_FILE.open("rb") as pot:
        template = read_po(pot, locale="en_GB", domain=DOMAIN)
    catalog = Catalog(locale="en_GB", domain=DOMAIN)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            strings = tuple(pseudo_text(str(part)) for part in message.id)
            catalog.add(message.id, strings, context=message.context)
        else:
            catalog.add(message.id, pseudo_text(message.id), context=message.context)
    return catalog


# -- The current language -------------------------------------------------------------------------

_current: ContextVar[str] = ContextVar("language", default=BASE_LANGUAGE)


def current_language() -> Language:
    return LANGUAGES.get(_current.get(), LANGUAGES[BASE_LANGUAGE])


@contextmanager
def language(code: str) -> Iterator[Language]:
    """Everything in the block in ``code`` (e-mails sent later, in the person's language)."""
    token = _current.set(code if code in LANGUAGES else BASE_LANGUAGE)
    try:
        yield current_language()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(_current.get()).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return str(translations(_current.get()).npgettext(context, singular, plural, n))


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "marked, translated later"
    """Marks a string for extraction where it is defined (a module's constant); ``gettext`` it
    where it is shown, when the person's language is known."""
    return message


def format_number(number: float | int, *, decimals: int | None = None) -> str:
    """A number in the current language's format (1,234.5 in English, 1 234,5 in Polish)."""
    pattern = None
    if decimals is not None:
        pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    locale = Locale.parse(current_language().locale)
    return babel_format_decimal(number, format=pattern, locale=locale)


def short_number(number: float | int) -> str:
    """A number as the pages show an answer or a limit: whole, or to one decimal, without
    grouping (12, 7.5; 7,5 in Polish)."""
    return babel_format_decimal(
        number, format="0.#", locale=Locale.parse(current_language().locale)
    )


def format_day(day: date, *, style: Literal["short", "medium", "long", "full"] = "long") -> str:
    """A date in the current language's format ("7 December 2026", "7 grudnia 2026")."""
    return babel_format_date(day, format=style, locale=Locale.parse(current_language().locale))


def lang_attr(tag: object) -> Markup:
    """` lang="en-GB"` for a passage in another language than the page's (``tag`` set and not
    the page's own); nothing otherwise, so pages in one language are unchanged."""
    if not isinstance(tag, str) or not tag or tag == current_language().html_lang:
        return Markup("")
    return Markup(' lang="%s"') % tag


# -- Choosing the language ------------------------------------------------------------------------


def _match(tag: str, offered: Sequence[str]) -> str | None:
    """The offered language a tag names: itself (any case), or its primary language ("pl-PL"
    is Polish); never a private-use tag by its primary part ("en-XA" is asked for by name)."""
    tag = tag.strip().lower()
    if not tag:
        return None
    by_lower = {code.lower(): code for code in offered}
    if tag in by_lower:
        return by_lower[tag]
    return by_lower.get(tag.split("-")[0]) if "-" in tag else None


def accepted_language(header: str, offered: Sequence[str]) -> str | None:
    """The offered language an Accept-Language header prefers (RFC 9110: by quality, then by
    order; q=0 means "not this"; "*" names no language in particular)."""
    wishes: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag.strip() not in ("", "*"):
            wishes.append((-quality, position, tag))
    for _quality, _position, tag in sorted(wishes):
        if (code := _match(tag, offered)) is not None:
            return code
    return None


def negotiate(
    *, query: str | None, cookie: str | None, accept: str | None, offered: Sequence[str]
) -> str:
    """The language of a page: the switcher's ``?lang=``, then the cookie, then the browser's
    Accept-Language, then English. Anything not offered is passed over."""
    by_lower = {code.lower(): code for code in offered}
    for wish in (query, cookie):
        # The switcher's links and the cookie name a language exactly.
        if wish and (code := by_lower.get(wish.strip().lower())) is not None:
            return code
    if accept and (code := accepted_language(accept, offered)) is not None:
        return code
    return BASE_LANGUAGE


def chosen_by_person(request_query: str, cookie_header: str, offered: Sequence[str]) -> str | None:
    """The offered language the person chose themselves (the switcher's ``?lang=``, or its
    cookie), or None: a default (a clinic's intake language) then comes before their browser's.
    """
    query = dict(parse_qsl(request_query)).get(LANG_QUERY)
    cookie = cookie_parser(cookie_header).get(LANG_COOKIE)
    by_lower = {code.lower(): code for code in offered}
    for wish in (query, cookie):
        # As ``negotiate`` reads them: the switcher's links and the cookie name one exactly.
        if wish and (code := by_lower.get(wish.strip().lower())) is not None:
            return code
    return None


def use_language(code: str) -> None:
    """The rest of this request in ``code`` (a page that learns its default late, such as an
    intake link's clinic); LanguageMiddleware puts the language back when the request ends."""
    _current.set(code if code in LANGUAGES else BASE_LANGUAGE)


def switch_href(query_string: str, code: str) -> str:
    """A link to the same page in another language: its own query, with ``lang`` replaced."""
    pairs = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != LANG_QUERY]
    return "?" + urlencode([*pairs, (LANG_QUERY, code)])


class LanguageMiddleware:
    """Sets the current language for each patient page's request, and keeps a choice made with
    ``?lang=`` in the ``lang`` cookie (the page then continues in it: no redirect, so the chosen
    page shows in its language even where cookies are refused). Paths under ``english_only``
    (staff pages, the API, static files) are left in English."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        offered: Sequence[str],
        secure: bool,
        english_only: Sequence[str] = ("/staff", "/api", "/static"),
    ) -> None:
        self.app = app
        self.offered = tuple(offered)
        self.secure = secure
        self.english_only = tuple(english_only)

    def _is_english_only(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.english_only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_english_only(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get(LANG_QUERY)
        # Read as Starlette reads request.cookies (a malformed header gives what it can).
        cookie = cookie_parser(headers.get("cookie", "")).get(LANG_COOKIE)
        code = negotiate(
            query=query,
            cookie=cookie,
            accept=headers.get("accept-language"),
            offered=self.offered,
        )
        chosen = query is not None and query.strip().lower() == code.lower()
        remember = chosen and cookie != code

        async def send_with_cookie(message: Message) -> None:
            if remember and message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", self._cookie(code))
            await send(message)

        token = _current.set(code)
        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _current.reset(token)

    def _cookie(self, code: str) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[LANG_COOKIE] = code
        morsel = cookie[LANG_COOKIE]
        morsel["max-age"] = LANG_COOKIE_AGE
        morsel["path"] = "/"
        morsel["samesite"] = "Lax"
        morsel["httponly"] = True
        if self.secure:
            morsel["secure"] = True
        return morsel.OutputString()
