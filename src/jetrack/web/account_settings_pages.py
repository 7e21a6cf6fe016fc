"""The signed-in account's own settings: profile, password, sessions, 2FA, API keys, deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts import api_keys, email_tokens, login_sessions, two_factor
from jetrack.accounts.permissions import teams_of
from jetrack.accounts.teams import personal_team
from jetrack.accounts.throttle import wait_message
from jetrack.accounts.users import (
    AccountError,
    change_password,
    check_name,
    find_user,
    normalize_email,
    verify_password,
)
from jetrack.billing import records
from jetrack.billing.limits import PlanLimitError, require
from jetrack.billing.provider import BillingUnavailable, page_sources
from jetrack.config import Settings
from jetrack.i18n.catalogs import LANGUAGE_NAMES, gettext_noop
from jetrack.notify.limits import mail_keys, refusal
from jetrack.notify.messages import Mail, compose, in_background, link
from jetrack.privacy.erasure import request_account_erasure
from jetrack.store.models import User
from jetrack.web.auth import clear_session_cookie, require_user, signed_in
from jetrack.web.billing_gate import billing_of
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import client_address, number, secret, text
from jetrack.web.security_headers import allow_form_targets
from jetrack.web.templating import render
from jetrack.web.throttles import mails as mail_limiter
from jetrack.web.throttles import reauth as reauth_throttle
from jetrack.web.throttles import retry_after


class Throttled(AccountError):
    """Too many wrong passwords or codes re-asked of a signed-in account."""

    def __init__(self, field: str, wait: int) -> None:
        super().__init__(field, wait_message(wait))
        self.wait = wait


async def _rechecked(request: Request, user: User, field: str, work: Any, *args: Any) -> Any:
    """Run `work` (which re-checks the password or a code) under the re-check throttle:
    someone holding a session cookie must not get unlimited guesses. `field` is the form
    field of the password; its errors, and a wrong "code", count as failed guesses."""
    throttle, client = reauth_throttle(request), client_address(request)
    target = f"user:{user.id}"
    wait = throttle.retry_after(target, client)
    if wait:
        raise Throttled(field, wait)
    try:
        result = await in_session(request, work, *args)
    except AccountError as exc:
        if exc.field in (field, "code"):
            throttle.failed(target, client)
        raise
    throttle.succeeded(target, client)
    return result


def _refused(response: Response, exc: AccountError) -> Response:
    if isinstance(exc, Throttled):
        response.status_code = 429
        return retry_after(response, exc.wait)
    return response


def _fresh(session: Session, user: User) -> User:
    row = session.get(User, user.id)
    assert row is not None
    return row


async def account_page(
    request: Request, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    has_2fa = await in_session(request, two_factor.enabled, user)
    context: dict[str, Any] = {
        "nav": "account",
        "has_2fa": has_2fa,
        "errors": errors or {},
        "languages": LANGUAGE_NAMES,
    }
    settings: Settings = request.app.state.settings
    if settings.billing:
        context.update(await _billing_details(request, settings, user))
    return await render(request, "account.html", context, status=status)


async def _billing_details(request: Request, settings: Settings, user: User) -> dict[str, Any]:
    """The billing details the provider holds for the teams the account owns, read live
    (Jetrack keeps none): shown so they can be checked and changed (rectification)."""
    customers = await in_session(request, records.owned_customers, user.id)
    if not customers:
        return {}
    try:
        found = await run_in_threadpool(records.details_of, settings, customers)
    except BillingUnavailable:
        return {"billing_unreachable": True}
    allow_form_targets(request, page_sources(settings))  # Change billing details: the portal
    return {"billing_details": found}


async def account_view(request: Request) -> Response:
    return await account_page(request)


def _rename(session: Session, user: User, name: str) -> None:
    _fresh(session, user).name = check_name(name)


async def change_name(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    try:
        await in_session(request, _rename, user, text(form, "name", 300))
    except AccountError as exc:
        return await account_page(request, {exc.field: exc.problem}, 400)
    return RedirectResponse("/account?notice=saved", 303)


def _save_language(session: Session, user: User, language: str | None) -> None:
    _fresh(session, user).locale = language


async def change_language(request: Request) -> Response:
    """The pages' language: one of LANGUAGES, or empty for the browser's (web/language.py)."""
    user = await require_user(request)
    form = await read_form(request)
    chosen = text(form, "language", 16)
    if chosen and chosen not in LANGUAGE_NAMES:
        names = ", ".join(LANGUAGE_NAMES)
        return await account_page(request, {"language": f"must be empty or one of: {names}"}, 400)
    await in_session(request, _save_language, user, chosen or None)
    return RedirectResponse("/account?notice=saved", 303)


def _email_change(session: Session, user: User, new_email: str, password: str) -> str | None:
    row = _fresh(session, user)
    if not verify_password(row, password):
        raise AccountError("email_password", gettext_noop("this is not your current password"))
    email = normalize_email(new_email)
    if email == row.email or find_user(session, email) is not None:
        return None  # same answer as a free address: no enumeration
    return email_tokens.issue_token(session, row, "change_email", new_email=email)


async def change_email(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    settings: Settings = request.app.state.settings
    new_email = text(form, "email", 400)
    limiter = mail_limiter(request)
    keys = mail_keys(new_email, account=user.id, client=client_address(request))
    wait = limiter.retry_after(keys)
    if wait:
        page = await account_page(request, {"email": refusal(wait)}, 429)
        return retry_after(page, wait)
    try:
        token = await _rechecked(
            request,
            user,
            "email_password",
            _email_change,
            user,
            new_email,
            secret(form, "password"),
        )
    except AccountError as exc:
        return _refused(await account_page(request, {exc.field: exc.problem}, 400), exc)
    mail = None
    limiter.sent(keys)  # taken or not, the same count: no hint that the address is in use
    if token is not None:
        url = link(settings, f"/account/confirm-email?token={token}")
        mail = compose(
            settings, "change_email", new_email.lower(), locale=user.locale, name=user.name, url=url
        )
    response = RedirectResponse("/account?notice=email-change-sent", 303)
    response.background = in_background(settings, mail)
    return response


def _confirm_email(
    session: Session, settings: Settings, token: str, current: tuple[int, int] | None
) -> Mail:
    """Change the address; every other session ends and the old address is told (a notice
    only: undoing goes through a password reset, not a link in this mail)."""
    row, user = email_tokens.use_token(session, token, "change_email")
    if row.new_email is None or find_user(session, row.new_email) is not None:
        raise email_tokens.TokenError("This address is no longer available.")
    old_email, user.email = user.email, row.new_email
    keep = current[1] if current is not None and current[0] == user.id else None
    login_sessions.end_user_sessions(session, user.id, keep_id=keep)
    return compose(
        settings,
        "email_changed",
        old_email,
        locale=user.locale,
        name=user.name,
        new_email=user.email,
    )


async def confirm_email(request: Request) -> Response:
    found = await signed_in(request)
    current = (found.user.id, found.session_id) if found is not None else None
    settings: Settings = request.app.state.settings
    try:
        notice = await in_session(
            request, _confirm_email, settings, request.query_params.get("token", ""), current
        )
    except email_tokens.TokenError as exc:
        context = {
            "title": gettext_noop("Email change"),
            "message": str(exc),
            "href": "/account",
            "action": gettext_noop("Back"),
        }
        return await render(request, "message.html", context, status=400)
    response = RedirectResponse("/account?notice=email-changed", 303)
    response.background = in_background(settings, notice)
    return response


def _password(session: Session, user: User, keep: int, current: str, new: str) -> None:
    change_password(session, _fresh(session, user), current, new)
    login_sessions.end_user_sessions(session, user.id, keep_id=keep)


async def change_password_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    found = await signed_in(request)
    assert found is not None
    current, new = secret(form, "current_password"), secret(form, "new_password")
    try:
        await _rechecked(
            request, user, "current_password", _password, user, found.session_id, current, new
        )
    except AccountError as exc:
        field = "new_password" if exc.field == "password" else exc.field
        return _refused(await account_page(request, {field: exc.problem}, 400), exc)
    return RedirectResponse("/account?notice=password-changed", 303)


# --- Sessions --------------------------------------------------------------------------


async def sessions_page(request: Request) -> Response:
    user = await require_user(request)
    found = await signed_in(request)
    rows = await in_session(request, login_sessions.list_sessions, user)
    current = found.session_id if found else None
    return await render(
        request, "sessions.html", {"nav": "account", "rows": rows, "current": current}
    )


async def revoke_session(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    session_id = number(request.path_params["session_id"])
    if session_id is not None:
        await in_session(request, login_sessions.revoke_session, user, session_id)
    return RedirectResponse("/account/sessions?notice=session-revoked", 303)


# --- Two-factor authentication -----------------------------------------------------------


def _two_factor_state(session: Session, user: User) -> dict[str, Any]:
    credential = two_factor.credential_of(session, user)
    state: dict[str, Any] = {
        "enabled": credential is not None and credential.enabled_at is not None
    }
    if state["enabled"]:
        state["remaining"] = two_factor.remaining_recovery_codes(session, user)
    elif credential is not None:
        state["secret"] = credential.secret
        state["uri"] = two_factor.provisioning_uri(credential, user)
    return state


async def two_factor_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    state = await in_session(request, _two_factor_state, user)
    return await render(
        request, "two_factor.html", {"nav": "account", **state, **(extra or {})}, status=status
    )


async def two_factor_view(request: Request) -> Response:
    return await two_factor_page(request)


async def two_factor_setup(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    await in_session(request, two_factor.begin_setup, user)
    return RedirectResponse("/account/2fa", 303)


async def two_factor_enable(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    codes = await in_session(request, two_factor.confirm_setup, user, text(form, "code", 40))
    if codes is None:
        errors = {
            "code": "This code is not right. Check the time on your phone and use the current code."
        }
        return await two_factor_page(request, {"errors": errors}, 400)
    return await two_factor_page(request, {"codes": codes, "just_enabled": True})


def _with_password(
    session: Session, user: User, password: str, action: str, code: str = ""
) -> list[str] | None:
    row = _fresh(session, user)
    if not verify_password(row, password):
        raise AccountError("password", gettext_noop("this is not your current password"))
    if action == "disable":
        # A stolen session and password must not be enough to strip the second factor.
        if not two_factor.verify_second_factor(session, row, code):
            raise AccountError(
                "code",
                gettext_noop(
                    "this code is not right: use the current code from your app, or a recovery code"
                ),
            )
        two_factor.disable(session, row)
        return None
    if not two_factor.enabled(session, row):
        return None
    return two_factor.new_recovery_codes(session, row)


async def two_factor_disable(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    password, code = secret(form, "password"), text(form, "code", 40)
    try:
        await _rechecked(request, user, "password", _with_password, user, password, "disable", code)
    except AccountError as exc:
        return _refused(
            await two_factor_page(request, {"errors": {exc.field: exc.problem}}, 400), exc
        )
    return RedirectResponse("/account/2fa?notice=2fa-disabled", 303)


async def two_factor_codes(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    try:
        codes = await _rechecked(
            request, user, "password", _with_password, user, secret(form, "password"), "codes"
        )
    except AccountError as exc:
        page = await two_factor_page(request, {"errors": {"codes_password": exc.problem}}, 400)
        return _refused(page, exc)
    return await two_factor_page(request, {"codes": codes or []})


# --- API keys ------------------------------------------------------------------------------


async def api_keys_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    keys = await in_session(request, api_keys.list_api_keys, user)
    return await render(
        request, "api_keys.html", {"nav": "account", "keys": keys, **(extra or {})}, status=status
    )


async def api_keys_view(request: Request) -> Response:
    return await api_keys_page(request)


async def api_key_create(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    name = text(form, "name", 300)
    scope = text(form, "scope", 40) or api_keys.STATS_SCOPE
    try:
        if scope == api_keys.STATS_SCOPE:
            await in_session(request, _stats_api_allowed, user, billing_of(request))
        _, key = await in_session(request, api_keys.create_api_key, user, name, scope)
    except (AccountError, PlanLimitError) as exc:
        return await api_keys_page(
            request,
            {"errors": {exc.field: exc.problem}, "values": {"name": name}},
            getattr(exc, "status", 400),
        )
    return await api_keys_page(request, {"new_key": key})


def _stats_api_allowed(session: Session, user: User, billing: bool) -> None:
    """A Stats API key is for a plan with the Stats API: one of the account's teams must
    have it (billing/limits.py); its own team's plan is named otherwise."""
    first_refusal: PlanLimitError | None = None
    for team in teams_of(session, user) or [personal_team(session, user)]:
        try:
            require(session, team, billing, "stats_api", "name")
            return
        except PlanLimitError as exc:
            first_refusal = first_refusal or exc
    if first_refusal is not None:
        raise first_refusal


