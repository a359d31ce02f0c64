"""Signing in and out, and setting a password from a one-time link. Open to everyone."""

from __future__ import annotations

import math
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.deps import DbDep, SettingsDep, settings_of
from app.errors import AppError
from app.security import new_token, sign, verify
from app.services import audit
from app.services import auth as auth_service

from .deps import SESSION_COOKIE, audit_by, render

router = APIRouter()

LOGIN_CSRF_COOKIE: Final = "backaudit_login"
# The set-password form's own form token, like the login form's (only that path sees it).
SETUP_CSRF_COOKIE: Final = "backaudit_set_password"
SETUP_PATH: Final = "/staff/set-password"
SETUP_DONE_NOTICE: Final = "Your password is set. Sign in."
EXPIRED: Final = "The form had expired. Please try again."
FAILED: Final = "The e-mail address or password is not right, or the account is not active."


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def mask_email(email: str) -> str:
    """ "amy@riverside.example" as "a**@riverside.example": enough to tell accounts apart."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}@{domain}"


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _safe_next(target: str | None) -> str:
    # Only a path inside the staff area: never an open redirect to another site.
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return "/staff/"


def _login_page(
    request: Request, settings_secret: str, *, next_url: str, email: str = "",
    error: str | None = None, notice: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    nonce = new_token(16)
    response = render(
        request,
        "staff/login.html",
        None,
        status_code=status_code,
        login_token=sign(settings_secret, "staff-login", nonce),
        next_url=next_url,
        email=email,
        error=error,
        notice=notice,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="lax", path="/staff",
        secure=not settings_of(request).is_development,
    )  # fmt: skip
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    settings: SettingsDep,
    next: str | None = None,
    setup_done: Annotated[str, Query(alias="password_set", max_length=10)] = "",
) -> HTMLResponse:
    notice = SETUP_DONE_NOTICE if setup_done == "1" else None
    return _login_page(request, settings.secret_key, next_url=_safe_next(next), notice=notice)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    # No length limits here: a value no account can have fails like any other (below).
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff/",
) -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not nonce or not verify(settings.secret_key, "staff-login", nonce, login_token):
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
    if not auth_service.could_sign_in_with(email, password):
        # The same answer as a wrong password: the form tells nothing about accounts.
        return _login_page(
            request, settings.secret_key, next_url=_safe_next(next), email="",
            error=FAILED, status_code=status.HTTP_401_UNAUTHORIZED,
        )  # fmt: skip
    ip = _client_ip(request)
    policy = auth_service.ThrottlePolicy.of(
        first_delay=settings.login_first_delay_seconds,
        max_email_delay=settings.login_max_delay_email_seconds,
        max_address_delay=settings.login_max_delay_address_seconds,
    )
    # Counted, and committed, before the password is checked: concurrent attempts see it.
    wait = await db.run_committed(
        auth_service.claim_login_attempt, email=email, client_ip=ip, policy=policy
    )
    if wait is not None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        refused = _login_page(
            request, settings.secret_key, next_url=_safe_next(next), email=email,
            error=f"Too many failed attempts. Try again in {_duration(seconds)}.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )  # fmt: skip
        refused.headers["Retry-After"] = str(seconds)
        return refused
    account = await db.run(auth_service.find_account, email)
    # Argon2 in a worker thread: tens of milliseconds that must not hold up the event loop.
    matched = await run_in_threadpool(auth_service.password_matches, account, password)
    if not auth_service.may_sign_in(account, matched):
        await db.run_committed(auth_service.forget_old_login_attempts)
        if account is not None:
            # In the account's clinic's log: someone tried it. The e-mail masked, never the
            # password; an unknown e-mail belongs to no clinic's log.
            await db.run(
                audit.record, clinic_id=account.clinic_id, actor_id=None,
                action="staff.login_failed", target_type="staff_user", target_id=account.id,
                detail={"email": mask_email(account.email)},
            )  # fmt: skip
        return _login_page(
            request, settings.secret_key, next_url=_safe_next(next), email=email,
            error=FAILED, status_code=status.HTTP_401_UNAUTHORIZED,
        )  # fmt: skip
    user = account
    await db.run_committed(
        auth_service.forgive_login_attempt, email=email, client_ip=ip, policy=policy
    )
    await db.run(auth_service.rehash_if_needed, user, password)
    # A fresh session on every login (no fixation); the old cookie, if any, is ended.
    await db.run(auth_service.end_session, request.cookies.get(SESSION_COOKIE))
    token = await db.run(auth_service.start_session, user)
    await db.run(audit.record, clinic_id=user.clinic_id, actor_id=user.id, action="staff.login")
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path="/staff",
        secure=not settings.is_development, max_age=int(auth_service.SESSION_LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


@router.post("/logout")
async def logout(
    request: Request, db: DbDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    staff = await db.run(auth_service.signed_in, token)
    if staff is not None:
        # Logout is CSRF-protected too, so another site cannot sign staff out.
        if csrf_token != staff.session.csrf_token:
            raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
        await audit_by(db, staff, "staff.logout")
        await db.run(auth_service.end_session, token)
    response = RedirectResponse("/staff/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    return response


def _set_password_page(
    request: Request,
    settings_secret: str,
    *,
    email: str,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """The form, with a signed form token tied to a cookie nonce, as on the login form."""
    nonce = new_token(16)
    response = render(
        request, "staff/set_password.html", None, status_code=status_code, email=email,
        errors=errors, form_token=sign(settings_secret, "staff-set-password", nonce),
    )  # fmt: skip
    response.set_cookie(
        SETUP_CSRF_COOKIE, nonce, httponly=True, samesite="lax", path=SETUP_PATH,
        secure=not settings_of(request).is_development,
    )  # fmt: skip
    return response


@router.get("/set-password/{token}", response_class=HTMLResponse)
async def set_password_form(
    request: Request, token: str, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    user = await db.run(auth_service.user_for_set_password_token, token)
    if user is None:
        return render(request, "staff/link_invalid.html", None, status_code=status.HTTP_410_GONE)
    return _set_password_page(request, settings.secret_key, email=user.email, errors={})


@router.post("/set-password/{token}", response_class=HTMLResponse)
async def set_password(
    request: Request,
    token: str,
    db: DbDep,
    settings: SettingsDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    # The one-time token in the URL is the proof of who this is: it is long, random and
    # single-use. The form token (as on the login form) proves the form was this site's.
    nonce = request.cookies.get(SETUP_CSRF_COOKIE, "")
    if not nonce or not verify(settings.secret_key, "staff-set-password", nonce, form_token):
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
    user = await db.run(auth_service.user_for_set_password_token, token)
    if user is None:
        return render(request, "staff/link_invalid.html", None, status_code=status.HTTP_410_GONE)
    errors: dict[str, str] = {}
    problem = auth_service.password_problem(password)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The passwords do not match"
    if errors:
        return _set_password_page(
            request, settings.secret_key, email=user.email, errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    password_hash = await run_in_threadpool(auth_service.hash_password, password)
    await db.run(auth_service.set_password, user, password, password_hash=password_hash)
    await db.run(
        audit.record, clinic_id=user.clinic_id, actor_id=user.id, action="staff.password_set"
    )
    # Post/redirect/get: the sign-in page says the password is set.
    response = RedirectResponse("/staff/login?password_set=1", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SETUP_CSRF_COOKIE, path=SETUP_PATH)
    return response
