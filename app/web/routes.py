"""The patient pages' routes, one router: the result page and its PDF (result.py), the form
(form.py, at each of its three prefixes), the contact and keep pages, correcting a stored
result (correction.py), deleting a result (deletion.py).

The order is the order routes match in, and each route before a request's own costs it a
match (twice, as FastAPI matches again inside the router it chose): the result page, the page
opened most, first; then the form's pages. No two routes answer the same request
(tests/test_routes.py): the order decides nothing else but a 405's Allow header (app/main.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import contact, correction, deletion, form, keep, result

router = APIRouter()
router.include_router(result.router)
router.include_router(form.router)
router.include_router(contact.router)
router.include_router(keep.router)
router.include_router(correction.router)
router.include_router(deletion.router)