async def api_key_revoke(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    key_id = number(request.path_params["key_id"])
    if key_id is not None:
        await in_session(request, api_keys.revoke_api_key, user, key_id)
    return RedirectResponse("/account/api-keys?notice=key-revoked", 303)


# --- Delete the account ---------------------------------------------------------------------


async def delete_page(request: Request) -> Response:
    user = await require_user(request)
    settings: Settings = request.app.state.settings
    return await render(
        request,
        "delete_account.html",
        {"nav": "account", "grace_days": settings.erasure_grace_days, "is_admin": user.is_admin},
    )


def _password_checked(session: Session, user: User, password: str) -> None:
    if not verify_password(_fresh(session, user), password):
        raise AccountError("password", gettext_noop("this is not your current password"))


async def delete_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    settings: Settings = request.app.state.settings
    successor = text(form, "successor", 400)
    errors: dict[str, str] = {}
    refused: AccountError | None = None
    if text(form, "confirm", 50).lower() != "delete":
        errors["confirm"] = 'type the word "delete" to confirm'
    try:
        await _rechecked(
            request, user, "password", _password_checked, user, secret(form, "password")
        )
        if not errors:
            stores = request.app.state.stores
            await run_in_threadpool(request_account_erasure, stores, user, successor)
    except AccountError as exc:
        errors[exc.field], refused = exc.problem, exc
    if errors:
        context = {
            "nav": "account",
            "errors": errors,
            "grace_days": settings.erasure_grace_days,
            "values": {"successor": successor},
            "is_admin": user.is_admin,
        }
        page = await render(request, "delete_account.html", context, status=400)
        return _refused(page, refused) if refused is not None else page
    response = await render(
        request,
        "message.html",
        {
            "title": gettext_noop("Account deleted"),
            "message": gettext_noop(
                "Your account is locked and will be erased. We ended all your sessions."
            ),
            "href": "",
            "action": "",
        },
    )
    clear_session_cookie(request, response)
    return response


routes: list[BaseRoute] = [
    Route("/account", account_view, methods=["GET"]),
    Route("/account/name", change_name, methods=["POST"]),
    Route("/account/language", change_language, methods=["POST"]),
    Route("/account/email", change_email, methods=["POST"]),
    Route("/account/confirm-email", confirm_email, methods=["GET"]),
    Route("/account/password", change_password_submit, methods=["POST"]),
    Route("/account/sessions", sessions_page, methods=["GET"]),
    Route("/account/sessions/{session_id}/revoke", revoke_session, methods=["POST"]),
    Route("/account/2fa", two_factor_view, methods=["GET"]),
    Route("/account/2fa/setup", two_factor_setup, methods=["POST"]),
    Route("/account/2fa/enable", two_factor_enable, methods=["POST"]),
    Route("/account/2fa/disable", two_factor_disable, methods=["POST"]),
    Route("/account/2fa/recovery-codes", two_factor_codes, methods=["POST"]),
    Route("/account/api-keys", api_keys_view, methods=["GET"]),
    Route("/account/api-keys", api_key_create, methods=["POST"]),
    Route("/account/api-keys/{key_id}/revoke", api_key_revoke, methods=["POST"]),
    Route("/account/delete", delete_page, methods=["GET"]),
    Route("/account/delete", delete_submit, methods=["POST"]),
]
