"""Sign up, confirm the email, log in (with 2FA), log out, reset a password, theme, cookies."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts import email_tokens, login_sessions, signup, two_factor
from jetrack.accounts.throttle import wait_message
from jetrack.accounts.users import AccountError, find_user, hash_password, spend_hash_time
from jetrack.accounts.users import verify_password as password_ok
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext, gettext_noop
from jetrack.notify.limits import mail_keys, refusal
from jetrack.notify.messages import Mail, compose, in_background, link
from jetrack.store.models import User, utcnow
from jetrack.web.auth import (
    SESSION_COOKIE,
    THEMES,
    clear_session_cookie,
    session_of,
    set_session_cookie,
    set_theme_cookie,
    signed_in,
)
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import checked, client_address, local_path, secret, text
from jetrack.web.templating import render
from jetrack.web.throttles import login as login_throttle
from jetrack.web.throttles import mails as mail_limiter
from jetrack.web.throttles import retry_after
from jetrack.web.throttles import second_factor as second_factor_throttle


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _verify_mail(settings: Settings, user: User, token: str) -> Mail:
    url = link(settings, f"/verify-email?token={token}")
    return compose(
        settings, "verify_email", user.email, locale=user.locale, name=user.name, url=url
    )


# --- Sign up and email confirmation ---------------------------------------------------


async def signup_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse("/sites", 303)
    invitation = request.query_params.get("invitation", "")[:100]
    is_open = await in_session(request, signup.signup_open, _settings(request))
    return await render(
        request,
        "signup.html",
        {
            "nav": "signup",
            "invitation": invitation,
            "open": is_open or bool(invitation),
            "values": {"email": request.query_params.get("email", "")[:320]},
        },
    )


async def signup_submit(request: Request) -> Response:
    form = await read_form(request)
    settings = _settings(request)
    data = signup.SignupForm(
        name=text(form, "name", 300),
        email=text(form, "email", 400),
        password=secret(form, "password"),
        age_confirmed=checked(form, "age"),
        invitation_token=text(form, "invitation", 100),
    )
    context = {
        "nav": "signup",
        "values": {"name": data.name, "email": data.email, "age": data.age_confirmed},
        "invitation": data.invitation_token,
        "open": True,
    }
    # Checked before the address is looked up, and counted for new and existing accounts
    # alike (each gets one mail): a refusal says nothing about who has an account.
    limiter, keys = mail_limiter(request), mail_keys(data.email, client=client_address(request))
    wait = limiter.retry_after(keys)
    if wait:
        context["errors"] = {"form": refusal(wait)}
        return retry_after(await render(request, "signup.html", context, status=429), wait)
    try:
        result = await in_session(request, signup.sign_up, settings, data)
    except signup.FormErrors as exc:
        context["errors"] = exc.errors
        return await render(request, "signup.html", context, status=400)
    if result.new is not None and result.verify_token is None:
        # Joined through an invitation, or no SMTP server to confirm with: sign straight in.
        notice = "joined" if data.invitation_token else "signed-up-without-mail"
        return await _start_session(request, result.new, f"/sites?notice={notice}")
    mail = None
    if result.new is not None and result.verify_token is not None:
        mail = _verify_mail(settings, result.new, result.verify_token)
    elif result.existing is not None:
        existing = result.existing
        mail = compose(settings, "account_exists", existing.email, locale=existing.locale)
    limiter.sent(keys)
    return await render(
        request,
        "check_inbox.html",
        {"purpose": "signup", "no_mail": not settings.smtp_host},
        background=in_background(settings, mail),
    )


def _verify_email(session: Session, token: str) -> User:
    _, user = email_tokens.use_token(session, token, "verify_email")
    user.email_verified_at = user.email_verified_at or utcnow()
    return user


async def verify_email(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        user = await in_session(request, _verify_email, token)
    except email_tokens.TokenError as exc:
        return await _problem(
            request,
            gettext_noop("Email confirmation"),
            str(exc),
            "/login",
            gettext_noop("Log in"),
            400,
        )
    return await _start_session(request, user, "/sites?notice=verified")


async def _problem(
    request: Request, title: str, message: str, href: str, action: str, status: int
) -> Response:
    context = {"title": title, "message": message, "href": href, "action": action}
    return await render(request, "message.html", context, status=status)


# --- Log in, second factor, log out ----------------------------------------------------


async def login_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse(local_path(request.query_params.get("next")), 303)
    return await render(
        request,
        "login.html",
        {"nav": "login", "next": local_path(request.query_params.get("next"))},
    )


def _check_login(
    session: Session, settings: Settings, email: str, password: str
) -> tuple[User | None, bool, str]:
    """(user, needs_2fa, problem); problem is "" when the password is right."""
    user = find_user(session, email) if email else None
    if user is None:
        spend_hash_time(password)
        return None, False, "wrong"
    if not password_ok(user, password) or user.locked_at is not None:
        return None, False, "wrong"
    if user.email_verified_at is None and not settings.smtp_host:
        # Signed up while mail was configured, which it is no longer: no confirmation link
        # can arrive, so the account must not stay locked out (as sign-up without SMTP).
        user.email_verified_at = utcnow()
    if user.email_verified_at is None:
        return user, False, "unverified"
    return user, two_factor.enabled(session, user), ""


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    email, password = text(form, "email", 400).lower(), secret(form, "password")
    target = local_path(text(form, "next"))
    throttle, client = login_throttle(request), client_address(request)
    context = {"nav": "login", "next": target, "values": {"email": email}}
    wait = throttle.retry_after(email, client)
    if wait:
        context["errors"] = {"form": wait_message(wait)}
        return retry_after(await render(request, "login.html", context, status=429), wait)
    user, needs_2fa, problem = await in_session(
        request, _check_login, _settings(request), email, password
    )
    if problem == "wrong" or user is None:
        throttle.failed(email, client)
        context["errors"] = {"form": gettext("The email or password is not right.")}
        return await render(request, "login.html", context, status=400)
    throttle.succeeded(email, client)
    if problem == "unverified":
        limiter, keys = mail_limiter(request), mail_keys(user.email, client=client)
        wait = limiter.retry_after(keys)
        if wait:
            context["errors"] = {"form": refusal(wait)}
            return retry_after(await render(request, "login.html", context, status=429), wait)
        limiter.sent(keys)
        settings = _settings(request)
        token = await in_session(request, email_tokens.issue_token, user, "verify_email")
        mail = _verify_mail(settings, user, token)
        return await render(
            request,
            "check_inbox.html",
            {"purpose": "unverified"},
            status=403,
            background=in_background(settings, mail),
        )
    if needs_2fa:
        return await _start_session(request, user, f"/login/2fa?next={target}", pending_2fa=True)
    return await _start_session(request, user, target)


async def _start_session(
    request: Request, user: User, target: str, *, pending_2fa: bool = False
) -> Response:
    agent = request.headers.get("user-agent", "")[:500]
    _, token = await in_session(
        request, login_sessions.start_session, user, user_agent=agent, pending_2fa=pending_2fa
    )
    response = RedirectResponse(target, 303)
    set_session_cookie(request, response, token)
    return response


async def second_factor_page(request: Request) -> Response:
    found = await session_of(request)
    if found is None or not found.pending_2fa:
        return RedirectResponse("/login", 303)
    return await render(
        request, "login_2fa.html", {"next": local_path(request.query_params.get("next"))}
    )


def _complete_2fa(session: Session, token: str, code: str) -> str | None:
    found = login_sessions.find_session(session, token)
    if found is None or not found[0].pending_2fa:
        return None
    row, user = found
    if not two_factor.verify_second_factor(session, user, code):
        return ""
    return login_sessions.complete_2fa(session, row)


async def second_factor_submit(request: Request) -> Response:
    form = await read_form(request)
    found = await session_of(request)
    if found is None or not found.pending_2fa:
        return RedirectResponse("/login", 303)
    target = local_path(text(form, "next"))
    # Counted apart from passwords: a right password must not reset the code guesses.
    throttle, client = second_factor_throttle(request), client_address(request)
    account = found.user.email
    wait = throttle.retry_after(account, client)
    if wait:
        errors = {"code": wait_message(wait)}
        page = await render(
            request, "login_2fa.html", {"next": target, "errors": errors}, status=429
        )
        return retry_after(page, wait)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    token = await in_session(request, _complete_2fa, cookie, text(form, "code", 40))
    if token is None:
        return RedirectResponse("/login", 303)
    if not token:
        throttle.failed(account, client)
        errors = {
            "code": "This code is not right. Use the current code from your app, or a recovery code."
        }
        return await render(
            request, "login_2fa.html", {"next": target, "errors": errors}, status=400
        )
    throttle.succeeded(account, client)
    response = RedirectResponse(target, 303)
    set_session_cookie(request, response, token)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await in_session(request, login_sessions.end_session, token)
    response = RedirectResponse("/login?notice=logged-out", 303)
    clear_session_cookie(request, response)
    return response


# --- Password reset ----------------------------------------------------------------------


async def forgot_page(request: Request) -> Response:
    return await render(request, "forgot_password.html", {"nav": "login"})


def _reset_request(session: Session, email: str) -> tuple[User, str] | None:
    user = find_user(session, email)
    if user is None or user.locked_at is not None:
        return None
    return user, email_tokens.issue_token(session, user, "reset_password")


async def forgot_submit(request: Request) -> Response:
    form = await read_form(request)
    email = text(form, "email", 400).lower()
    if "@" not in email:
        errors = {"email": gettext("must be an email address like name@example.com")}
        context = {"nav": "login", "errors": errors, "values": {"email": email}}
        return await render(request, "forgot_password.html", context, status=400)
    # Limited and counted for every address, known or not: the answer stays the same.
    limiter, keys = mail_limiter(request), mail_keys(email, client=client_address(request))
    wait = limiter.retry_after(keys)
    if wait:
        context = {"nav": "login", "errors": {"email": refusal(wait)}, "values": {"email": email}}
        page = await render(request, "forgot_password.html", context, status=429)
        return retry_after(page, wait)
    limiter.sent(keys)
    settings = _settings(request)
    found = await in_session(request, _reset_request, email)
    mail = None
    if found is not None:
        user, token = found
        url = link(settings, f"/reset-password?token={token}")
        mail = compose(
            settings, "reset_password", user.email, locale=user.locale, name=user.name, url=url
        )
    # The same answer whether or not the address has an account.
    return await render(
        request,
        "check_inbox.html",
        {"purpose": "reset", "no_mail": not settings.smtp_host},
        background=in_background(settings, mail),
    )


async def _reset_link_problem(request: Request, exc: email_tokens.TokenError) -> Response:
    title, action = gettext_noop("Password reset"), gettext_noop("Ask for a new link")
    return await _problem(request, title, str(exc), "/forgot-password", action, 400)


async def reset_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        await in_session(request, email_tokens.peek_token, token, "reset_password")
    except email_tokens.TokenError as exc:
        return await _reset_link_problem(request, exc)
    return await render(request, "reset_password.html", {"token": token})


def _reset(session: Session, token: str, password: str) -> None:
    new_hash = hash_password(password)  # validate before the token is spent
    _, user = email_tokens.use_token(session, token, "reset_password")
    user.password_hash = new_hash
    user.email_verified_at = user.email_verified_at or utcnow()  # the mail reached them
    login_sessions.end_user_sessions(session, user.id)


async def reset_submit(request: Request) -> Response:
    form = await read_form(request)
    token = text(form, "token", 200)
    try:
        await in_session(request, _reset, token, secret(form, "password"))
    except AccountError as exc:
        errors = {"password": exc.problem}
        return await render(
            request, "reset_password.html", {"token": token, "errors": errors}, status=400
        )
    except email_tokens.TokenError as exc:
        return await _reset_link_problem(request, exc)
    response = RedirectResponse("/login?notice=password-reset", 303)
    clear_session_cookie(request, response)
    return response


# --- Theme, cookie page, session info for the dashboard ----------------------------------


async def set_theme(request: Request) -> Response:
    form = await read_form(request)
    theme = text(form, "theme", 20)
    response = RedirectResponse(local_path(text(form, "next"), "/"), 303)
    if theme in THEMES:
        set_theme_cookie(request, response, theme)
    return response


async def cookies_page(request: Request) -> Response:
    return await render(request, "cookies.html")


async def me(request: Request) -> Response:
    """The signed-in account and its CSRF token, for the dashboard's fetch calls."""
    found = await signed_in(request)
    if found is None:
        return JSONResponse({"error": "log in first: no signed-in session"}, status_code=401)
    user = found.user
    body = {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "is_admin": user.is_admin,
        "csrf_token": found.csrf_token,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup_submit, methods=["POST"]),
    Route("/verify-email", verify_email, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/login/2fa", second_factor_page, methods=["GET"]),
    Route("/login/2fa", second_factor_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/forgot-password", forgot_page, methods=["GET"]),
    Route("/forgot-password", forgot_submit, methods=["POST"]),
    Route("/reset-password", reset_page, methods=["GET"]),
    Route("/reset-password", reset_submit, methods=["POST"]),
    Route("/theme", set_theme, methods=["POST"]),
    Route("/cookies", cookies_page, methods=["GET"]),
    Route("/api/account/me", me, methods=["GET"]),
]
