"""The patient pages' routes, one router: the contact and keep pages, the form (form.py, at
each of its three prefixes), correcting a stored result (correction.py), the result page and
its PDF (result.py), deleting a result (deletion.py). The order is the order routes match in.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import contact, correction, deletion, form, keep, result

router = APIRouter()
router.include_router(contact.router)
router.include_router(keep.router)
router.include_router(form.router)
router.include_router(correction.router)
router.include_router(result.router)
router.include_router(deletion.router)
