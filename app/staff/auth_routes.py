"""Signing in and out, and setting a password from a one-time link. Open to everyone."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.deps import SessionDep, SettingsDep
from app.security import new_token, sign, verify
from app.services import audit
from app.services import auth as auth_service

from .deps import SESSION_COOKIE, render

router = APIRouter()

LOGIN_CSRF_COOKIE: Final = "backaudit_login"
FAILED: Final = "The e-mail address or password is not right, or the account is not active."


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    # Only a path inside the staff area: never an open redirect to another site.
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return "/staff/"


def _login_page(
    request: Request, settings_secret: str, *, next_url: str, email: str = "",
    error: str | None = None, status_code: int = 200,
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
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="lax", path="/staff",
        secure=not request.app.state.settings.is_development,
    )  # fmt: skip
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> HTMLResponse:
    return _login_page(request, settings.secret_key, next_url=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/staff/",
) -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not nonce or not verify(settings.secret_key, "staff-login", nonce, login_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form had expired. Please try again.")
    ip = _client_ip(request)
    if auth_service.is_throttled(session, email=email, client_ip=ip):
        return _login_page(
            request, settings.secret_key, next_url=_safe_next(next), email=email,
            error="Too many failed attempts. Wait 15 minutes, then try again.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )  # fmt: skip
    user = auth_service.authenticate(session, email=email, password=password, client_ip=ip)
    if user is None:
        session.commit()  # keep the failed attempt for throttling
        return _login_page(
            request, settings.secret_key, next_url=_safe_next(next), email=email,
            error=FAILED, status_code=status.HTTP_401_UNAUTHORIZED,
        )  # fmt: skip
    # A fresh session on every login (no fixation); the old cookie, if any, is ended.
    auth_service.end_session(session, request.cookies.get(SESSION_COOKIE))
    token = auth_service.start_session(session, user)
    audit.record(session, clinic_id=user.clinic_id, actor_id=user.id, action="staff.login")
    session.commit()
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path="/staff",
        secure=not settings.is_development, max_age=int(auth_service.SESSION_LIFETIME.total_seconds()),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    staff = auth_service.signed_in(session, token)
    if staff is not None:
        # Logout is CSRF-protected too, so another site cannot sign staff out.
        if csrf_token != staff.session.csrf_token:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "The form had expired. Please try again."
            )
        audit.record(
            session, clinic_id=staff.clinic.id, actor_id=staff.user.id, action="staff.logout"
        )
        auth_service.end_session(session, token)
        session.commit()
    response = RedirectResponse("/staff/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    return response


@router.get("/set-password/{token}", response_class=HTMLResponse)
def set_password_form(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    user = auth_service.user_for_set_password_token(session, token)
    if user is None:
        return render(request, "staff/link_invalid.html", None, status_code=status.HTTP_410_GONE)
    return render(request, "staff/set_password.html", None, email=user.email, errors={})


@router.post("/set-password/{token}", response_class=HTMLResponse)
def set_password(
    request: Request,
    token: str,
    session: SessionDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    # The one-time token in the URL is the proof: it is long, random and single-use.
    user = auth_service.user_for_set_password_token(session, token)
    if user is None:
        return render(request, "staff/link_invalid.html", None, status_code=status.HTTP_410_GONE)
    errors: dict[str, str] = {}
    problem = auth_service.password_problem(password)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The passwords do not match"
    if errors:
        return render(
            request, "staff/set_password.html", None, email=user.email, errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    auth_service.set_password(session, user, password)
    audit.record(session, clinic_id=user.clinic_id, actor_id=user.id, action="staff.password_set")
    session.commit()
    return RedirectResponse("/staff/login", status.HTTP_303_SEE_OTHER)
