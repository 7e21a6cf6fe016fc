"""A loopback stand-in for the Stripe API: the handful of endpoints Jetrack's billing calls,
with bodies shaped like Stripe's documented objects (API version 2026-10-28), form-encoded
requests parsed the way Stripe's library sends them, and webhooks signed with Stripe's
scheme (`Stripe-Signature: t=..,v1=HMAC-SHA256(secret, "t.payload")`).

Its checkout page (the session's `url`) has a Pay button that creates the subscription,
posts the webhooks to Jetrack and redirects to `success_url`, so a browser test can
upgrade a team end to end. Tests change a subscription's state with `update_subscription`
and deliver the events with `send_event` (to a live server) or `signed_event` (for a
TestClient). What Stripe itself would announce after an API call (a subscription updated
through the API, a renewal by `renew`) goes into `outbox`, and to `webhook_url` at once
when one is set."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

API_VERSION = "2026-10-28.endive"
SECRET_KEY = "sk_test_jetrack_fake"
WEBHOOK_SECRET = "whsec_jetrack_fake"
MONTH = 30 * 86400
YEAR = 365 * 86400


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return dict(_lists(root))


def _lists(node: Any) -> Any:
    """Dicts whose keys are all digits were arrays."""
    if isinstance(node, dict):
        converted = {key: _lists(value) for key, value in node.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return node


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header of `payload`."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    code = "resource_missing" if status == 404 else None
    return JSONResponse({"error": {"type": kind, "code": code, "message": message}}, status)


@dataclass
class FakeStripe:
    """The fake's state: every object it made, every API call it answered."""

    base: str = ""
    webhook_url: str = ""  # where the Pay button's webhooks go (a live Jetrack)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoice_items: list[dict[str, Any]] = field(default_factory=list)  # prorations
    outbox: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # events sent
    # The events posted to webhook_url from announce()'s threads, with the status answered.
    delivered: list[tuple[str, int]] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    down: bool = False  # answer every API call 500, as an outage would
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    # --- objects, shaped like Stripe's ---------------------------------------------------

    def make_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "address": params.get("address"),
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": params.get("email"),
            "invoice_prefix": "JT01",
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
        }
        self.customers[customer["id"]] = customer
        return customer

    def make_card(self, customer_id: str, brand: str = "visa", last4: str = "4242") -> str:
        method_id = self.new_id("pm")
        method = {
            "id": method_id,
            "object": "payment_method",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "card": {
                "brand": brand,
                "country": "DE",
                "exp_month": 12,
                "exp_year": 2030,
                "funding": "credit",
                "last4": last4,
            },
            "created": int(time.time()),
            "customer": customer_id,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self.payment_methods[method_id] = method
        self.customers[customer_id]["invoice_settings"]["default_payment_method"] = method_id
        return method_id

    def make_subscription(
        self, customer_id: str, line: dict[str, Any], metadata: dict[str, str], trial_days: int
    ) -> dict[str, Any]:
        now = int(time.time())
        price_data = line["price_data"]
        interval = price_data["recurring"]["interval"]
        trial_end = now + trial_days * 86400 if trial_days else None
        period_end = trial_end or now + (YEAR if interval == "year" else MONTH)
        subscription_id = self.new_id("sub")
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "billing_cycle_anchor": period_end,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": price_data["currency"],
            "customer": customer_id,
            "default_payment_method": None,
            "ended_at": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self.new_id("si"),
                        "object": "subscription_item",
                        "created": now,
                        "current_period_start": now,
                        "current_period_end": period_end,
                        "metadata": {},
                        "price": {
                            "id": self.new_id("price"),
                            "object": "price",
                            "active": False,
                            "currency": price_data["currency"],
                            "product": self.new_id("prod"),
                            "recurring": {
                                "interval": interval,
                                "interval_count": 1,
                                "usage_type": "licensed",
                            },
                            "type": "recurring",
                            "unit_amount": int(price_data["unit_amount"]),
                        },
                        "quantity": int(line.get("quantity", 1)),
                        "subscription": subscription_id,
                    }
                ],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": metadata,
            "start_date": now,
            "status": "trialing" if trial_days else "active",
            "trial_end": trial_end,
            "trial_start": now if trial_days else None,
        }
        self.subscriptions[subscription_id] = subscription
        return subscription

    def make_invoice(self, subscription: dict[str, Any], status: str = "paid") -> dict[str, Any]:
        item = subscription["items"]["data"][0]
        amount = 0 if subscription["status"] == "trialing" else item["price"]["unit_amount"]
        invoice_id = self.new_id("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": amount,
            "amount_paid": amount if status == "paid" else 0,
            "amount_remaining": 0 if status == "paid" else amount,
            "billing_reason": "subscription_create",
            "created": int(time.time()),
            "currency": subscription["currency"],
            "customer": subscription["customer"],
            "hosted_invoice_url": f"{self.base}/invoices/{invoice_id}",
            "invoice_pdf": f"{self.base}/invoices/{invoice_id}/pdf",
            "livemode": False,
            "number": f"JT01-{len(self.invoices) + 1:04d}",
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": subscription["metadata"],
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
            "status": status,
            "subtotal": amount,
            "total": amount,
        }
        self.invoices.append(invoice)
        subscription["latest_invoice"] = invoice_id
        return invoice

    def update_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        """Change a subscription as Stripe would (status, cancel_at_period_end...)."""
        subscription = self.subscriptions[subscription_id]
        subscription.update(changes)
        if changes.get("status") == "canceled":
            subscription["canceled_at"] = subscription["ended_at"] = int(time.time())
        return subscription

    def make_product(self, params: dict[str, Any]) -> dict[str, Any]:
        product = {
            "id": params.get("id") or self.new_id("prod"),
            "object": "product",
            "active": True,
            "created": int(time.time()),
            "description": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params["name"],
            "type": "service",
            "updated": int(time.time()),
        }
        self.products[product["id"]] = product
        return product

    def change_items(self, subscription: dict[str, Any], params: dict[str, Any]) -> None:
        """`items[n][id]` with `items[n][price_data]` (an existing product): the item gets a
        new price; `create_prorations` adds a proration invoice item for what is left of
        the period (none in a trial), `none` bills the new price from the renewal."""
        now = int(time.time())
        for change in params.get("items", []):
            item = next(i for i in subscription["items"]["data"] if i["id"] == change["id"])
            data = change["price_data"]
            old_amount = item["price"]["unit_amount"]
            item["price"] = {
                "id": self.new_id("price"),
                "object": "price",
                "active": False,
                "currency": data["currency"],
                "product": data["product"],
                "recurring": {
                    "interval": data["recurring"]["interval"],
                    "interval_count": 1,
                    "usage_type": "licensed",
                },
                "type": "recurring",
                "unit_amount": int(data["unit_amount"]),
            }
            if params.get("proration_behavior", "create_prorations") != "create_prorations":
                continue
            start, end = item["current_period_start"], item["current_period_end"]
            left = max(end - now, 0) / max(end - start, 1)
            paid = subscription["status"] != "trialing"
            amount = round((item["price"]["unit_amount"] - old_amount) * left) if paid else 0
            self.invoice_items.append(
                {
                    "id": self.new_id("ii"),
                    "object": "invoiceitem",
                    "amount": amount,
                    "currency": data["currency"],
                    "customer": subscription["customer"],
                    "proration": True,
                    "subscription": subscription["id"],
                }
            )

    def renew(self, subscription_id: str) -> dict[str, Any]:
        """The period ends: the next one starts, billed at the item's price (with the
        prorations of the period), and Stripe announces both."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            item = subscription["items"]["data"][0]
            length = YEAR if item["price"]["recurring"]["interval"] == "year" else MONTH
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] = item["current_period_start"] + length
            subscription["status"] = "active"
            invoice = self.make_invoice(subscription)
            invoice["billing_reason"] = "subscription_cycle"
            pending = [i for i in self.invoice_items if i["subscription"] == subscription_id]
            extra = sum(i["amount"] for i in pending if not i.get("invoice"))
            for pending_item in pending:
                pending_item.setdefault("invoice", invoice["id"])
            invoice["total"] = invoice["subtotal"] = invoice["amount_due"] = (
                invoice["total"] + extra
            )
            invoice["amount_paid"] = invoice["total"]
        self.announce("customer.subscription.updated", subscription)
        self.announce("invoice.paid", invoice)
        return subscription

    def announce(self, kind: str, obj: dict[str, Any]) -> None:
        """An event Stripe sends by itself: kept in `outbox`, and posted to `webhook_url`
        from a thread of its own (Jetrack reads the subscription back meanwhile)."""
        copied = json.loads(json.dumps(obj))
        self.outbox.append((kind, copied))
        if self.webhook_url:
            threading.Thread(target=self._post_quietly, args=(kind, copied), daemon=True).start()

    def _post_quietly(self, kind: str, obj: dict[str, Any]) -> None:
        # Stripe retries a failed delivery; a server already stopped is no test's concern.
        with contextlib.suppress(httpx.HTTPError):
            self.delivered.append((kind, self.send_event(kind, obj).status_code))

    # --- events ------------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else created,
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def signed_event(
        self, kind: str, obj: dict[str, Any], **options: Any
    ) -> tuple[bytes, dict[str, str]]:
        """An event's body and headers as Stripe posts them."""
        payload = json.dumps(self.event(kind, obj, **options)).encode()
        return payload, {"Stripe-Signature": sign(payload), "Content-Type": "application/json"}

    def send_event(self, kind: str, obj: dict[str, Any], **options: Any) -> httpx.Response:
        payload, headers = self.signed_event(kind, obj, **options)
        return httpx.post(self.webhook_url, content=payload, headers=headers, timeout=30)

    # --- the checkout page's Pay ------------------------------------------------------------

    def pay(self, session_id: str) -> str:
        """Complete a checkout: card, subscription, invoice, webhooks; the success_url."""
        with self._lock:
            session = self.sessions[session_id]
            customer_id = session["customer"]
            self.make_card(customer_id)
            data = session["_params"].get("subscription_data", {})
            trial = int(data.get("trial_period_days", 0) or 0)
            line = session["_params"]["line_items"][0]
            subscription = self.make_subscription(
                customer_id, line, data.get("metadata", {}), trial
            )
            invoice = self.make_invoice(subscription)
            session.update(
                status="complete", payment_status="paid", subscription=subscription["id"]
            )
        public = {k: v for k, v in session.items() if not k.startswith("_")}
        if self.webhook_url:
            for kind, obj in (
                ("customer.subscription.created", subscription),
                ("invoice.paid", invoice),
                ("checkout.session.completed", public),
            ):
                answer = self.send_event(kind, obj)
                assert answer.status_code == 200, answer.text
        return str(session["success_url"])


