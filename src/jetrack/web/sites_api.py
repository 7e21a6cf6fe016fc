"""Sites API over HTTP (Plausible-compatible, /api/v1/sites...). Thin: authenticate the
Bearer key and its scope, rate-limit, read a capped body, call jetrack.sites.provisioning*,
encode. See docs/sites-api.md."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.api_keys import SITES_SCOPE, STATS_SCOPE, authenticate_api_key, has_scope
from jetrack.accounts.permissions import teams_of
from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import saved_locale
from jetrack.billing.limits import require
from jetrack.config import Settings
from jetrack.notify.messages import Mail, in_background, quoted
from jetrack.sites import provisioning as sites
from jetrack.sites import provisioning_settings as settings_api
from jetrack.sites.provisioning import ProvisionError
from jetrack.store.models import User
from jetrack.store.stores import Stores
from jetrack.web import throttles
from jetrack.web.db import in_session
from jetrack.web.errors import error_response

# The mail the access page sends for a guest invitation: one wording for both ways in.
from jetrack.web.teams_pages import _invitation_mail as invitation_mail
from jetrack.web.throttles import APIRequests

READ = (STATS_SCOPE, SITES_SCOPE)  # Plausible lets a stats key list sites, goals and props
PROVISION = (SITES_SCOPE,)
MISSING_KEY = "Missing API key. Please use a valid API key as a Bearer Token."
INVALID_KEY = (
    "Invalid API key. Please make sure you're using a valid API key with access to the "
    "resource you've requested."
)
_NESTED = re.compile(r"^custom_props\[([^\]]+)\]$")


class RateLimited(ProvisionError):
    def __init__(self, wait: int) -> None:
        super().__init__(429, "rate limit exceeded for this API key")
        self.wait = wait


def _key_owner(session: Session, key: str, scopes: tuple[str, ...], limiter: APIRequests) -> int:
    found = authenticate_api_key(session, key)
    if found is None or not any(has_scope(found[0], s) for s in scopes):
        raise ProvisionError(401, INVALID_KEY)
    wait = limiter.hit(("sites", found[0].id))
    if wait:
        raise RateLimited(wait)
    return found[1].id


async def _read_body(request: Request) -> dict[str, Any]:
    """The body as parameters (JSON object or form). PolicyMiddleware caps it (web/policy.py:
    413 past 64 KB, before reading when the length is declared)."""
    data = await request.body()
    if not data.strip():
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _nest(parse_qsl(data.decode("utf-8", "replace")))
    if kind == "multipart/form-data":
        form = await request.form(max_files=0, max_fields=200)
        return _nest([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
        raise ProvisionError(400, "the request body must be JSON or a form") from None
    if not isinstance(body, dict):
        raise ProvisionError(400, "the request body must be a JSON object")
    return body


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields, with `custom_props[key]=value` gathered into one map."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        nested = _NESTED.match(name)
        if nested:
            out.setdefault("custom_props", {})[nested.group(1)] = value
        else:
            out[name] = value
    return out


@dataclass(frozen=True)
class Call:
    """What one Sites API request hands its operation."""

    params: dict[str, Any]
    path_value: str
    settings: Settings


# An operation: (session, key owner, call) -> (JSON answer, mail to send after answering).
Operation = Callable[[Session, User, Call], tuple[Any, Mail | None]]


def _answer(work: Callable[[Session, User, Call], Any]) -> Operation:
    return lambda session, user, call: (work(session, user, call), None)


def _endpoint(
    scopes: tuple[str, ...], operation: Operation, *, body: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate (and rate-limit) before reading the body; then the operation in one
    control-store transaction, off the event loop."""

    async def endpoint(request: Request) -> Response:
        stores: Stores = request.app.state.stores
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        try:
            if not key:
                raise ProvisionError(401, MISSING_KEY)
            user_id = await in_session(
                request, _key_owner, key, scopes, throttles.sites_api(request)
            )
            params: dict[str, Any] = dict(request.query_params)
            if body:
                params.update(await _read_body(request))
            values = list(request.path_params.values())
            call = Call(params, str(values[0]) if values else "", request.app.state.settings)
            answer, mail = await run_in_threadpool(_run, stores, operation, user_id, call)
        except RateLimited as exc:
            return JSONResponse(
                {"error": exc.message}, status_code=429, headers={"Retry-After": str(exc.wait)}
            )
        except ProvisionError as exc:
            return error_response(exc.status, exc.message)
        return JSONResponse(answer, background=in_background(call.settings, mail))

    return endpoint


