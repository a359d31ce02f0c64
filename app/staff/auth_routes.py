"""Signing in (the password, then the second factor if the account has one) and out, and setting
a password from a one-time link. Open to everyone."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.clock import Clock
from app.config import Settings
from app.deps import ClockDep, DbDep, SettingsDep, client_ip, settings_of
from app.errors import AppError
from app.security import new_token, sign, verify
from app.services import accounts, login_throttle, sign_in, staff_sessions
from app.services import sign_in_tokens as tokens

from .deps import SECOND_FACTOR_PATH, SESSION_COOKIE, render

router = APIRouter()

LOGIN_CSRF_COOKIE: Final = "backaudit_login"
# This browser signed in to the account before (app/services/sign_in_tokens.py).
DEVICE_COOKIE: Final = "backaudit_device"
# The password was right; the second factor is still to come (only the code page sees it).
PENDING_COOKIE: Final = "backaudit_sign_in"
CODE_PATH: Final = "/staff/login/code"
# The set-password form's own form token, like the login form's (only that path sees it).
SETUP_CSRF_COOKIE: Final = "backaudit_set_password"
SETUP_PATH: Final = "/staff/set-password"
SETUP_DONE_NOTICE: Final = "Your password is set. Sign in."
EXPIRED: Final = "The form had expired. Please try again."
FAILED: Final = "The e-mail address or password is not right, or the account is not active."
WRONG_CODE: Final = "The code is not right. Enter the code your app shows now."
WRONG_RECOVERY_CODE: Final = "The recovery code is not right, or it has been used."


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
        LOGIN_CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        path="/staff",
        secure=not settings_of(request).is_development,
    )
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
    clock: ClockDep,
    # No length limits here: a value no account can have fails like any other (sign_in.py).
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff/",
) -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not nonce or not verify(settings.secret_key, "staff-login", nonce, login_token):
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
    outcome = await db.run_off_loop(
        sign_in.with_password, email, password, _browser(request), _config(settings, clock)
    )
    if isinstance(outcome, sign_in.Refused | sign_in.Throttled):
        return _login_refused(request, settings, outcome, email=email, next_url=_safe_next(next))
    if isinstance(outcome, sign_in.CodeNeeded):
        response: Response = RedirectResponse(
            f"{CODE_PATH}?next={quote(_safe_next(next), safe='')}", status.HTTP_303_SEE_OTHER
        )
        _set_cookie(response, settings, PENDING_COOKIE, outcome.pending_token, path=CODE_PATH)
    else:
        response = _session_started(
            settings, outcome, SECOND_FACTOR_PATH if outcome.must_enrol else next
        )
    if outcome.device_token:  # this browser now knows the password: a known device
        age = int(tokens.DEVICE_LIFETIME.total_seconds())
        _set_cookie(response, settings, DEVICE_COOKIE, outcome.device_token, max_age=age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


def _login_refused(
    request: Request,
    settings: Settings,
    refusal: sign_in.Refused | sign_in.Throttled,
    *,
    email: str,
    next_url: str,
) -> Response:
    """The form again, saying why (the same words for every failure), e-mail filled in."""
    if isinstance(refusal, sign_in.Throttled):
        wait = _duration(_seconds(refusal.wait))
        page = _login_page(
            request,
            settings.secret_key,
            next_url=next_url,
            email=email,
            error=f"Too many failed attempts. Try again in {wait}.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        return _retry_after(page, refusal.wait)
    return _login_page(
        request,
        settings.secret_key,
        next_url=next_url,
        error=FAILED,
        email=email if refusal.keep_email else "",
        status_code=status.HTTP_401_UNAUTHORIZED,
    )


def _config(settings: Settings, clock: Clock) -> sign_in.Config:
    return sign_in.Config(_policy(settings), settings.secret_key, clock)


def _browser(request: Request) -> sign_in.Browser:
    return sign_in.Browser(
        client_ip=client_ip(request),
        device_cookie=request.cookies.get(DEVICE_COOKIE),
        session_cookie=request.cookies.get(SESSION_COOKIE),
    )


def _session_started(settings: Settings, signed_in: sign_in.SignedIn, next_url: str) -> Response:
    """On to ``next_url`` with the new session. The session cookie has no Max-Age or Expires: it
    goes when the browser closes, and the server ends it after 12 hours, or 30 minutes unused."""
    response = RedirectResponse(_safe_next(next_url), status.HTTP_303_SEE_OTHER)
    _set_cookie(response, settings, SESSION_COOKIE, signed_in.session_token)
    return response


def _retry_after(response: Response, wait: timedelta) -> Response:
    response.headers["Retry-After"] = str(_seconds(wait))
    return response


def _set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    *,
    path: str = "/staff",
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        path=path,
        secure=not settings.is_development,
        max_age=max_age,
    )


def _policy(settings: Settings) -> login_throttle.ThrottlePolicy:
    return login_throttle.ThrottlePolicy.of(
        first_delay=settings.sign_in.first_delay_seconds,
        max_email_delay=settings.sign_in.max_delay_email_seconds,
        max_address_delay=settings.sign_in.max_delay_address_seconds,
    )


def _seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


# -- the second factor, after the password --------------------------------------------------------


def _code_page(
    request: Request, settings: Settings, pending: tokens.Pending, *, next_url: str,
    recovery: bool, error: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request,
        "staff/sign_in_code.html",
        None,
        status_code=status_code,
        form_token=sign(settings.secret_key, "staff-second-factor", pending.nonce),
        next_url=next_url,
        recovery=recovery,
        errors={"code": error} if error else {},
        title="Enter a recovery code" if recovery else "Enter the code from your app",
    )


def _pending(request: Request, settings: Settings, clock: Clock) -> tokens.Pending | None:
    return tokens.read_pending(
        settings.secret_key, request.cookies.get(PENDING_COOKIE), now=clock()
    )


def _back_to_login(next_url: str) -> RedirectResponse:
    """The password step is missing or too old (10 minutes): it is asked for again."""
    return RedirectResponse(
        f"/staff/login?next={quote(_safe_next(next_url), safe='')}", status.HTTP_303_SEE_OTHER
    )


@router.get(CODE_PATH.removeprefix("/staff"), response_class=HTMLResponse)
def code_form(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    next: Annotated[str, Query(max_length=2000)] = "/staff/",
    recovery: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    pending = _pending(request, settings, clock)
    if pending is None:
        return _back_to_login(next)
    return _code_page(
        request, settings, pending, next_url=_safe_next(next), recovery=recovery == "1"
    )


@router.post(CODE_PATH.removeprefix("/staff"), response_class=HTMLResponse)
async def code(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    clock: ClockDep,
    code: Annotated[str, Form(max_length=100)] = "",
    method: Annotated[str, Form(max_length=20)] = "app",
    form_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff/",
) -> Response:
    pending = _pending(request, settings, clock)
    if pending is None:
        return _back_to_login(next)
    if not verify(settings.secret_key, "staff-second-factor", pending.nonce, form_token):
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
    recovery = method == "recovery"
    outcome = await db.run(
        sign_in.with_code,
        pending.user_id,
        code,
        _browser(request),
        _config(settings, clock),
        recovery=recovery,
    )
    if isinstance(outcome, sign_in.CodeStepGone):
        return _back_to_login(next)
    if isinstance(outcome, sign_in.Refused | sign_in.Throttled):
        return _code_refused(request, settings, pending, outcome, recovery, _safe_next(next))
    # After a recovery code, the second factor's page: a new app, or new recovery codes.
    response = _session_started(
        settings, outcome, f"{SECOND_FACTOR_PATH}?recovery_used=1" if recovery else next
    )
    response.delete_cookie(PENDING_COOKIE, path=CODE_PATH)
    return response


def _code_refused(
    request: Request,
    settings: Settings,
    pending: tokens.Pending,
    refusal: sign_in.Refused | sign_in.Throttled,
    recovery: bool,
    next_url: str,
) -> Response:
    if isinstance(refusal, sign_in.Throttled):
        wait = _duration(_seconds(refusal.wait))
        page = _code_page(
            request,
            settings,
            pending,
            next_url=next_url,
            recovery=recovery,
            error=f"Too many wrong codes. Try again in {wait}.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        return _retry_after(page, refusal.wait)
    return _code_page(
        request,
        settings,
        pending,
        next_url=next_url,
        recovery=recovery,
        error=WRONG_RECOVERY_CODE if recovery else WRONG_CODE,
        status_code=status.HTTP_401_UNAUTHORIZED,
    )


@router.post("/logout")
async def logout(
    request: Request,
    db: DbDep,
    clock: ClockDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if await db.run(staff_sessions.sign_out, token, csrf_token, now=clock()) == "form_expired":
        raise AppError(status.HTTP_403_FORBIDDEN, EXPIRED)
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
        request,
        "staff/set_password.html",
        None,
        status_code=status_code,
        email=email,
        errors=errors,
        form_token=sign(settings_secret, "staff-set-password", nonce),
    )
    response.set_cookie(
        SETUP_CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        path=SETUP_PATH,
        secure=not settings_of(request).is_development,
    )
    return response


@router.get("/set-password/{token}", response_class=HTMLResponse)
async def set_password_form(
    request: Request, token: str, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    user = await db.run(accounts.user_for_set_password_token, token)
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
    user = await db.run(accounts.user_for_set_password_token, token)
    if user is None:
        return render(request, "staff/link_invalid.html", None, status_code=status.HTTP_410_GONE)
    errors: dict[str, str] = {}
    problem = accounts.password_problem(password)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The passwords do not match"
    if errors:
        return _set_password_page(
            request,
            settings.secret_key,
            email=user.email,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    password_hash = await run_in_threadpool(accounts.hash_password, password)
    await db.run(accounts.set_password, user, password, password_hash=password_hash)
    # Post/redirect/get: the sign-in page says the password is set.
    response = RedirectResponse("/staff/login?password_set=1", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SETUP_CSRF_COOKIE, path=SETUP_PATH)
    return response
