"""The table of known traffic sources: domains and aliases -> display name and category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEARCH: Final = "search"
SOCIAL: Final = "social"
VIDEO: Final = "video"
EMAIL: Final = "email"
AI: Final = "ai"
SHOPPING: Final = "shopping"
REFERRAL: Final = "referral"


@dataclass(frozen=True, slots=True)
class Source:
    """A named source and the category its channel is derived from."""

    name: str
    category: str


# (name, category, domains, aliases). A domain also covers its subdomains; "brand.*"
# covers the brand under any country-code suffix (google.de, google.co.uk). Aliases are
# extra spellings of utm_source values; the name itself and its letters-only form
# ("Hacker News" -> "hackernews") always match. Android app ids count as domains.
SOURCE_TABLE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # Search engines
    (
        "Google",
        SEARCH,
        ("google.*", "googlequicksearchbox", "com.google.android.googlequicksearchbox"),
        (),
    ),
    ("Bing", SEARCH, ("bing.com",), ()),
    ("DuckDuckGo", SEARCH, ("duckduckgo.com", "ddg.gg", "com.duckduckgo.mobile.android"), ("ddg",)),
    ("Yahoo!", SEARCH, ("yahoo.*", "search.yahoo.com"), ()),
    ("Yandex", SEARCH, ("yandex.*", "ya.ru", "ru.yandex.searchplugin"), ()),
    ("Baidu", SEARCH, ("baidu.com", "m.baidu.com"), ()),
    ("Ecosia", SEARCH, ("ecosia.org",), ()),
    ("Brave", SEARCH, ("search.brave.com",), ("brave search",)),
    ("Qwant", SEARCH, ("qwant.com",), ()),
    ("Startpage", SEARCH, ("startpage.com",), ()),
    ("Kagi", SEARCH, ("kagi.com",), ()),
    ("Naver", SEARCH, ("naver.com",), ()),
    ("Seznam", SEARCH, ("seznam.cz",), ()),
    ("Sogou", SEARCH, ("sogou.com",), ()),
    ("So.com", SEARCH, ("so.com",), ()),
    ("Daum", SEARCH, ("daum.net",), ()),
    ("Mojeek", SEARCH, ("mojeek.com",), ()),
    ("Ask", SEARCH, ("ask.com",), ()),
    ("AOL", SEARCH, ("search.aol.com",), ()),
    ("Coc Coc", SEARCH, ("coccoc.com",), ()),
    # AI assistants
    ("ChatGPT", AI, ("chatgpt.com", "chat.openai.com", "com.openai.chatgpt"), ("openai",)),
    ("Perplexity", AI, ("perplexity.ai", "ai.perplexity.ai"), ()),
    ("Claude", AI, ("claude.ai",), ("anthropic",)),
    ("Gemini", AI, ("gemini.google.com", "bard.google.com"), ("bard",)),
    (
        "Copilot",
        AI,
        ("copilot.microsoft.com", "copilot.cloud.microsoft", "edgeservices.bing.com"),
        (),
    ),
    ("DeepSeek", AI, ("chat.deepseek.com",), ()),
    ("Grok", AI, ("grok.com",), ()),
    ("Mistral", AI, ("chat.mistral.ai",), ("le chat",)),
    ("Meta AI", AI, ("meta.ai",), ()),
    ("Phind", AI, ("phind.com",), ()),
    ("You.com", AI, ("you.com",), ()),
    ("Poe", AI, ("poe.com",), ()),
    # Webmail and mail apps
    ("Gmail", EMAIL, ("mail.google.com", "inbox.google.com", "com.google.android.gm"), ()),
    (
        "Outlook",
        EMAIL,
        (
            "outlook.live.com",
            "outlook.office.com",
            "outlook.office365.com",
            "outlook.com",
            "com.microsoft.office.outlook",
        ),
        ("hotmail",),
    ),
    ("Yahoo! Mail", EMAIL, ("mail.yahoo.com", "mail.yahoo.co.jp"), ("yahoo mail",)),
    ("Proton Mail", EMAIL, ("mail.proton.me", "mail.protonmail.com"), ("protonmail",)),
    ("Fastmail", EMAIL, ("app.fastmail.com", "fastmail.com"), ()),
    ("AOL Mail", EMAIL, ("mail.aol.com",), ()),
    ("Zoho Mail", EMAIL, ("mail.zoho.com", "mail.zoho.eu"), ()),
    ("Yandex Mail", EMAIL, ("mail.yandex.ru", "mail.yandex.com"), ()),
    ("Mail.ru", EMAIL, ("e.mail.ru", "mail.ru"), ()),
    # Video
    (
        "YouTube",
        VIDEO,
        ("youtube.com", "youtu.be", "youtube-nocookie.com", "com.google.android.youtube"),
        ("yt",),
    ),
    ("Vimeo", VIDEO, ("vimeo.com",), ()),
    ("Twitch", VIDEO, ("twitch.tv",), ()),
    ("Dailymotion", VIDEO, ("dailymotion.com",), ()),
    ("Bilibili", VIDEO, ("bilibili.com",), ()),
    # Social networks and communities
    (
        "Hacker News",
        SOCIAL,
        ("news.ycombinator.com", "hckrnews.com", "hn.algolia.com"),
        ("hn", "ycombinator"),
    ),
    ("Reddit", SOCIAL, ("reddit.com", "redd.it", "com.reddit.frontpage"), ()),
    ("X", SOCIAL, ("twitter.com", "x.com", "t.co", "com.twitter.android"), ("twitter", "tw")),
    (
        "Facebook",
        SOCIAL,
        ("facebook.com", "fb.com", "fb.me", "messenger.com", "com.facebook.katana"),
        ("fb",),
    ),
    ("Instagram", SOCIAL, ("instagram.com", "com.instagram.android"), ("ig", "insta")),
    ("LinkedIn", SOCIAL, ("linkedin.com", "lnkd.in", "com.linkedin.android"), ("li",)),
    ("Pinterest", SOCIAL, ("pinterest.*", "pin.it"), ()),
    ("TikTok", SOCIAL, ("tiktok.com",), ()),
    ("Threads", SOCIAL, ("threads.net", "threads.com"), ()),
    ("Bluesky", SOCIAL, ("bsky.app", "bsky.social"), ("bsky",)),
    (
        "Mastodon",
        SOCIAL,
        (
            "mastodon.social",
            "mastodon.online",
            "mstdn.social",
            "fosstodon.org",
            "hachyderm.io",
            "infosec.exchange",
            "mas.to",
            "techhub.social",
            "joinmastodon.org",
        ),
        (),
    ),
    ("Lobsters", SOCIAL, ("lobste.rs",), ()),
    ("Product Hunt", SOCIAL, ("producthunt.com",), ("ph",)),
    ("Indie Hackers", SOCIAL, ("indiehackers.com",), ()),
    ("Discord", SOCIAL, ("discord.com", "discordapp.com", "discord.gg"), ()),
    ("Slack", SOCIAL, ("slack.com", "com.slack"), ()),
    ("Telegram", SOCIAL, ("t.me", "telegram.org", "telegram.me", "org.telegram.messenger"), ()),
    ("WhatsApp", SOCIAL, ("whatsapp.com", "wa.me", "com.whatsapp"), ()),
    ("VK", SOCIAL, ("vk.com", "vk.ru"), ()),
    ("Weibo", SOCIAL, ("weibo.com", "weibo.cn"), ()),
    ("Quora", SOCIAL, ("quora.com",), ()),
    ("Tumblr", SOCIAL, ("tumblr.com",), ()),
    ("Snapchat", SOCIAL, ("snapchat.com",), ()),
    ("DEV", SOCIAL, ("dev.to",), ()),
    # Shopping
    ("Amazon", SHOPPING, ("amazon.*",), ()),
    ("eBay", SHOPPING, ("ebay.*",), ()),
    ("Etsy", SHOPPING, ("etsy.com",), ()),
    # Well-known referrers whose channel is plain Referral
    ("GitHub", REFERRAL, ("github.com", "github.io"), ("gh",)),
    ("GitLab", REFERRAL, ("gitlab.com",), ()),
    ("Stack Overflow", REFERRAL, ("stackoverflow.com", "stackexchange.com"), ()),
    ("Wikipedia", REFERRAL, ("wikipedia.org",), ("wiki",)),
    ("Medium", REFERRAL, ("medium.com",), ()),
    ("Substack", REFERRAL, ("substack.com",), ()),
    ("Google Docs", REFERRAL, ("docs.google.com", "drive.google.com"), ()),
)
