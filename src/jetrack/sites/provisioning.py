"""The Sites API's site operations in Plausible's shape: create, get, update, delete, list
sites, and find-or-create a shared link. Each takes the key owner and the decoded request
and returns the JSON answer, or raises ProvisionError with its status and message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from jetrack.accounts.permissions import can, team_for, visible_sites
from jetrack.sites import shared_links
from jetrack.sites.custom_props import list_props
from jetrack.sites.pagination import CursorError, page_of, parse_limit
from jetrack.sites.sites import SiteError, add_site, check_timezone, delete_site, find_site
from jetrack.sites.sites import normalize_domain as _normalize_domain
from jetrack.store.models import Site, User

SITE_NOT_FOUND = "Site could not be found"
NO_ACCESS = "API key does not have access to Sites API for this site"


class ProvisionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def required(value: Any, field: str, purpose: str) -> Any:
    """The value of a required parameter; 400 naming it when missing or empty."""
    if value is None or value == "":
        raise ProvisionError(400, f"Parameter `{field}` is required to {purpose}")
    return value


def site_for_key(session: Session, user: User, domain: Any, action: str) -> Site:
    """The site by domain: 404 when it does not exist or the key's owner may not see it
    (no existence leak), 403 when the owner's role does not allow `action`."""
    site = find_site(session, domain) if isinstance(domain, str) else None
    if site is None or not can(session, user, "view_stats", site):
        raise ProvisionError(404, SITE_NOT_FOUND)
    if not can(session, user, action, site):
        raise ProvisionError(403, NO_ACCESS)
    return site


def paged(items: list[Any], key: Any, query: dict[str, str]) -> Any:
    try:
        return page_of(
            items,
            key,
            limit=parse_limit(query.get("limit")),
            after=query.get("after"),
            before=query.get("before"),
        )
    except CursorError as exc:
        raise ProvisionError(400, f"Parameter `{exc.field}` {exc}") from None


def site_json(site: Site) -> dict[str, Any]:
    return {"domain": site.domain, "timezone": site.timezone, "custom_properties": list_props(site)}


def _first_error(exc: SiteError) -> ProvisionError:
    return ProvisionError(400, f"{exc.field}: {exc}")


def _check_domain(domain: Any) -> str:
    if domain is None or domain == "":
        raise ProvisionError(400, "domain: can't be blank")
    if not isinstance(domain, str):
        raise ProvisionError(400, "domain: must be a string")
    try:
        return _normalize_domain(domain)
    except SiteError as exc:
        raise _first_error(exc) from None


def create_site(session: Session, user: User, body: dict[str, Any]) -> dict[str, Any]:
    domain = _check_domain(body.get("domain"))
    timezone = body.get("timezone") or "UTC"
    if not isinstance(timezone, str):
        raise ProvisionError(400, "timezone: must be an IANA time zone such as Europe/Berlin")
    team = None
    if body.get("team_id") not in (None, ""):
        team_id = body["team_id"]
        if not str(team_id).isdigit():
            raise ProvisionError(400, "team_id: must be the number of one of your teams")
        try:
            team = team_for(session, user, int(str(team_id)), "add_site")
        except HTTPException:
            raise ProvisionError(
                404, "team_id: no such team among yours that you may add sites to"
            ) from None
    try:
        site = add_site(session, user, domain, timezone=timezone, team=team)
    except SiteError as exc:
        raise _first_error(exc) from None
    return site_json(site)


def get_site(session: Session, user: User, domain: str) -> dict[str, Any]:
    return site_json(site_for_key(session, user, domain, "view_stats"))


def update_site(session: Session, user: User, domain: str, body: dict[str, Any]) -> dict[str, Any]:
    site = site_for_key(session, user, domain, "edit_site")
    if not any(k in body for k in ("domain", "timezone", "tracker_script_configuration")):
        raise ProvisionError(
            400,
            "Payload must contain at least one of the parameters 'domain', "
            "'tracker_script_configuration' (or Jetrack's 'timezone')",
        )
    config = body.get("tracker_script_configuration")
    if config is not None and not isinstance(config, dict):
        raise ProvisionError(400, "tracker_script_configuration: must be an object")
    new_domain = site.domain
    if "domain" in body:
        new_domain = _check_domain(body["domain"])
        if new_domain == site.domain:
            raise ProvisionError(400, "domain: New domain must be different than the current one")
        if find_site(session, new_domain) is not None:
            raise ProvisionError(400, "domain: this domain is already registered")
    timezone = site.timezone
    if "timezone" in body:
        try:
            timezone = check_timezone(str(body["timezone"]))
        except SiteError as exc:
            raise _first_error(exc) from None
    if site.name == site.domain:
        site.name = new_domain
    site.domain, site.timezone = new_domain, timezone
    session.flush()
    return site_json(site)


def remove_site(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for_key(session, user, domain, "delete_site")
    delete_site(session, site)
    return {"deleted": True}


def list_sites(session: Session, user: User, query: dict[str, str]) -> dict[str, Any]:
    sites = visible_sites(session, user)
    team_id = query.get("team_id")
    if team_id:
        sites = [s for s in sites if str(s.team_id) == team_id]
    page = paged(sites, lambda s: (-s.id,), query)
    return {
        "sites": [{"domain": s.domain, "timezone": s.timezone} for s in page.items],
        "meta": page.meta(),
    }


def put_shared_link(
    session: Session, user: User, body: dict[str, Any], base_url: str
) -> dict[str, Any]:
    """Find-or-create by name (a live, unrevoked link of the site)."""
    domain = required(body.get("site_id"), "site_id", "create a shared link")
    name = required(body.get("name"), "name", "create a shared link")
    if not isinstance(name, str):
        raise ProvisionError(400, "Parameter `name` must be a string")
    site = site_for_key(session, user, domain, "manage_shared_links")
    found = [link for link in shared_links.list_shared_links(session, site) if link.name == name]
    try:
        link = found[0] if found else shared_links.create_shared_link(session, site, name)
    except ValueError as exc:
        raise ProvisionError(400, f"name: {exc}") from None
    return {"name": link.name, "url": f"{base_url.rstrip('/')}/share/{link.slug}"}
