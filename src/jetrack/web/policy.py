"""The resource policy: for every route, its body cap, what it checks before reading the
body, its rate budget and its query time budget. One table, applied by PolicyMiddleware
(web/policy_middleware.py); docs/security.md explains each column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jetrack.ingest.wire import MAX_BODY_BYTES

KB = 1024
MB = 1024 * KB
# The largest import file the site settings page takes (docs/imports.md); bigger exports
# are imported with the CLI, which reads the file where it is.
IMPORT_UPLOAD_CAP = 512 * MB

# Who is checked before a byte of the body is read. "none": anonymous; "session": the
# handler resolves the signed-in session (require_user) first; "api_key": the handler checks
# the bearer key (and its per-key budget) first; "metrics_token": PolicyMiddleware checks
# JETRACK_METRICS_TOKEN itself.
Auth = Literal["none", "session", "api_key", "metrics_token"]


@dataclass(frozen=True, slots=True)
class Budget:
    """A rate budget. Only `per="client"` budgets are counted by PolicyMiddleware; the
    others name the module that owns them."""

    name: str
    per: Literal["client", "key", "account", "ingest"]
    limit: int = 0
    window_seconds: int = 0
    owner: str = "web/policy_middleware.py"


@dataclass(frozen=True, slots=True)
class Policy:
    body_cap: int  # bytes read at most; above it 413 (declared length: before reading)
    auth: Auth = "none"
    budget: Budget | None = None
    # The analytics query time budget of the route: the one choke point's limit
    # (JETRACK_QUERY_TIMEOUT_SECONDS, store/events.py); None when the route runs no query.
    runs_queries: bool = False
    # The endpoint enforces cap and budget itself, with its own answers (the ingest
    # endpoints, which in production answer before any middleware); the row documents them.
    self_enforced: bool = False


STATS_KEY = Budget(
    "stats api", "key", owner="web/throttles.py (JETRACK_API_RATE_LIMIT_PER_HOUR per key)"
)
INGEST = Budget("ingest client budget", "ingest", owner="ingest/")
ACCOUNT_THROTTLES = Budget("login throttles", "account", owner="accounts/throttle.py")
SHARED_LINK = Budget("shared link", "client", limit=600, window_seconds=600)
# Stripe sends a few events per change; a sender without the secret gets 400s, budgeted.
BILLING_WEBHOOK = Budget("billing webhook", "client", limit=600, window_seconds=60)
ANONYMOUS_FORMS = Budget("anonymous forms", "client", limit=60, window_seconds=600)

PAGE = Policy(body_cap=0)  # GET: no body is read
SIGNED_IN_PAGE = Policy(body_cap=0, auth="session")
SIGNED_IN_FORM = Policy(body_cap=64 * KB, auth="session")
SIGNED_IN_JSON = Policy(body_cap=0, auth="session")
ANONYMOUS_FORM = Policy(body_cap=16 * KB, budget=ANONYMOUS_FORMS)
LOGIN_FORM = Policy(body_cap=16 * KB, budget=ACCOUNT_THROTTLES)
STATS_V1 = Policy(body_cap=0, auth="api_key", budget=STATS_KEY, runs_queries=True)
SITES_KEY = Budget(
    "sites api", "key", owner="web/sites_api.py (JETRACK_API_RATE_LIMIT_PER_HOUR per key)"
)
# Plausible's Sites API takes `site_id` in the body of DELETE requests too.
SITES_API = Policy(body_cap=64 * KB, auth="api_key", budget=SITES_KEY)
SITES_API_READ = Policy(body_cap=0, auth="api_key", budget=SITES_KEY)

# "METHOD template" -> policy. HEAD follows GET. The ingest endpoints are answered before the
# middleware (web/ingest.py IngestFastPath, the app's outermost layer) and enforce their own
# 1 MB cap; their rows say what they do. A route missing here fails tests/web/test_policy.py.
POLICIES: dict[str, Policy] = {
    "GET /api/health": PAGE,
    "POST /api/event": Policy(body_cap=MAX_BODY_BYTES, budget=INGEST, self_enforced=True),
    "POST /api/events": Policy(body_cap=MAX_BODY_BYTES, budget=INGEST, self_enforced=True),
    "GET /metrics": Policy(body_cap=0, auth="metrics_token"),
    "GET /js/{name}": PAGE,
    "GET /api/openapi.json": PAGE,
    "POST /api/v2/query": Policy(
        body_cap=64 * KB, auth="api_key", budget=STATS_KEY, runs_queries=True
    ),
    "GET /api/v2/funnels": Policy(body_cap=0, auth="api_key", budget=STATS_KEY),
    "POST /api/v2/funnel": Policy(
        body_cap=64 * KB, auth="api_key", budget=STATS_KEY, runs_queries=True
    ),
    "GET /api/v1/stats/aggregate": STATS_V1,
    "GET /api/v1/stats/timeseries": STATS_V1,
    "GET /api/v1/stats/breakdown": STATS_V1,
    "GET /api/v1/stats/realtime/visitors": STATS_V1,
    "GET /static": PAGE,
    "GET /favicon.ico": PAGE,
    # Sites API (web/sites_api.py)
    "GET /api/v1/sites": SITES_API_READ,
    "POST /api/v1/sites": SITES_API,
    "GET /api/v1/sites/{site_id}": SITES_API_READ,
    "PUT /api/v1/sites/{site_id}": SITES_API,
    "DELETE /api/v1/sites/{site_id}": SITES_API,
    "GET /api/v1/sites/goals": SITES_API_READ,
    "PUT /api/v1/sites/goals": SITES_API,
    "DELETE /api/v1/sites/goals/{goal_id}": SITES_API,
    "GET /api/v1/sites/custom-props": SITES_API_READ,
    "PUT /api/v1/sites/custom-props": SITES_API,
    "DELETE /api/v1/sites/custom-props/{property:path}": SITES_API,
    "PUT /api/v1/sites/shared-links": SITES_API,
    "GET /api/v1/sites/guests": SITES_API_READ,
    "PUT /api/v1/sites/guests": SITES_API,
    "DELETE /api/v1/sites/guests/{email}": SITES_API,
    # accounts (web/accounts_pages.py, web/account_settings_pages.py)
    "GET /signup": PAGE,
    "POST /signup": ANONYMOUS_FORM,
    "GET /verify-email": PAGE,
    "GET /login": PAGE,
    "POST /login": LOGIN_FORM,
    "GET /login/2fa": PAGE,
    "POST /login/2fa": LOGIN_FORM,
    "POST /logout": ANONYMOUS_FORM,
    "GET /forgot-password": PAGE,
    "POST /forgot-password": ANONYMOUS_FORM,
    "GET /reset-password": PAGE,
    "POST /reset-password": ANONYMOUS_FORM,
    "POST /theme": ANONYMOUS_FORM,
    "GET /cookies": PAGE,
    "GET /api/account/me": SIGNED_IN_JSON,
    "GET /account": SIGNED_IN_PAGE,
    "POST /account/name": SIGNED_IN_FORM,
    "POST /account/language": SIGNED_IN_FORM,
    "POST /account/email": SIGNED_IN_FORM,
    "GET /account/confirm-email": PAGE,
    "POST /account/password": SIGNED_IN_FORM,
    "GET /account/sessions": SIGNED_IN_PAGE,
    "POST /account/sessions/{session_id}/revoke": SIGNED_IN_FORM,
    "GET /account/2fa": SIGNED_IN_PAGE,
    "POST /account/2fa/setup": SIGNED_IN_FORM,
    "POST /account/2fa/enable": SIGNED_IN_FORM,
    "POST /account/2fa/disable": SIGNED_IN_FORM,
    "POST /account/2fa/recovery-codes": SIGNED_IN_FORM,
    "GET /account/api-keys": SIGNED_IN_PAGE,
    "POST /account/api-keys": SIGNED_IN_FORM,
    "POST /account/api-keys/{key_id}/revoke": SIGNED_IN_FORM,
    "GET /account/delete": SIGNED_IN_PAGE,
    "POST /account/delete": SIGNED_IN_FORM,
    # sites, teams, guests, shared links
    "GET /sites": SIGNED_IN_PAGE,
    "GET /api/sites": SIGNED_IN_JSON,
    "GET /sites/new": SIGNED_IN_PAGE,
    "POST /sites/new": SIGNED_IN_FORM,
    "GET /sites/{domain}/settings": SIGNED_IN_PAGE,
    "POST /sites/{domain}/settings": SIGNED_IN_FORM,
    "GET /api/sites/{domain}/installation": Policy(body_cap=0, auth="session", runs_queries=True),
    "GET /sites/{domain}/delete": SIGNED_IN_PAGE,
    "POST /sites/{domain}/delete": SIGNED_IN_FORM,
    "GET /teams": SIGNED_IN_PAGE,
    "GET /teams/{team_id}": SIGNED_IN_PAGE,
    "POST /teams/{team_id}/settings": SIGNED_IN_FORM,
    "POST /teams/{team_id}/invitations": SIGNED_IN_FORM,
    "POST /teams/{team_id}/invitations/{invitation_id}/revoke": SIGNED_IN_FORM,
    "POST /teams/{team_id}/members/{user_id}/role": SIGNED_IN_FORM,
    "POST /teams/{team_id}/members/{user_id}/remove": SIGNED_IN_FORM,
    "GET /sites/{domain}/access": SIGNED_IN_PAGE,
    "POST /sites/{domain}/guests": SIGNED_IN_FORM,
    "POST /sites/{domain}/guests/{user_id}/remove": SIGNED_IN_FORM,
    "POST /sites/{domain}/invitations/{invitation_id}/revoke": SIGNED_IN_FORM,
    "GET /invitations/{token}": PAGE,
    "POST /invitations/{token}/accept": SIGNED_IN_FORM,
    "GET /sites/{domain}/shared-links": SIGNED_IN_PAGE,
    "POST /sites/{domain}/shared-links": SIGNED_IN_FORM,
    "POST /sites/{domain}/shared-links/{link_id}/revoke": SIGNED_IN_FORM,
    "POST /sites/{domain}/shared-links/{link_id}/embedding": SIGNED_IN_FORM,
    "POST /sites/{domain}/goals": SIGNED_IN_FORM,
    "POST /sites/{domain}/goals/{goal_id}/rename": SIGNED_IN_FORM,
    "POST /sites/{domain}/goals/{goal_id}/delete": SIGNED_IN_FORM,
    "POST /sites/{domain}/funnels": SIGNED_IN_FORM,
    "POST /sites/{domain}/funnels/{funnel_id}/rename": SIGNED_IN_FORM,
    "POST /sites/{domain}/funnels/{funnel_id}/delete": SIGNED_IN_FORM,
    # reports and alerts (web/reports_pages.py); the mailed links are anonymous forms
    "GET /sites/{domain}/reports": SIGNED_IN_PAGE,
    "POST /sites/{domain}/reports/mine": SIGNED_IN_FORM,
    "POST /sites/{domain}/reports/recipients": SIGNED_IN_FORM,
    "POST /sites/{domain}/reports/spike": SIGNED_IN_FORM,
    "POST /sites/{domain}/reports/webhooks": SIGNED_IN_FORM,
    "POST /sites/{domain}/reports/webhooks/{webhook_id}/remove": SIGNED_IN_FORM,
    "POST /sites/{domain}/reports/recipients/{recipient_id}/remove": SIGNED_IN_FORM,
    # imports of a site's history (web/imports_pages.py); the upload streams to disk
    "GET /sites/{domain}/imports": SIGNED_IN_PAGE,
    "POST /sites/{domain}/imports/{import_id}/delete": Policy(
        body_cap=16 * KB, auth="session", runs_queries=True
    ),
    "GET /api/sites/{domain}/imports": SIGNED_IN_JSON,
    "POST /api/sites/{domain}/imports": Policy(body_cap=IMPORT_UPLOAD_CAP, auth="session"),
    "GET /reports/confirm": PAGE,
    "POST /reports/confirm": ANONYMOUS_FORM,
    "GET /reports/unsubscribe": PAGE,
    "POST /reports/unsubscribe": ANONYMOUS_FORM,
    "GET /share/{slug}/password": Policy(body_cap=0, budget=SHARED_LINK),
    "POST /share/{slug}/password": Policy(body_cap=16 * KB, budget=SHARED_LINK),
    # the dashboard
    "GET /": PAGE,
    "GET /sites/{domain}": SIGNED_IN_PAGE,
    "GET /dashboard/{domain}": PAGE,
    "POST /api/dashboard/{domain}/query": Policy(
        body_cap=64 * KB, auth="session", runs_queries=True
    ),
    "POST /api/dashboard/{domain}/property-keys": Policy(
        body_cap=64 * KB, auth="session", runs_queries=True
    ),
    "POST /api/dashboard/{domain}/funnel": Policy(
        body_cap=64 * KB, auth="session", runs_queries=True
    ),
    "GET /share/{slug}": Policy(body_cap=0, budget=SHARED_LINK),
    "POST /api/share/{slug}/query": Policy(body_cap=64 * KB, budget=SHARED_LINK, runs_queries=True),
    "POST /api/share/{slug}/property-keys": Policy(
        body_cap=64 * KB, budget=SHARED_LINK, runs_queries=True
    ),
    # segments and annotations (web/segments_api.py, web/annotations_api.py)
    "GET /api/dashboard/{domain}/segments": SIGNED_IN_JSON,
    "POST /api/dashboard/{domain}/segments": Policy(body_cap=16 * KB, auth="session"),
    "PATCH /api/dashboard/{domain}/segments/{segment_id}": Policy(body_cap=16 * KB, auth="session"),
    "DELETE /api/dashboard/{domain}/segments/{segment_id}": SIGNED_IN_JSON,
    "GET /api/share/{slug}/segments": Policy(body_cap=0, budget=SHARED_LINK),
    "GET /api/dashboard/{domain}/annotations": SIGNED_IN_JSON,
    "POST /api/dashboard/{domain}/annotations": Policy(body_cap=4 * KB, auth="session"),
    "DELETE /api/dashboard/{domain}/annotations/{annotation_id}": SIGNED_IN_JSON,
    "GET /api/share/{slug}/annotations": Policy(body_cap=0, budget=SHARED_LINK),
    "POST /api/share/{slug}/funnel": Policy(
        body_cap=64 * KB, budget=SHARED_LINK, runs_queries=True
    ),
    # public pages and privacy
    "GET /welcome": PAGE,
    "GET /privacy": PAGE,
    "GET /about": PAGE,
    "GET /contact": PAGE,
    "POST /contact": ANONYMOUS_FORM,
    "GET /support": PAGE,
    "POST /support": ANONYMOUS_FORM,
    "GET /account/privacy": SIGNED_IN_PAGE,
    "POST /account/privacy/export": SIGNED_IN_FORM,
    "POST /account/privacy/restriction": SIGNED_IN_FORM,
    "GET /api/account/exports": SIGNED_IN_JSON,
    "GET /exports/{token}": SIGNED_IN_PAGE,
    "GET /account/erasure/undo": PAGE,
    "POST /account/erasure/undo": ANONYMOUS_FORM,
    "POST /api/dashboard/{domain}/export": Policy(
        body_cap=64 * KB, auth="session", runs_queries=True
    ),
    # plans and billing (web/billing_pages.py; 404 with billing off). The provider's webhook
    # has no session: its signature over the raw body is checked by the handler.
    "GET /billing/teams/{team_id}": SIGNED_IN_PAGE,
    "POST /billing/teams/{team_id}/checkout": SIGNED_IN_FORM,
    "POST /billing/teams/{team_id}/portal": SIGNED_IN_FORM,
    "POST /billing/teams/{team_id}/cancel": SIGNED_IN_FORM,
    "POST /billing/teams/{team_id}/switch": SIGNED_IN_FORM,
    "POST /billing/webhook": Policy(body_cap=64 * KB, budget=BILLING_WEBHOOK),
    # the operator console (instance admins)
    "GET /admin": SIGNED_IN_PAGE,
    "GET /admin/users": SIGNED_IN_PAGE,
    "POST /admin/users/{target}/lock": SIGNED_IN_FORM,
    "POST /admin/users/{target}/unlock": SIGNED_IN_FORM,
    "GET /admin/sites": Policy(body_cap=0, auth="session", runs_queries=True),
    "POST /admin/sites/{target}/pause": SIGNED_IN_FORM,
    "POST /admin/sites/{target}/resume": SIGNED_IN_FORM,
    "GET /admin/tickets": SIGNED_IN_PAGE,
    "POST /admin/tickets/{target}/close": SIGNED_IN_FORM,
    "GET /admin/jobs": SIGNED_IN_PAGE,
    "POST /admin/jobs/{target}/retry": SIGNED_IN_FORM,
}

# A request that matches no route (404/405 follow) reads nothing.
UNROUTED = Policy(body_cap=0)


def policy_for(method: str, template: str) -> Policy | None:
    key_method = "GET" if method == "HEAD" else method
    return POLICIES.get(f"{key_method} {template}")
