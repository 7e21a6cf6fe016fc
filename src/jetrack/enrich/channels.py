"""Assign a visit to a marketing channel from its source category, UTM tags and click id."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from jetrack.enrich.sources import AI, EMAIL, SEARCH, SHOPPING, SOCIAL, VIDEO

DIRECT = "Direct"
REFERRAL_CHANNEL = "Referral"

_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIUMS = frozenset(
    {
        "social",
        "social-network",
        "social-media",
        "sm",
        "social network",
        "social media",
        "social_media",
    }
)
_EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail", "mail", "newsletter"})
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_SEARCH_CLICK_IDS = frozenset({"gclid", "gbraid", "wbraid", "msclkid", "gclsrc", "yclid"})
_SOCIAL_CLICK_IDS = frozenset(
    {"ttclid", "twclid", "li_fat_id", "sccid", "rdt_cid", "epik", "scclid"}
)
_DISPLAY_CLICK_IDS = frozenset({"dclid"})


@dataclass(frozen=True, slots=True)
class Visit:
    """The lower-cased facts the channel rules look at."""

    source: str
    category: str
    medium: str
    campaign: str
    click_id: str

    @property
    def paid(self) -> bool:
        """Tagged as paid by its medium, or carrying an ad network's click id."""
        return bool(_PAID_MEDIUM.match(self.medium)) or self.click_id in (
            _SEARCH_CLICK_IDS | _SOCIAL_CLICK_IDS
        )

    @property
    def shopping(self) -> bool:
        """From a shopping site or in a shopping campaign."""
        return self.category == SHOPPING or bool(_SHOPPING_CAMPAIGN.match(self.campaign))


# (channel, rule) in priority order: the first rule that holds names the channel.
# Informed by the public GA4 default channel grouping, adapted to what Jetrack knows.
CHANNEL_RULES: tuple[tuple[str, Callable[[Visit], bool]], ...] = (
    (
        DIRECT,
        lambda v: not v.source and v.medium in ("", "(none)", "none", "direct") and not v.click_id,
    ),
    ("Cross-network", lambda v: "cross-network" in v.campaign),
    ("Display", lambda v: v.medium in _DISPLAY_MEDIUMS or v.click_id in _DISPLAY_CLICK_IDS),
    ("Paid Video", lambda v: v.paid and v.category == VIDEO),
    ("Paid Shopping", lambda v: v.paid and v.shopping),
    ("Paid Search", lambda v: v.paid and (v.category == SEARCH or v.click_id in _SEARCH_CLICK_IDS)),
    ("Paid Social", lambda v: v.paid and (v.category == SOCIAL or v.click_id in _SOCIAL_CLICK_IDS)),
    ("Paid Other", lambda v: v.paid),
    ("Affiliates", lambda v: v.medium == "affiliate" or v.medium == "affiliates"),
    (
        "Email",
        lambda v: v.category == EMAIL or v.medium in _EMAIL_WORDS or v.source in _EMAIL_WORDS,
    ),
    ("Audio", lambda v: v.medium in ("audio", "podcast")),
    ("SMS", lambda v: v.medium == "sms" or v.source == "sms"),
    (
        "Mobile Push Notifications",
        lambda v: v.medium.endswith("push") or "notification" in v.medium or v.source == "firebase",
    ),
    ("AI Assistants", lambda v: v.category == AI),
    ("Organic Social", lambda v: v.category == SOCIAL or v.medium in _SOCIAL_MEDIUMS),
    ("Organic Video", lambda v: v.category == VIDEO or "video" in v.medium),
    ("Organic Search", lambda v: v.category == SEARCH or v.medium == "organic"),
    ("Organic Shopping", lambda v: v.shopping),
)

CHANNELS: tuple[str, ...] = (*(name for name, _rule in CHANNEL_RULES), REFERRAL_CHANNEL)


def channel_for(source: str, category: str, utm: Mapping[str, str]) -> str:
    """The channel of a visit whose source (name and category) is already known."""
    return _channel(
        source.strip().lower(),
        category,
        utm.get("utm_medium", "").strip().lower(),
        utm.get("utm_campaign", "").strip().lower(),
        utm.get("click_id_param", "").strip().lower(),
    )


# Few distinct combinations, and ~8 µs to run the rules: every new visit asks.
@lru_cache(maxsize=4096)
def _channel(source: str, category: str, medium: str, campaign: str, click_id: str) -> str:
    visit = Visit(source, category, medium, campaign, click_id)
    for channel, rule in CHANNEL_RULES:
        if rule(visit):
            return channel
    return REFERRAL_CHANNEL
