"""primary_language picks the highest-quality language range; garbage gives ""."""

from __future__ import annotations

import pytest

from jetrack.enrich.language import primary_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("en;q=0.5,pt-BR", "pt"),
        ("en;q=0.8,ja;q=0.8", "en"),
        ("zh-Hant-TW", "zh"),
        ("ES", "es"),
        ("*", ""),
        ("*;q=1, nl;q=0.1", "nl"),
        ("en;q=0", ""),
        ("en;q=abc,it;q=0.3", "it"),
        ("en;q=7", ""),
        ("", ""),
        (",,,;;;", ""),
        ("123-45", ""),
        ("x" * 5000, ""),
        ("<script>alert(1)</script>", ""),
    ],
)
def test_primary_language(header: str, language: str) -> None:
    assert primary_language(header) == language
