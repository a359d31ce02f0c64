"""The way through a questionnaire's pages: which page may be shown, the one before and after,
where an emergency sign stops the interview, and how far along it is. All branching comes from
the engine's Evaluation; this module only reads it."""

from __future__ import annotations

from typing import Any

from app.engine import Evaluation, Page, Questionnaire, evaluate


def find_page(q: Questionnaire, page_id: str) -> Page | None:
    return next((p for p in q.pages if p.id == page_id), None)


def page_index(q: Questionnaire, page: Page) -> int:
    return q.pages.index(page)


def may_show(evaluation: Evaluation, page: Page) -> bool:
    """A page can be shown when branching shows it and no earlier page is still unanswered
    (people move forward through the pages, or back; they cannot skip ahead)."""
    if not evaluation.page_is_visible(page):
        return False
    # A stopped interview (being corrected) goes no further than the page that stopped it.
    required = stop_page(evaluation) if evaluation.stopped else evaluation.next_page
    q = evaluation.questionnaire
    return required is None or page_index(q, page) <= page_index(q, required)


def previous_page(evaluation: Evaluation, page: Page) -> Page | None:
    q = evaluation.questionnaire
    earlier = q.pages[: page_index(q, page)]
    return next((p for p in reversed(earlier) if evaluation.page_is_visible(p)), None)


def following_page(evaluation: Evaluation, page: Page) -> Page | None:
    """The page after ``page`` in order, or an earlier one that still needs an answer."""
    q = evaluation.questionnaire
    later = q.pages[page_index(q, page) + 1 :]
    following = next((p for p in later if evaluation.page_is_visible(p)), None)
    required = evaluation.next_page
    if required is not None and (
        following is None or page_index(q, required) < page_index(q, following)
    ):
        return required
    return following


def stop_page(evaluation: Evaluation) -> Page | None:
    """The page whose answers stopped the interview (the one with the emergency answer), or
    None when it has not stopped: the answers of each page in turn, until they stop it."""
    if not evaluation.stopped:
        return None
    q = evaluation.questionnaire
    so_far: dict[str, Any] = {}
    for page in q.pages:
        if not evaluation.page_is_visible(page):
            continue
        given = {
            x.id: evaluation.answers[x.id] for x in page.questions if x.id in evaluation.answers
        }
        if not given:
            continue
        so_far.update(given)
        if evaluate(q, so_far).stopped:
            return page
    return None


def progress(evaluation: Evaluation, page: Page) -> dict[str, int]:
    """How far through the questions ``page`` is. A stopped interview (a correction, back at its
    emergency answer) has nothing left to ask, which would read 100%: count it as it was before
    that page was answered, which is where the person is."""
    if not evaluation.stopped:
        return evaluation.progress()
    on_page = {x.id for x in page.questions}
    before = {k: v for k, v in evaluation.answers.items() if k not in on_page}
    return evaluate(evaluation.questionnaire, before).progress()


def last_visible_page(evaluation: Evaluation) -> Page:
    pages = evaluation.questionnaire.pages
    return next((p for p in reversed(pages) if evaluation.page_is_visible(p)), pages[-1])


def section_title(q: Questionnaire, page: Page) -> str:
    return next(s.title for s in q.sections if s.id == page.section_id)
