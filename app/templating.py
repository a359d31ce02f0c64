"""The Jinja2 environment shared by the patient and staff pages (autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from . import i18n
from .answer_text import unit_for
from .assets import static_url
from .config import HelpLines

TEMPLATES_DIR = Path(__file__).parent / "templates"


def help_lines_of(request: Request) -> HelpLines:
    """The app's help lines (its settings'): each app may have its own, so a request's page
    reads them from its app, not from a module-wide global."""
    help_lines: HelpLines = request.app.state.settings.help_lines
    return help_lines


def _help_lines(request: Request) -> dict[str, Any]:
    # Every page may say whom to call (the footer does): `help_lines` is in every page's context.
    return {"help_lines": help_lines_of(request)}


def _languages(request: Request) -> dict[str, Any]:
    # The page's language (for <html lang>) and the switcher's: those this app offers, each
    # linking to this same page (its query kept) in that language.
    offered: tuple[i18n.Language, ...] = getattr(request.app.state, "languages", ())
    query = request.url.query
    return {
        "language_links": [
            (language, i18n.switch_href(query, language.code)) for language in offered
        ]
        if len(offered) > 1
        else [],
    }


templates = Jinja2Templates(
    directory=str(TEMPLATES_DIR), context_processors=[_help_lines, _languages]
)
templates.env.globals["static_url"] = static_url
# The page's language (<html lang>, the switcher's current one): a global, so that pages made
# without a request (the PDF) and by other environments' loaders have it too.
templates.env.globals["current_language"] = i18n.current_language
templates.env.globals["lang_attr"] = i18n.lang_attr
templates.env.globals["unit_for"] = unit_for
# Templates mark their strings with _() and {% trans %} (trimmed: a translator sees one line);
# newstyle gettext escapes the values put into a translation, and reads the current language.
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext,
    i18n.ngettext,
    newstyle=True,
    pgettext=i18n.pgettext,
    npgettext=i18n.npgettext,
)


# Jinja's newstyle gettext and ngettext without their indirections (each string went through
# Context.call twice more, and `_` looked `gettext` up first): a result page's ~150 strings cost
# 1,900 of its 26,000 Python calls that way. The same result as jinja2.ext's _make_new_gettext:
# the text as Markup where the template autoescapes, then formatted with the values (escaped).
# They take the evaluation context, not the whole context: a function that takes the context,
# called inside a block or a loop, gets a copy of every variable the page has, each call.
@pass_eval_context
def _gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    return _formatted(eval_ctx, i18n.gettext(string), variables)


@pass_eval_context
def _ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, i18n.ngettext(singular, plural, num), variables)


def _formatted(eval_ctx: EvalContext, text: str, variables: dict[str, Any]) -> str:
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our own catalogs, as Jinja's newstyle gettext
    return text % variables


templates.env.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext)
templates.env.filters["number"] = lambda n, decimals=None: i18n.format_number(n, decimals=decimals)
templates.env.filters["day"] = lambda d, style="long": i18n.format_day(d, style=style)


def tel_href(phone: str) -> str:
    """A phone number as a tel: link's target: "+44 (0)1632 960 001" → "tel:+4401632960001"."""
    if phone.lstrip().startswith("+"):
        phone = phone.replace("(0)", "")  # the trunk 0 is not dialled after a country code
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


templates.env.filters["tel"] = tel_href