def _authorized(request: Request) -> bool:
    return request.headers.get("authorization", "") == f"Bearer {SECRET_KEY}"


def build_app(fake: FakeStripe) -> Starlette:
    async def api(request: Request) -> Response:
        if not _authorized(request):
            return _error(401, "Invalid API Key provided", "invalid_request_error")
        if fake.down:
            return _error(500, "fake outage", "api_error")
        pairs = list(request.query_params.multi_items())
        if request.method == "POST":
            pairs += [(k, str(v)) for k, v in (await request.form()).multi_items()]
        params = parse_form(pairs)
        path = request.url.path
        fake.calls.append((request.method, path, params))
        with fake._lock:
            return _answer(fake, request.method, path, params)

    async def checkout_page(request: Request) -> Response:
        session = fake.sessions.get(request.path_params["session_id"])
        if session is None:
            return HTMLResponse("no such checkout", 404)
        line = session["_params"]["line_items"][0]["price_data"]
        amount = int(line["unit_amount"]) / 100
        name = html.escape(line["product_data"]["name"])
        body = (
            f"<!doctype html><title>Fake checkout</title><h1>{name}</h1>"
            f"<p>{amount:.2f} {line['currency'].upper()} / {line['recurring']['interval']}</p>"
            f'<form method="post" action="/checkout/{session["id"]}/pay">'
            '<button type="submit">Pay</button></form>'
            f'<p><a href="{html.escape(session["cancel_url"])}">Back</a></p>'
        )
        return HTMLResponse(body)

    async def checkout_pay(request: Request) -> Response:
        # In a worker thread: Jetrack reads the subscription back from this server while
        # the webhooks are being posted.
        success = await run_in_threadpool(fake.pay, request.path_params["session_id"])
        return RedirectResponse(success, 303)

    async def portal_page(request: Request) -> Response:
        back = html.escape(request.query_params.get("return", ""))
        return HTMLResponse(f'<!doctype html><title>Fake portal</title><a href="{back}">Return</a>')

    return Starlette(
        routes=[
            Route("/v1/{path:path}", api, methods=["GET", "POST", "DELETE"]),
            Route("/checkout/{session_id}", checkout_page, methods=["GET"]),
            Route("/checkout/{session_id}/pay", checkout_pay, methods=["POST"]),
            Route("/portal/{session_id}", portal_page, methods=["GET"]),
        ]
    )


