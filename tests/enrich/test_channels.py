"""channel_for: the rule table's order decides between overlapping channels."""

from __future__ import annotations

import pytest

from jetrack.enrich.channels import CHANNELS, channel_for
from jetrack.enrich.sources import AI, EMAIL, REFERRAL, SEARCH, SHOPPING, SOCIAL, VIDEO


@pytest.mark.parametrize(
    ("source", "category", "utm", "channel"),
    [
        ("", "", {}, "Direct"),
        ("", "", {"utm_medium": "(none)"}, "Direct"),
        ("Google", SEARCH, {}, "Organic Search"),
        ("Google", SEARCH, {"utm_medium": "organic"}, "Organic Search"),
        ("Google", SEARCH, {"utm_medium": "retargeting"}, "Paid Search"),
        ("Google", SEARCH, {"utm_medium": "CPC"}, "Paid Search"),
        ("Google", SEARCH, {"utm_medium": "display"}, "Display"),
        ("Reddit", SOCIAL, {"utm_medium": "paid-social"}, "Paid Social"),
        ("YouTube", VIDEO, {}, "Organic Video"),
        ("YouTube", VIDEO, {"utm_medium": "cpc"}, "Paid Video"),
        ("Amazon", SHOPPING, {}, "Organic Shopping"),
        ("Amazon", SHOPPING, {"utm_medium": "cpc"}, "Paid Shopping"),
        ("ChatGPT", AI, {}, "AI Assistants"),
        ("ChatGPT", AI, {"utm_medium": "referral"}, "AI Assistants"),
        ("Gmail", EMAIL, {}, "Email"),
        ("GitHub", REFERRAL, {}, "Referral"),
        ("blog.example.org", REFERRAL, {}, "Referral"),
        ("acme", "", {"utm_medium": "social"}, "Organic Social"),
        ("acme", "", {"utm_medium": "video"}, "Organic Video"),
        ("acme", "", {"utm_medium": "e-mail"}, "Email"),
        ("acme", "", {"utm_medium": "affiliate"}, "Affiliates"),
        ("acme", "", {"utm_medium": "audio"}, "Audio"),
        ("firebase", "", {}, "Mobile Push Notifications"),
        ("acme", "", {"utm_medium": "whatever"}, "Referral"),
        ("acme", "", {"utm_medium": "cpc", "utm_campaign": "Cross-Network"}, "Cross-network"),
    ],
)
def test_channel_for(source: str, category: str, utm: dict[str, str], channel: str) -> None:
    assert channel_for(source, category, utm) == channel


def test_channel_names_are_unique_and_end_with_referral() -> None:
    assert len(set(CHANNELS)) == len(CHANNELS)
    assert CHANNELS[0] == "Direct"
    assert CHANNELS[-1] == "Referral"
