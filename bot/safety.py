"""Member text is shown as text: no markdown, no links, no @all, no smuggled mentions."""

from __future__ import annotations

import re
import unicodedata

# Characters markdown treats specially, escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~<])")
# '@' followed by a name would become a mention in DingTalk: break it with a zero-width joiner.
_AT = re.compile(r"[@＠]")
_URL = re.compile(r"(?i)\b(https?|ftp|dingtalk)(://)")
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def clean(text: str) -> str:
    """Drop control and bidi-override characters and normalise to NFC; keep newlines, tabs."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"}:
            continue
        else:
            out.append(ch)
    return "".join(out)


def plain(text: str) -> str:
    """Make member text inert for a plain-text message: no mentions, no link schemes."""
    text = clean(text)
    text = _AT.sub("@\u200b", text)
    return _URL.sub(lambda m: f"{m.group(1)}:\u200b//", text)


def md(text: str) -> str:
    """Make member text inert inside markdown: escape markup, break mentions and links."""
    text = plain(text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A line break in markdown needs two spaces; keep the member's lines as lines.
    return text.replace("\n", "  \n")
