"""Bilingual user-facing text: Chinese first, English for members who use English commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages, with ``{placeholders}`` for ``str.format``."""

    zh: str
    en: str

    def render(self, lang: Lang, /, **params: object) -> str:
        """The message in ``lang`` with its placeholders filled."""
        template = self.zh if lang == "zh" else self.en
        return template.format(**params) if params else template


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph (used to guess the member's language)."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def guess_lang(text: str) -> Lang:
    """Chinese first: English only for text with Latin letters and no Chinese at all."""
    if has_cjk(text):
        return "zh"
    return "en" if any("a" <= ch.lower() <= "z" for ch in text) else "zh"


def number(value: float) -> str:
    """A count or an amount for people: at most one decimal, no trailing zeros (0.1 × 10 → 1)."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text
