"""parse_user_agent: real browser UAs -> browser, versions, OS and device class."""

from __future__ import annotations

import pytest

from jetrack.enrich.ua import (
    UserAgentInfo,
    device_class,
    parse_user_agent,
    parse_user_agent_uncached,
)

CHROME_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

CASES = [
    (CHROME_WIN, ("Chrome", "131.0", "Windows", "10", "Desktop")),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        ("Safari", "17.4", "macOS", "10.15", "Desktop"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        ("Safari", "17.4", "iOS", "17.4", "Mobile"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        ("Safari", "16.6", "iOS", "16.6", "Tablet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
        ("Chrome", "131.0", "Android", "14", "Mobile"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ("Chrome", "131.0", "Android", "13", "Tablet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        ("Samsung Internet", "25.0", "Android", "14", "Mobile"),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ("Firefox", "133.0", "Linux", "", "Desktop"),
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ("Firefox", "128.0", "Linux", "", "Desktop"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        ("Edge", "131.0", "Windows", "10", "Desktop"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
        ("Opera", "115.0", "Windows", "10", "Desktop"),
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ("Chrome", "131.0", "Chrome OS", "", "Desktop"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        ("Chrome", "131.0", "iOS", "17.4", "Mobile"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
        ("Firefox", "133.0", "iOS", "17.4", "Mobile"),
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        ("Firefox", "133.0", "Android", "14", "Mobile"),
    ),
    (
        "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
        ("Firefox", "133.0", "Android", "14", "Tablet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
        ("Edge", "131.0", "Android", "12", "Mobile"),
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        ("Internet Explorer", "11.0", "Windows", "7", "Desktop"),
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36",
        ("Silk", "3.68", "Android", "4.0", "Tablet"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
        ("Vivaldi", "7.0", "Windows", "10", "Desktop"),
    ),
    ("", ("", "", "", "", "Desktop")),
    ("something odd", ("", "", "", "", "Desktop")),
]


@pytest.mark.parametrize(("user_agent", "expected"), CASES)
def test_parse_user_agent(user_agent: str, expected: tuple[str, str, str, str, str]) -> None:
    assert parse_user_agent(user_agent) == UserAgentInfo(*expected)


@pytest.mark.parametrize(("user_agent", "_expected"), CASES)
def test_cached_and_uncached_agree(user_agent: str, _expected: object) -> None:
    assert parse_user_agent(user_agent) == parse_user_agent_uncached(user_agent)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; Tablet PC 2.0)", "Desktop"),
        ("Mozilla/5.0 (Linux; Android 13; Pixel Tablet)", "Tablet"),
        ("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) Mobile", "Mobile"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36",
            "Mobile",
        ),
        ("Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X)", "Mobile"),
    ],
)
def test_device_class(user_agent: str, device: str) -> None:
    assert device_class(user_agent) == device


def test_result_is_immutable() -> None:
    info = parse_user_agent(CHROME_WIN)
    with pytest.raises(AttributeError):
        info.browser = "Other"  # type: ignore[misc]