def _answer(fake: FakeStripe, method: str, path: str, params: dict[str, Any]) -> Response:
    parts = path.strip("/").split("/")[1:]  # after v1
    for route, handler in _ROUTES:
        if route[0] == method and _matches(route[1], parts):
            return handler(fake, parts, params)
    return _error(404, f"Unrecognized request URL ({method}: {path})")


def _matches(pattern: str, parts: list[str]) -> bool:
    expected = pattern.split("/")
    return len(expected) == len(parts) and all(
        want == "*" or want == got for want, got in zip(expected, parts, strict=True)
    )


def _create_customer(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    return JSONResponse(fake.make_customer(params))


def _found(table: dict[str, dict[str, Any]], key: str, what: str) -> Response:
    """The object, or Stripe's 404 naming it."""
    found = table.get(key)
    return JSONResponse(found) if found is not None else _error(404, f"No such {what}: '{key}'")


def _get_customer(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    return _found(fake.customers, parts[1], "customer")


def _delete_customer(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if fake.customers.pop(parts[1], None) is None:
        return _error(404, f"No such customer: '{parts[1]}'")
    for subscription in fake.subscriptions.values():  # Stripe cancels them with the customer
        if subscription["customer"] == parts[1] and subscription["status"] != "canceled":
            fake.update_subscription(subscription["id"], status="canceled")
    return JSONResponse({"id": parts[1], "object": "customer", "deleted": True})


def _create_session(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if params.get("mode") != "subscription" or params.get("customer") not in fake.customers:
        return _error(400, "mode must be subscription, with an existing customer")
    session_id = fake.new_id("cs_test")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "cancel_url": params["cancel_url"],
        "client_reference_id": params.get("client_reference_id"),
        "created": int(time.time()),
        "currency": params["line_items"][0]["price_data"]["currency"],
        "customer": params["customer"],
        "expires_at": int(time.time()) + 86400,
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "mode": "subscription",
        "payment_status": "unpaid",
        "status": "open",
        "subscription": None,
        "success_url": params["success_url"],
        "url": f"{fake.base}/checkout/{session_id}",
        "_params": params,
    }
    fake.sessions[session_id] = session
    return JSONResponse({k: v for k, v in session.items() if not k.startswith("_")})


def _create_portal(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if params.get("customer") not in fake.customers:
        return _error(404, "No such customer")
    portal_id = fake.new_id("bps")
    back = httpx.QueryParams({"return": params.get("return_url", "")})
    return JSONResponse(
        {
            "id": portal_id,
            "object": "billing_portal.session",
            "created": int(time.time()),
            "customer": params["customer"],
            "livemode": False,
            "return_url": params.get("return_url"),
            "url": f"{fake.base}/portal/{portal_id}?{back}",
        }
    )


def _get_subscription(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    return _found(fake.subscriptions, parts[1], "subscription")


def _update_subscription(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if parts[1] not in fake.subscriptions:
        return _error(404, f"No such subscription: '{parts[1]}'")
    subscription = fake.subscriptions[parts[1]]
    for change in params.get("items", []):
        price = change.get("price_data", {})
        known = any(item["id"] == change.get("id") for item in subscription["items"]["data"])
        if not known or price.get("product") not in fake.products:
            return _error(400, "items[].id must name an item and price_data.product a product")
    changes: dict[str, Any] = {}
    if "cancel_at_period_end" in params:
        changes["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
    if "metadata" in params:  # merged; an empty value removes the key
        merged = {**subscription["metadata"], **params["metadata"]}
        changes["metadata"] = {key: value for key, value in merged.items() if value != ""}
    fake.change_items(subscription, params)
    updated = fake.update_subscription(parts[1], **changes)
    fake.announce("customer.subscription.updated", updated)
    return JSONResponse(updated)


def _create_product(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if params.get("id") in fake.products:
        return _error(400, f"Product already exists: '{params['id']}'")
    return JSONResponse(fake.make_product(params))


def _get_product(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    return _found(fake.products, parts[1], "product")


def _cancel_subscription(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    if parts[1] not in fake.subscriptions:
        return _error(404, f"No such subscription: '{parts[1]}'")
    return JSONResponse(fake.update_subscription(parts[1], status="canceled"))


def _listing(url: str, rows: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"object": "list", "data": rows, "has_more": False, "url": url})


def _list_subscriptions(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    rows = [s for s in fake.subscriptions.values() if s["customer"] == params.get("customer")]
    if params.get("status", "all") != "all":
        rows = [s for s in rows if s["status"] == params["status"]]
    return _listing("/v1/subscriptions", rows)


def _list_invoices(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    rows = [i for i in reversed(fake.invoices) if i["customer"] == params.get("customer")]
    return _listing("/v1/invoices", rows[: int(params.get("limit", 10))])


def _get_payment_method(fake: FakeStripe, parts: list[str], params: dict[str, Any]) -> Response:
    return _found(fake.payment_methods, parts[1], "PaymentMethod")


_ROUTES = [
    (("POST", "customers"), _create_customer),
    (("GET", "customers/*"), _get_customer),
    (("DELETE", "customers/*"), _delete_customer),
    (("POST", "checkout/sessions"), _create_session),
    (("POST", "billing_portal/sessions"), _create_portal),
    (("GET", "subscriptions"), _list_subscriptions),
    (("GET", "subscriptions/*"), _get_subscription),
    (("POST", "subscriptions/*"), _update_subscription),
    (("DELETE", "subscriptions/*"), _cancel_subscription),
    (("GET", "invoices"), _list_invoices),
    (("POST", "products"), _create_product),
    (("GET", "products/*"), _get_product),
    (("GET", "payment_methods/*"), _get_payment_method),
]


class FakeStripeServer:
    """The fake served by uvicorn in a thread of the test process, on loopback."""

    def __init__(self, port: int) -> None:
        self.fake = FakeStripe(base=f"http://127.0.0.1:{port}")
        config = uvicorn.Config(
            build_app(self.fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "fake did not start"
            time.sleep(0.02)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)
