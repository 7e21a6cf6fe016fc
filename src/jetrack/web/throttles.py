"""The process's throttles and mail limits, one of each kind, made on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from jetrack.accounts.throttle import LoginThrottle, second_factor_throttle
from jetrack.config import Settings
from jetrack.notify.limits import MailLimiter
from jetrack.rate_limits import Limiter, SharedSlidingWindows, SlidingWindows, redis_client

T = TypeVar("T")


def _of(request: Request, name: str, make: Callable[[], T]) -> T:
    state = request.app.state
    if not hasattr(state, name):
        setattr(state, name, make())
    made: T = getattr(state, name)
    return made


def login(request: Request) -> LoginThrottle:
    """Passwords at /login, per account email."""
    return _of(request, "login_throttle", LoginThrottle)


def second_factor(request: Request) -> LoginThrottle:
    """TOTP and recovery codes at /login/2fa, counted apart from passwords."""
    return _of(request, "second_factor_throttle", second_factor_throttle)


def reauth(request: Request) -> LoginThrottle:
    """Passwords and codes re-asked by a signed-in account (email, 2FA, deletion)."""
    return _of(request, "reauth_throttle", second_factor_throttle)


def share(request: Request) -> LoginThrottle:
    """Passwords of protected shared links, per link."""
    return _of(request, "share_throttle", LoginThrottle)


def mails(request: Request) -> MailLimiter:
    """Account mails per recipient, per asking account and per client."""
    return _of(request, "mail_limiter", MailLimiter)


APIRequests = Limiter  # requests per API key, in any hour


def _per_key(request: Request, name: str) -> APIRequests:
    """In the shared mode the hour's requests of a key are counted across every process
    (Redis); else in this process."""
    settings: Settings = request.app.state.settings
    limit = settings.api_rate_limit_per_hour
    if settings.redis_url is None:
        return SlidingWindows[object](limit, 3600.0)
    client = redis_client(settings.redis_url)
    return SharedSlidingWindows(client, limit, 3600.0, f"{settings.redis_prefix}{name}:")


def stats_api(request: Request) -> APIRequests:
    """Stats API requests per API key (JETRACK_API_RATE_LIMIT_PER_HOUR)."""
    return _of(request, "stats_rate_limiter", lambda: _per_key(request, "stats-api"))


def sites_api(request: Request) -> APIRequests:
    """Sites API requests per API key, counted apart from the Stats API's."""
    return _of(request, "sites_rate_limiter", lambda: _per_key(request, "sites-api"))


def retry_after(response: Response, seconds: int) -> Response:
    response.headers["Retry-After"] = str(max(1, seconds))
    return response
