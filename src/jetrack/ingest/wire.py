"""The Events API wire format (Plausible-compatible): long and short field names, checked."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from jetrack.ingest.display_text import displayable

MAX_BODY_BYTES = 1_000_000
MAX_NAME_CHARS = 120
MAX_URL_BYTES = 2000
MAX_REFERRER_BYTES = 2000
MAX_PROPS = 30
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
MAX_BATCH = 1000
MAX_DOMAINS = 10

# Short names first; the long name wins when a sender gives both.
ALIASES = {
    "n": "name",
    "u": "url",
    "d": "domain",
    "r": "referrer",
    "p": "props",
    "m": "props",
    "$": "revenue",
    "i": "interactive",
    "h": "hashMode",
    "sd": "scroll_depth",
    "e": "engagement_time",
    "w": "screen_width",
    "c": "cookie_id",
}


class WireError(ValueError):
    """A client error: `field` names what is wrong, the message says what is valid."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Revenue:
    amount: Decimal
    currency: str


@dataclass
class WireEvent:
    name: str
    url: str
    domains: list[str]
    referrer: str = ""
    props: dict[str, str] = field(default_factory=dict)
    revenue: Revenue | None = None
    interactive: bool = True
    hash_mode: bool = False
    screen_width: int | None = None
    scroll_depth: int = 0
    engagement_ms: int = 0
    cookie_id: str = ""


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise WireError("body", "is empty; send a JSON object with at least name, url and domain")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise WireError("body", "is not valid JSON") from None


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        long = ALIASES.get(key, key)
        if long in out and key != long:
            continue
        out[long] = value
    return out


def _string(data: dict[str, Any], name: str, *, required: bool, max_bytes: int) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise WireError(name, "is required")
        return ""
    if not isinstance(value, str):
        raise WireError(name, "must be a string")
    if len(value) * 4 > max_bytes and len(value.encode()) > max_bytes:  # UTF-8: <= 4 bytes each
        raise WireError(name, f"must be at most {max_bytes} bytes")
    return value


def _url(data: dict[str, Any]) -> str:
    url = _string(data, "url", required=True, max_bytes=MAX_URL_BYTES)
    if not url[:8].lower().startswith(("http://", "https://")):
        raise WireError("url", "must be an absolute http:// or https:// URL")
    return url


def _domains(data: dict[str, Any]) -> list[str]:
    raw = _string(data, "domain", required=True, max_bytes=1000)
    # Each site once: the event is recorded once per name, so a repeated name would count
    # one event several times.
    if "," not in raw:  # nearly always one site
        domains = [raw.strip().lower()] if raw.strip() else []
    else:
        domains = list(dict.fromkeys(d.strip().lower() for d in raw.split(",") if d.strip()))
    if not domains:
        raise WireError("domain", "is required: the site's domain, or several separated by commas")
    if len(domains) > MAX_DOMAINS:
        raise WireError("domain", f"must name at most {MAX_DOMAINS} different sites")
    return domains


def _props(data: dict[str, Any]) -> dict[str, str]:
    raw = data.get("props")
    if raw is None:
        return {}
    if isinstance(raw, str):  # older trackers send props as a JSON string
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise WireError("props", "must be an object of string keys to scalar values") from None
    if not isinstance(raw, dict):
        raise WireError("props", "must be an object of string keys to scalar values")
    if len(raw) > MAX_PROPS:
        raise WireError("props", f"must have at most {MAX_PROPS} keys")
    props: dict[str, str] = {}
    for raw_key, value in raw.items():
        key = displayable(raw_key)
        if not key or len(key) > MAX_PROP_KEY:
            raise WireError(f"props.{key[:40]}", f"keys must be 1 to {MAX_PROP_KEY} characters")
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise WireError(f"props.{key}", "nested values are not allowed; use a string or number")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float) and not math.isfinite(value):
            raise WireError(f"props.{key}", "must be a finite number")
        else:
            text = str(value)
        if len(text) > MAX_PROP_VALUE:
            raise WireError(f"props.{key}", f"values must be at most {MAX_PROP_VALUE} characters")
        text = displayable(text)
        if text:
            props[key] = text
    return props


def _revenue(data: dict[str, Any]) -> Revenue | None:
    raw = data.get("revenue")
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise WireError(
                "revenue", 'must be an object like {"amount": 19.99, "currency": "EUR"}'
            ) from None
    if not isinstance(raw, dict):
        raise WireError("revenue", 'must be an object like {"amount": 19.99, "currency": "EUR"}')
    currency = raw.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise WireError("revenue.currency", "must be a three-letter ISO 4217 code such as EUR")
    amount = raw.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise WireError("revenue.amount", "must be a number")
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.001"))
    except InvalidOperation:
        raise WireError("revenue.amount", "must be a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e15"):
        raise WireError("revenue.amount", "must be a finite number below 10^15")
    return Revenue(value, currency.upper())


def _int(data: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is int:  # the common case (not bool, a subclass of int)
        return max(low, min(high, value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(name, f"must be a number from {low} to {high}")
    if not math.isfinite(value):
        raise WireError(name, f"must be a number from {low} to {high}")
    return max(low, min(high, int(value)))


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, str):
        return value.lower() not in ("false", "0", "")
    raise WireError(name, "must be true or false")


def parse_event(raw: Any) -> WireEvent:
    """Check one event object; raises WireError naming the first bad field."""
    if not isinstance(raw, dict):
        raise WireError("body", "must be a JSON object")
    data = _canonical(raw)
    # Stored texts lose what would spoof their display (the URL's parts are stripped
    # once parsed and decoded, in page_url; the domain is only looked up, never stored).
    name = displayable(_string(data, "name", required=True, max_bytes=MAX_NAME_CHARS * 4))
    if not name:
        raise WireError("name", "is required")
    if len(name) > MAX_NAME_CHARS:
        raise WireError("name", f"must be at most {MAX_NAME_CHARS} characters")
    event = WireEvent(
        name=name,
        url=_url(data),
        domains=_domains(data),
        referrer=displayable(
            _string(data, "referrer", required=False, max_bytes=MAX_REFERRER_BYTES)
        ),
        props=_props(data),
        revenue=_revenue(data),
        interactive=_flag(data, "interactive", name != "engagement"),
        hash_mode=_flag(data, "hashMode", False),
        screen_width=_int(data, "screen_width", 0, 100_000),
        scroll_depth=_int(data, "scroll_depth", 0, 100) or 0,
        engagement_ms=_int(data, "engagement_time", 0, 86_400_000) or 0,
    )
    cookie_id = data.get("cookie_id")
    if isinstance(cookie_id, str) and 8 <= len(cookie_id) <= 64:
        event.cookie_id = cookie_id
    if name == "engagement":
        event.interactive = False
    return event


def parse_batch(raw: Any) -> list[WireEvent]:
    if not isinstance(raw, list):
        raise WireError("body", "must be a JSON array of event objects")
    if not raw or len(raw) > MAX_BATCH:
        raise WireError("body", f"must hold 1 to {MAX_BATCH} events")
    events = []
    for index, item in enumerate(raw):
        try:
            events.append(parse_event(item))
        except WireError as exc:
            raise WireError(f"[{index}].{exc.field}", str(exc)) from None
    return events
