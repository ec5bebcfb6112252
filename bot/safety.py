"""Member text is shown as text: no markdown, no links, no @all, no smuggled mentions."""

from __future__ import annotations

import re
import unicodedata

# Characters markdown treats specially, escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~<])")
# '@' followed by a name would become a mention in DingTalk: break it with a zero-width joiner.
_AT = re.compile(r"[@＠]")
# Any scheme: besides web links, DingTalk clients act on dingtalk:// and dtmd:// links
# (dtmd://dingtalkclient/sendMessage sends a message as whoever clicks it).
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{1,30})(://)")
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
# Invisible characters that hide a command ("\u200b/帮助" looks like a command and is not)
# or hide inside titles: zero-width space / non-joiner, word joiner, BOM, Mongolian vowel
# separator, soft hyphen. The zero-width joiner is kept only inside emoji sequences.
_INVISIBLE = {"\u200b", "\u200c", "\u2060", "\ufeff", "\u180e", "\u00ad"}
_ZWJ = "\u200d"


def clean(text: str) -> str:
    """Drop control and bidi-override characters and normalise to NFC; keep newlines, tabs."""
    out: list[str] = []
    chars = unicodedata.normalize("NFC", text)
    for i, ch in enumerate(chars):
        if ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or ch in _INVISIBLE:
            continue
        elif ch == _ZWJ:
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if out and _emoji(out[-1]) and _emoji(after):
                out.append(ch)
        elif unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"}:
            continue
        else:
            out.append(ch)
    return "".join(out)


def _emoji(ch: str) -> bool:
    return bool(ch) and (unicodedata.category(ch) == "So" or ch == "\ufe0f")


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
