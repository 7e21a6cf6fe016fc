"""classify_source: real referrers and UTM sources -> (source, channel)."""

from __future__ import annotations

import pytest

from jetrack.enrich.referrers import (
    channel_of_named_source,
    classify_source,
    source_for_host,
    source_for_utm,
)
from jetrack.enrich.sources import SOURCE_TABLE

PAGE = "example.com"


@pytest.mark.parametrize(
    ("referrer", "source", "channel"),
    [
        ("https://www.google.com/", "Google", "Organic Search"),
        ("https://www.google.co.uk/search?q=jetrack", "Google", "Organic Search"),
        ("https://www.google.com.br/", "Google", "Organic Search"),
        ("https://google.de/", "Google", "Organic Search"),
        ("android-app://com.google.android.googlequicksearchbox/", "Google", "Organic Search"),
        ("https://www.bing.com/search?q=x", "Bing", "Organic Search"),
        ("https://duckduckgo.com/", "DuckDuckGo", "Organic Search"),
        ("https://search.yahoo.com/search?p=x", "Yahoo!", "Organic Search"),
        ("https://search.yahoo.co.jp/", "Yahoo!", "Organic Search"),
        ("https://yandex.ru/search/?text=x", "Yandex", "Organic Search"),
        ("https://www.baidu.com/link?url=x", "Baidu", "Organic Search"),
        ("https://www.ecosia.org/search?q=x", "Ecosia", "Organic Search"),
        ("https://search.brave.com/search?q=x", "Brave", "Organic Search"),
        ("https://www.qwant.com/?q=x", "Qwant", "Organic Search"),
        ("https://news.ycombinator.com/item?id=42", "Hacker News", "Organic Social"),
        ("https://old.reddit.com/r/SaaS/", "Reddit", "Organic Social"),
        ("https://out.reddit.com/t3_abc", "Reddit", "Organic Social"),
        ("https://t.co/AbCdEf", "X", "Organic Social"),
        ("https://twitter.com/", "X", "Organic Social"),
        ("https://x.com/someone/status/1", "X", "Organic Social"),
        ("https://l.facebook.com/l.php?u=x", "Facebook", "Organic Social"),
        ("https://m.facebook.com/", "Facebook", "Organic Social"),
        ("https://l.instagram.com/", "Instagram", "Organic Social"),
        ("https://www.linkedin.com/feed/", "LinkedIn", "Organic Social"),
        ("https://lnkd.in/abc", "LinkedIn", "Organic Social"),
        ("https://www.pinterest.co.uk/", "Pinterest", "Organic Social"),
        ("https://www.tiktok.com/", "TikTok", "Organic Social"),
        ("https://mastodon.social/@someone", "Mastodon", "Organic Social"),
        ("https://bsky.app/profile/x", "Bluesky", "Organic Social"),
        ("https://www.producthunt.com/posts/jetrack", "Product Hunt", "Organic Social"),
        ("https://www.indiehackers.com/post/x", "Indie Hackers", "Organic Social"),
        ("https://www.youtube.com/watch?v=x", "YouTube", "Organic Video"),
        ("https://m.youtube.com/", "YouTube", "Organic Video"),
        ("https://youtu.be/x", "YouTube", "Organic Video"),
        ("https://chatgpt.com/", "ChatGPT", "AI Assistants"),
        ("https://chat.openai.com/", "ChatGPT", "AI Assistants"),
        ("https://www.perplexity.ai/search/x", "Perplexity", "AI Assistants"),
        ("https://claude.ai/chat/x", "Claude", "AI Assistants"),
        ("https://gemini.google.com/app", "Gemini", "AI Assistants"),
        ("https://copilot.microsoft.com/", "Copilot", "AI Assistants"),
        ("https://mail.google.com/mail/u/0/", "Gmail", "Email"),
        ("android-app://com.google.android.gm/", "Gmail", "Email"),
        ("https://outlook.live.com/mail/0/", "Outlook", "Email"),
        ("https://github.com/org/repo", "GitHub", "Referral"),
        ("https://someone.github.io/blog", "GitHub", "Referral"),
        ("https://stackoverflow.com/questions/1", "Stack Overflow", "Referral"),
        ("https://en.wikipedia.org/wiki/Web_analytics", "Wikipedia", "Referral"),
        ("https://medium.com/@x/post", "Medium", "Referral"),
        ("https://someone.substack.com/p/post", "Substack", "Referral"),
        ("https://www.amazon.de/dp/x", "Amazon", "Organic Shopping"),
        ("https://blog.someone.dev/post", "blog.someone.dev", "Referral"),
        ("https://www.smallsite.io/", "smallsite.io", "Referral"),
        ("https://google.evil.example/", "google.evil.example", "Referral"),
        ("https://notgoogle.com/", "notgoogle.com", "Referral"),
    ],
)
def test_referrer_gives_source_and_channel(referrer: str, source: str, channel: str) -> None:
    assert classify_source(referrer, PAGE, {}) == (source, channel)


@pytest.mark.parametrize(
    ("referrer", "page_hostname"),
    [
        ("", "example.com"),
        ("https://example.com/pricing", "example.com"),
        ("https://www.example.com/pricing", "example.com"),
        ("https://example.com/", "www.example.com"),
        ("https://EXAMPLE.com/", "example.com"),
        ("javascript:void(0)", "example.com"),
    ],
)
def test_no_or_self_referrer_is_direct(referrer: str, page_hostname: str) -> None:
    assert classify_source(referrer, page_hostname, {}) == ("", "Direct")


def test_subdomain_of_the_site_is_a_referral() -> None:
    assert classify_source("https://docs.example.com/", "example.com", {}) == (
        "docs.example.com",
        "Referral",
    )


