"""A pseudo-language for tests: every message, translated, shows as ⟦its English⟧, so text
that reaches the page without a translation is the text without the brackets."""

from __future__ import annotations

import re

from jetrack.i18n.catalogs import Message, Translations, po_path, read_catalog, texts

PSEUDO = "qps"  # an ISO 639 code reserved for local use
_MARKED = re.compile(r"⟦[^⟦⟧]*⟧")


def pseudo_translations() -> Translations:
    """Built from a catalog's msgids (German's: all catalogs have the same)."""
    messages = {}
    for message in read_catalog(po_path("de")):
        ids, _ = texts(message)
        if not ids[0]:
            continue
        frontend = any(path.startswith("frontend/") for path, _ in message.locations)
        messages[ids[0]] = Message(tuple(f"⟦{text}⟧" for text in ids), frontend)
    return Translations(PSEUDO, messages)


def unmarked(text: str) -> str:
    """What is left of `text` outside the marked translations, if it has any letters."""
    rest, before = text, ""
    while rest != before:  # a translation may hold another one: ⟦guest ⟦editor⟧⟧
        before, rest = rest, _MARKED.sub("", rest)
    rest = rest.strip()
    return rest if re.search(r"[^\W\d_]", rest) else ""
