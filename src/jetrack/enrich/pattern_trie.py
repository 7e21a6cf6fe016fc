"""Compile many literal strings into one regex shaped as a trie, so matching stays fast."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Python's re tries each alternative in turn at every position; a trie-shaped pattern
# lets it reject a position after one character instead of after a thousand alternatives.
_END = ""

_Node = dict[str, "_Node"]


def trie_pattern(literals: Iterable[str]) -> str:
    """A regex source matching any of ``literals`` (as plain text), or "" if there are none."""
    root: _Node = {}
    for literal in literals:
        if not literal:
            continue
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[_END] = {}
    return _pattern(root) if root else ""


def _pattern(node: _Node) -> str:
    """The regex for one trie node: its branches as a group, optional when a word ends here."""
    ends_here = _END in node
    branches = [re.escape(char) + _pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    if len(branches) == 1 and not ends_here:
        return branches[0]
    body = "(?:" + "|".join(branches) + ")"
    # A word ending here makes the rest optional; the shortest match is enough for search().
    return body + "?" if ends_here else body