@pytest.mark.parametrize(
    ("utm", "source", "channel"),
    [
        ({"utm_source": "google"}, "Google", "Organic Search"),
        ({"utm_source": "Google", "utm_medium": "cpc"}, "Google", "Paid Search"),
        ({"utm_source": "google", "utm_medium": "ppc"}, "Google", "Paid Search"),
        ({"utm_source": "bing", "utm_medium": "paidsearch"}, "Bing", "Paid Search"),
        ({"utm_source": "hn"}, "Hacker News", "Organic Social"),
        ({"utm_source": "news.ycombinator.com"}, "Hacker News", "Organic Social"),
        ({"utm_source": "hackernews"}, "Hacker News", "Organic Social"),
        ({"utm_source": "producthunt"}, "Product Hunt", "Organic Social"),
        ({"utm_source": "twitter"}, "X", "Organic Social"),
        ({"utm_source": "chatgpt.com"}, "ChatGPT", "AI Assistants"),
        ({"utm_source": "facebook", "utm_medium": "paid_social"}, "Facebook", "Paid Social"),
        ({"utm_source": "facebook", "utm_medium": "social"}, "Facebook", "Organic Social"),
        ({"utm_source": "linkedin", "utm_medium": "cpc"}, "LinkedIn", "Paid Social"),
        ({"utm_source": "youtube", "utm_medium": "cpv"}, "YouTube", "Paid Video"),
        ({"utm_source": "newsletter"}, "newsletter", "Email"),
        ({"utm_source": "weekly-digest", "utm_medium": "email"}, "weekly-digest", "Email"),
        ({"utm_source": "partner", "utm_medium": "affiliate"}, "partner", "Affiliates"),
        ({"utm_source": "adnet", "utm_medium": "display"}, "adnet", "Display"),
        ({"utm_source": "adnet", "utm_medium": "banner"}, "adnet", "Display"),
        ({"utm_source": "adnet", "utm_medium": "cpm"}, "adnet", "Display"),
        ({"utm_source": "spotify", "utm_medium": "podcast"}, "spotify", "Audio"),
        ({"utm_source": "twilio", "utm_medium": "sms"}, "twilio", "SMS"),
        ({"utm_source": "app", "utm_medium": "push"}, "app", "Mobile Push Notifications"),
        (
            {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "cross-network-q3"},
            "Google",
            "Cross-network",
        ),
        (
            {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "shopping-q3"},
            "Google",
            "Paid Shopping",
        ),
        ({"utm_source": "someads", "utm_medium": "paid"}, "someads", "Paid Other"),
        ({"utm_source": "my-friend"}, "my-friend", "Referral"),
        ({"utm_medium": "email"}, "", "Email"),
        ({"click_id_param": "gclid"}, "", "Paid Search"),
        ({"click_id_param": "msclkid"}, "", "Paid Search"),
        ({"click_id_param": "ttclid"}, "", "Paid Social"),
        ({"click_id_param": "dclid"}, "", "Display"),
    ],
)
def test_utm_without_referrer(utm: dict[str, str], source: str, channel: str) -> None:
    assert classify_source("", PAGE, utm) == (source, channel)


@pytest.mark.parametrize(
    ("referrer", "utm", "expected"),
    [
        ("https://www.google.com/", {"click_id_param": "gclid"}, ("Google", "Paid Search")),
        ("https://www.bing.com/", {"click_id_param": "msclkid"}, ("Bing", "Paid Search")),
        ("https://www.youtube.com/", {"click_id_param": "gclid"}, ("YouTube", "Paid Video")),
        ("https://l.facebook.com/", {"click_id_param": "fbclid"}, ("Facebook", "Organic Social")),
        (
            "https://t.co/x",
            {"utm_source": "newsletter", "utm_medium": "email"},
            ("newsletter", "Email"),
        ),
        ("https://example.com/", {"utm_source": "hn"}, ("Hacker News", "Organic Social")),
    ],
)
def test_referrer_with_tags(referrer: str, utm: dict[str, str], expected: tuple[str, str]) -> None:
    assert classify_source(referrer, PAGE, utm) == expected


def test_every_table_domain_resolves_to_its_own_source() -> None:
    for name, _category, domains, _aliases in SOURCE_TABLE:
        for domain in domains:
            host = domain.replace(".*", ".com")
            found = source_for_host(host)
            assert found is not None and found.name == name, domain


def test_every_table_name_is_a_utm_spelling() -> None:
    for name, _category, _domains, aliases in SOURCE_TABLE:
        for spelling in (name, name.upper(), *aliases):
            assert source_for_utm(spelling).name == name, spelling


def test_long_utm_source_is_truncated() -> None:
    assert len(classify_source("", PAGE, {"utm_source": "x" * 1000})[0]) == 200


def test_the_channel_of_an_imported_source_name() -> None:
    """Another tool's sources rows name their source already (jetrack.imports.plausible)."""
    cases = [
        (("Google", "", {}), "Organic Search"),
        (("Direct / None", "", {}), "Direct"),
        (("", "", {}), "Direct"),
        (("hackernews", "", {}), "Organic Social"),  # a spelling of Hacker News
        (("", "https://www.bing.com/", {}), "Organic Search"),  # no name: its referrer
        (("m.facebook.com", "", {}), "Organic Social"),  # a domain as the name
        (("Bing", "", {"utm_medium": "cpc"}), "Paid Search"),
        (("Newsletter", "", {"utm_medium": "email"}), "Email"),
        (("blog.example.org", "https://blog.example.org/post", {}), "Referral"),
    ]
    for (source, referrer, utm), channel in cases:
        assert channel_of_named_source(source, referrer, utm) == channel, source
