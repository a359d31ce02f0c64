"""After a clinician released the programme (questionnaire 2.1): the person answers the "before
you exercise" questions at their private link, one page at a time, then sees their plan.

Each page's answers are stored on the record as they are sent (services.release); the result
with the plan is made once the last one is in. Nothing else on the record changes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.deps import ClockDep, DbDep, RegistryDep
from app.engine import AnswerError, Evaluation, Page
from app.errors import AppError
from app.i18n import gettext
from app.models import Assessment
from app.services import audit
from app.services import release as release_service
from app.services.questionnaires import Registry

from . import present
from .forms import FieldError, PageInput, read_page
from .pages import CheckedForm, redirect, render
from .result import AssessmentDep

router = APIRouter()


def _evaluation(registry: Registry, assessment: Assessment) -> Evaluation | None:
    """The record read after its release; None once every question is answered (the plan is
    on the result page). Not released: there are no such questions."""
    if assessment.released_at is None:
        raise AppError(404)
    if not release_service.awaits_answers(assessment):
        return None
    return release_service.evaluation(registry, assessment)


@router.get(
    "/result/{token}/before-you-exercise", response_class=HTMLResponse, include_in_schema=False
)
async def first_page(
    request: Request, token: str, assessment: AssessmentDep, registry: RegistryDep
) -> Response:
    evaluation = _evaluation(registry, assessment)
    page = evaluation.next_page if evaluation else None
    if evaluation is None or page is None:  # answered already (a second tab, or back): the plan
        return redirect(f"/result/{token}#plan")
    return _page(request, token, evaluation, page, None)


@router.post("/result/{token}/before-you-exercise", include_in_schema=False)
async def answer_page(
    request: Request,
    token: str,
    form: CheckedForm,
    assessment: AssessmentDep,
    db: DbDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Response:
    evaluation = _evaluation(registry, assessment)
    page = evaluation.next_page if evaluation else None
    if evaluation is None or page is None:
        return redirect(f"/result/{token}#plan")
    shown = evaluation.visible_on(page)
    page_input = read_page(shown, form)
    if not page_input.errors:
        missing = [q for q in shown if q.id not in page_input.answers]
        page_input.errors = [
            FieldError(
                q.id,
                q.id,
                gettext("Answer this question"),
                gettext("%(question)s – answer this question") % {"question": q.text},
            )
            for q in missing
        ]
    if page_input.errors:
        return _page(request, token, evaluation, page, page_input, status_code=422)
    try:
        after = await db.run(
            release_service.answer, registry, assessment.id, page_input.answers, now=clock()
        )
        await db.run(
            audit.record_health_data,
            assessment.clinic_id,
            assessment.id,
            "assessment.release_answered",
            who=audit.BY_PERSON,
        )
    except AnswerError as exc:
        by_id = {q.id: q for q in shown}
        page_input.errors = [
            FieldError(p.question, p.question, p.message, f"{by_id[p.question].text} – {p.message}")
            for p in exc.problems
            if p.question in by_id
        ]
        return _page(request, token, evaluation, page, page_input, status_code=422)
    if after.complete:
        return redirect(f"/result/{token}#plan")
    return redirect(f"/result/{token}/before-you-exercise")


def _page(
    request: Request,
    token: str,
    evaluation: Evaluation,
    page: Page,
    page_input: PageInput | None,
    *,
    status_code: int = 200,
) -> Response:
    q = evaluation.questionnaire
    section = next(s for s in q.sections if s.id == page.section_id)
    pages = [p for p in section.pages if evaluation.page_is_visible(p)]
    action = f"/result/{token}/before-you-exercise"
    return render(
        request,
        "web/before_exercise.html",
        {
            "page": page,
            "fields": present.field_views(
                evaluation.visible_on(page),
                answers=evaluation.answers,
                page_input=page_input,
                units={},
                base_url=action,
                query=request.query_params,
            ),
            "number": pages.index(page) + 1 if page in pages else 1,
            "count": len(pages),
            "errors": page_input.errors if page_input else [],
            "action": action,
            "result_url": f"/result/{token}",
        },
        status_code=status_code,
    )