def _run(stores: Stores, operation: Operation, user_id: int, call: Call) -> tuple[Any, Any]:
    with stores.control.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise ProvisionError(401, INVALID_KEY)
        return operation(session, user, call)


def _create_site(session: Session, user: User, call: Call) -> Any:
    """A new site, if the plan of the team it goes to allows one more (402 otherwise)."""
    wanted = str(call.params.get("team_id") or "")
    teams = {str(team.id): team for team in teams_of(session, user, "add_site")}
    team = teams.get(wanted) if wanted else personal_team(session, user)
    if team is not None:  # an unknown team_id: create_site answers 404
        require(session, team, call.settings.billing, "site", "team_id")
    return sites.create_site(session, user, call.params)


def _put_guest(session: Session, user: User, call: Call) -> tuple[Any, Mail | None]:
    answer, invitation, token = settings_api.put_guest(session, user, call.params)
    if invitation is None:
        return answer, None
    locale = saved_locale(session, invitation.email)
    mail = invitation_mail(
        call.settings, user, invitation, token, quoted(str(call.params["site_id"])), locale
    )
    return answer, mail


routes: list[BaseRoute] = [
    # The fixed paths come before /api/v1/sites/{site_id}.
    Route(
        "/api/v1/sites/goals",
        _endpoint(READ, _answer(lambda s, u, c: settings_api.list_goals(s, u, c.params))),
        methods=["GET"],
    ),
    Route(
        "/api/v1/sites/goals",
        _endpoint(
            PROVISION, _answer(lambda s, u, c: settings_api.put_goal(s, u, c.params)), body=True
        ),
        methods=["PUT"],
    ),
    Route(
        "/api/v1/sites/goals/{goal_id}",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: settings_api.delete_goal(s, u, c.path_value, c.params)),
            body=True,
        ),
        methods=["DELETE"],
    ),
    Route(
        "/api/v1/sites/custom-props",
        _endpoint(READ, _answer(lambda s, u, c: settings_api.list_custom_props(s, u, c.params))),
        methods=["GET"],
    ),
    Route(
        "/api/v1/sites/custom-props",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: settings_api.put_custom_prop(s, u, c.params)),
            body=True,
        ),
        methods=["PUT"],
    ),
    Route(
        "/api/v1/sites/custom-props/{property:path}",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: settings_api.delete_custom_prop(s, u, c.path_value, c.params)),
            body=True,
        ),
        methods=["DELETE"],
    ),
    Route(
        "/api/v1/sites/shared-links",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: sites.put_shared_link(s, u, c.params, c.settings.base_url)),
            body=True,
        ),
        methods=["PUT"],
    ),
    Route(
        "/api/v1/sites/guests",
        _endpoint(PROVISION, _answer(lambda s, u, c: settings_api.list_guests(s, u, c.params))),
        methods=["GET"],
    ),
    Route("/api/v1/sites/guests", _endpoint(PROVISION, _put_guest, body=True), methods=["PUT"]),
    Route(
        "/api/v1/sites/guests/{email}",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: settings_api.delete_guest(s, u, c.path_value, c.params)),
            body=True,
        ),
        methods=["DELETE"],
    ),
    Route(
        "/api/v1/sites",
        _endpoint(READ, _answer(lambda s, u, c: sites.list_sites(s, u, c.params))),
        methods=["GET"],
    ),
    Route(
        "/api/v1/sites",
        _endpoint(PROVISION, _answer(_create_site), body=True),
        methods=["POST"],
    ),
    Route(
        "/api/v1/sites/{site_id}",
        _endpoint(READ, _answer(lambda s, u, c: sites.get_site(s, u, c.path_value))),
        methods=["GET"],
    ),
    Route(
        "/api/v1/sites/{site_id}",
        _endpoint(
            PROVISION,
            _answer(lambda s, u, c: sites.update_site(s, u, c.path_value, c.params)),
            body=True,
        ),
        methods=["PUT"],
    ),
    Route(
        "/api/v1/sites/{site_id}",
        _endpoint(PROVISION, _answer(lambda s, u, c: sites.remove_site(s, u, c.path_value))),
        methods=["DELETE"],
    ),
]
