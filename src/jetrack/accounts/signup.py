"""Sign-up: validate every field, create the account and its team, hand out the mail token.

The answer is the same whether or not the email already has an account: the caller
shows "check your inbox" in both cases and mails the existing owner a notice instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jetrack.accounts.email_tokens import issue_token
from jetrack.accounts.teams import (
    InvitationError,
    accept_invitation,
    find_invitation,
    personal_team,
)
from jetrack.accounts.users import (
    AccountError,
    check_name,
    create_user,
    find_user,
    had_accounts,
    hash_password,
    normalize_email,
)
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import Problem
from jetrack.store.models import Invitation, User, utcnow


class FormErrors(ValueError):
    """Per-field messages for a form; key "form" is a message for the whole form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SignupForm:
    name: str
    email: str
    password: str
    age_confirmed: bool
    invitation_token: str = ""


@dataclass(frozen=True)
class SignupResult:
    """`new` is the created account; `existing` the account that already had the email.
    `verify_token` is set when the new account still has to confirm its address (only
    with SMTP configured: without it, and after an invitation, the account is ready)."""

    new: User | None
    existing: User | None
    verify_token: str | None


def signup_open(session: Session, settings: Settings) -> bool:
    """Open sign-up, or invite-only after the first account (the instance admin)."""
    if settings.signup_mode == "open":
        return True
    return not had_accounts(session)


def _validate(form: SignupForm) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    checks: tuple[tuple[str, Callable[[str], str], str], ...] = (
        ("name", check_name, form.name),
        ("email", normalize_email, form.email),
        ("password", hash_password, form.password),
    )
    for field, check, given in checks:
        try:
            values[field] = check(given)
        except AccountError as exc:
            errors[exc.field] = exc.problem
    if not form.age_confirmed:
        errors["age"] = Problem(
            gettext_noop("Jetrack is not for children: please confirm that you are 13 or older")
        )
    if errors:
        raise FormErrors(errors)
    return values["name"], values["email"], values["password"]


def sign_up(session: Session, settings: Settings, form: SignupForm) -> SignupResult:
    invitation: Invitation | None = None
    if form.invitation_token:
        try:
            invitation = find_invitation(session, form.invitation_token)
        except InvitationError as exc:
            raise FormErrors({"form": Problem(str(exc))}) from None
    if invitation is None and not signup_open(session, settings):
        raise FormErrors(
            {
                "form": Problem(
                    gettext_noop(
                        "Sign-up on this server is by invitation only. Ask a team owner to invite you."
                    )
                )
            }
        )
    name, email, password_hash = _validate(form)
    # Checked before looking the address up: with an invitation token in hand, any other
    # address gets this one answer, whether or not it has an account (no oracle).
    if invitation is not None and invitation.email != email:
        raise FormErrors(
            {"email": Problem(gettext_noop("use the address the invitation was sent to"))}
        )
    existing = find_user(session, email)
    if existing is not None:
        return SignupResult(None, existing, None)
    user = create_user(session, email, name=name)
    user.password_hash = password_hash
    user.age_confirmed_at = utcnow()
    personal_team(session, user)
    if invitation is not None:
        # The invitation link reached this mailbox: the address is confirmed.
        user.email_verified_at = utcnow()
        accept_invitation(session, invitation, user)
        return SignupResult(user, None, None)
    if not settings.smtp_host:
        # No mail can reach the address, so a confirmation would lock the account out:
        # the instance's operator chose to run without mail, and the account is ready now.
        user.email_verified_at = utcnow()
        return SignupResult(user, None, None)
    return SignupResult(user, None, issue_token(session, user, "verify_email"))
