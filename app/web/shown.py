"""The questionnaire's own texts in the page's language.

Interviews are evaluated, and results stored, with the English questionnaire (the record never
depends on a language). A page shows the same questions, pages, levels and rules from the
questionnaire's translation into the page's language when one is offered
(``Registry.translation_of``): found by id and code, so only the words differ. Without one the
English texts are shown, marked ``lang`` as English (``text_lang``) inside the page.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.engine import Level, Page, Question, Questionnaire
from app.i18n import LANGUAGES, current_language
from app.services.questionnaires import Registry


def shown(registry: Registry, q: Questionnaire) -> Questionnaire:
    """``q`` in the page's language when it has an offered translation into it, else ``q``."""
    return registry.translation_of(q, current_language().code) or q


def text_lang(q: Questionnaire) -> str | None:
    """The ``lang`` of ``q``'s texts when they are not in the page's language, else None."""
    if q.language == current_language().code:
        return None
    known = LANGUAGES.get(q.language)
    return known.html_lang if known else q.language


def questions(q: Questionnaire, asked: Iterable[Question]) -> list[Question]:
    return [q.question_by_id.get(question.id, question) for question in asked]


def page(q: Questionnaire, english: Page) -> Page:
    return next((p for p in q.pages if p.id == english.id), english)


def level(q: Questionnaire, english: Level) -> Level:
    return q.level_by_code.get(english.code, english)
