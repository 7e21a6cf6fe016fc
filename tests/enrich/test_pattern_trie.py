"""trie_pattern matches exactly the literal strings it is given."""

from __future__ import annotations

import re

import pytest

from jetrack.enrich.pattern_trie import trie_pattern

WORDS = ["bot", "bots", "botnet", "crawler", "a.b", "x+y", "(paren)"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Googlebot/2.1", "bot"),
        ("my-crawler/1", "crawler"),
        ("a.b", "a.b"),
        ("axb", None),
        ("x+y", "x+y"),
        ("xxy", None),
        ("see (paren)", "(paren)"),
        ("nothing here", None),
    ],
)
def test_trie_pattern_matches_literals(text: str, found: str | None) -> None:
    match = re.search(trie_pattern(WORDS), text)
    assert (match.group(0) if match else None) == found


def test_empty_input_gives_empty_pattern() -> None:
    assert trie_pattern([]) == ""
    assert trie_pattern([""]) == ""
