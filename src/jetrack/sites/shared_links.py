"""Shared links: a read-only public dashboard of one site, optionally behind a password.

After the password is entered, the browser gets the cookie `jt_share_<id>` (HttpOnly,
SameSite=Lax, 24 h) holding a signature of the link's slug and password hash: changing
the password or revoking the link invalidates it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.instance_keys import instance_key
from jetrack.accounts.users import AccountError, hash_password
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import SharedLink, Site, utcnow

ACCESS_SECONDS = 24 * 3600


def cookie_name(link: SharedLink) -> str:
    return f"jt_share_{link.id}"


MAX_EMBED_ORIGINS = 20
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?")


def embed_origins(text: str) -> str:
    """The origins (`https://host[:port]`, separated by spaces, commas or lines) whose pages
    may frame a shared link, normalized and space-separated; AccountError otherwise."""
    origins: list[str] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        parts = urlsplit(item.lower().rstrip("/"))
        if (
            parts.scheme not in ("http", "https")
            or not _HOST.fullmatch(parts.netloc)
            or parts.path
            or parts.query
            or parts.fragment
        ):
            raise AccountError(
                "embed_origins",
                gettext_noop("'{item}' is not an origin; write https://example.com"),
                item=str(item[:100]),
            )
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise AccountError(
            "embed_origins",
            gettext_noop("at most {max_embed_origins} origins"),
            max_embed_origins=str(MAX_EMBED_ORIGINS),
        )
    return " ".join(origins)


def create_shared_link(
    session: Session, site: Site, name: str, password: str = "", origins: str = ""
) -> SharedLink:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("name", gettext_noop("must be 1 to 200 characters"))
    password_hash = None
    if password:
        try:
            password_hash = hash_password(password)
        except AccountError as exc:
            raise AccountError("password", exc.problem.message, **exc.problem.params) from None
    link = SharedLink(
        site_id=site.id,
        slug=secrets.token_urlsafe(16),
        name=name,
        password_hash=password_hash,
        embed_origins=embed_origins(origins),
    )
    session.add(link)
    session.flush()
    return link


def list_shared_links(session: Session, site: Site) -> list[SharedLink]:
    return list(
        session.scalars(
            select(SharedLink)
            .where(SharedLink.site_id == site.id, SharedLink.revoked_at.is_(None))
            .order_by(SharedLink.created_at)
        )
    )


def set_embed_origins(session: Session, site: Site, link_id: int, origins: str) -> bool:
    """Replace the origins that may frame a live link of this site; False when none."""
    link = session.get(SharedLink, link_id)
    if link is None or link.site_id != site.id or link.revoked_at is not None:
        return False
    link.embed_origins = embed_origins(origins)
    return True


def revoke_shared_link(session: Session, site: Site, link_id: int) -> bool:
    link = session.get(SharedLink, link_id)
    if link is None or link.site_id != site.id or link.revoked_at is not None:
        return False
    link.revoked_at = utcnow()
    return True


def find_shared_link(session: Session, slug: str) -> SharedLink | None:
    """The live (not revoked) link for a slug."""
    if not slug or len(slug) > 64:
        return None
    link = session.scalar(select(SharedLink).where(SharedLink.slug == slug))
    return link if link is not None and link.revoked_at is None else None


def _signature(session: Session, link: SharedLink, expires: int) -> str:
    key = instance_key(session, "shared-links")
    message = f"{link.slug}|{link.password_hash}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def access_cookie_value(session: Session, link: SharedLink) -> str:
    expires = int(time.time()) + ACCESS_SECONDS
    return f"{expires}.{_signature(session, link, expires)}"


def _cookie_ok(session: Session, link: SharedLink, value: str | None) -> bool:
    if not value or "." not in value:
        return False
    expires_text, signature = value.split(".", 1)
    if not expires_text.isdigit() or int(expires_text) < time.time():
        return False
    expected = _signature(session, link, int(expires_text))
    return hmac.compare_digest(signature, expected)


def resolve_shared_link(session: Session, slug: str, password_cookie: str | None) -> Site | None:
    """The site a shared link shows, or None: unknown or revoked link, or a
    password-protected link without a valid `jt_share_<id>` cookie value."""
    link = find_shared_link(session, slug)
    if link is None:
        return None
    if link.password_hash is not None and not _cookie_ok(session, link, password_cookie):
        return None
    return session.get(Site, link.site_id)
