"""Long message text in parts that fit DingTalk's ``msgParam`` limit, cut at line breaks."""

from __future__ import annotations

import json

# groupMessages/send and oToMessages/batchSend refuse a msgParam over about 15,000 bytes
# (help.dingtalk.io, group send; DINGTALK.md "Field rules"). A part's text is kept
# 1,000 bytes under it, leaving room for the JSON around it, the title and a part number.
MSG_PARAM_MAX_BYTES = 15_000
PART_MAX_BYTES = MSG_PARAM_MAX_BYTES - 1_000


def _json_bytes(text: str) -> int:
    # Escapes (newlines, quotes) grow in JSON; measure what is really sent.
    return len(json.dumps(text, ensure_ascii=False).encode())


def split_text(text: str, *, markdown: bool = False, limit: int = PART_MAX_BYTES) -> list[str]:
    """``text`` in parts of at most ``limit`` bytes once JSON-encoded, cut between lines (a
    line longer than that on its own is cut between characters)."""
    if _json_bytes(text) <= limit:
        return [text]
    sep = "  \n" if markdown and "  \n" in text else "\n"
    parts: list[str] = []
    current = ""
    for line in text.split(sep):
        while _json_bytes(line) > limit:
            head = _cut(line, limit)
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
            line = line[len(head) :]
        candidate = f"{current}{sep}{line}" if current else line
        if current and _json_bytes(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _cut(line: str, limit: int) -> str:
    low, high = 1, len(line)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if _json_bytes(line[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return line[:low]
