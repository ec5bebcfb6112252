"""The words people type for an argument, in one place: choices with their Chinese and English
forms, switches, weekdays, numbers like ``#12``, hours like ``2小时`` / ``2h``, times like
``6:30pm`` / ``下午6点半``. ``bot.args`` converts with these; the help shows the first form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from bot.i18n import Lang, has_cjk
from domain.times import parse_time

# Chinese and full-width punctuation a member may type where ASCII is meant (NFKC folds most
# full-width forms; these are the ideographic ones it leaves alone).
_PUNCT = str.maketrans({"：": ":", "，": ",", "、": ",", "。": ".", "＃": "#", "　": " "})


def fold(text: str) -> str:
    """Half width, lower case, ideographic punctuation as ASCII, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT).casefold()
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice of an argument: the value the handler receives and every word for it.

    The first Chinese word is what Chinese help shows, the first other word what English
    help shows; all of them are accepted in either language.
    """

    value: str
    words: tuple[str, ...]

    def shown(self, lang: Lang) -> str:
        """The word shown to a member reading ``lang``."""
        chinese = [w for w in self.words if has_cjk(w)]
        other = [w for w in self.words if not has_cjk(w)]
        if lang == "zh":
            return (chinese or other or [self.value])[0]
        return (other or chinese or [self.value])[0]

    def accepts(self) -> tuple[str, ...]:
        """Every folded word for this choice (the value itself too)."""
        return tuple(dict.fromkeys(fold(w) for w in (*self.words, self.value)))


def choices_from(words: Mapping[str, str]) -> tuple[Choice, ...]:
    """Choices from a word → value table (the order of first appearance is kept)."""
    grouped: dict[str, list[str]] = {}
    for word, value in words.items():
        grouped.setdefault(value, []).append(word)
    return tuple(Choice(value, tuple(ws)) for value, ws in grouped.items())


SWITCH: tuple[Choice, ...] = (
    Choice("on", ("开", "开启", "打开", "启用", "on", "enable", "yes")),
    Choice("off", ("关", "关闭", "停用", "取消", "off", "disable", "no")),
)
CONFIRM: tuple[Choice, ...] = (Choice("confirm", ("确认", "确定", "confirm", "yes")),)

_ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
_EN_DAYS = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "weds", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)


def _day_words(i: int) -> tuple[str, ...]:
    marks = [_ZH_DAYS[i], str(i + 1)] + (["天", "七"] if i == 6 else [])
    zh = [f"{prefix}{mark}" for mark in marks for prefix in ("周", "星期", "礼拜")]
    return (*zh, *_EN_DAYS[i])


# Monday first, values mon..sun: 周三 / 星期三 / 礼拜三 / 周3 / wed / Wednesday.
WEEKDAY: tuple[Choice, ...] = tuple(
    Choice(_EN_DAYS[i][0], _day_words(i)) for i in range(len(_EN_DAYS))
)

_INT = re.compile(r"(?:#|no\.?\s*|第)?\s*([+-]?[0-9]{1,40})\s*(?:号|个|位|人|名)?")


def read_int(text: str) -> str | None:
    """The digits of a whole number as typed: ``12``, ``１２``, ``#12``, ``12号``, ``第12``."""
    hit = _INT.fullmatch(fold(text))
    return hit.group(1) if hit else None


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9, "十": 10})
_NUMBER = r"\d{1,4}(?:\.\d{1,4})?|\.\d{1,4}|[零一二两三四五六七八九十]{1,3}"
_HOURS = re.compile(
    rf"(?P<n>{_NUMBER})?\s*(?P<half>个半|半)?\s*"
    r"(?P<unit>个?小时|个?钟头?|h|hrs?|hours?|分钟|分|m|mins?|minutes?)?"
)


def _cn_number(text: str) -> float:
    if re.fullmatch(r"[\d.]+", text):
        return float(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1:]]
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS[tens] * 10 + (_CN_DIGITS[ones] if ones else 0)
    if len(text) != 1:
        raise ValueError(text)
    return _CN_DIGITS[text]


def read_hours(text: str) -> float | None:
    """Hours as typed: ``2``, ``1.5``, ``2小时``, ``2h``, ``2 hours``, ``两个半小时``, ``半小时``,
    ``90分钟``, ``90m``; None when it is none of these."""
    folded = fold(text)
    hit = _HOURS.fullmatch(folded)
    if hit is None or not folded:
        return None
    n, half, unit = hit.group("n"), hit.group("half"), hit.group("unit")
    if n is None:  # only "半小时" / "半个钟头" is hours without a number
        return 0.5 if half == "半" and unit and unit[0] not in "分m" else None
    if n is not None and not re.fullmatch(r"[\d.]+", n) and unit is None:
        return None  # "两" alone is a word, not a number of hours
    try:
        value = _cn_number(n) if n is not None else 0.0
    except (KeyError, ValueError):
        return None
    value += 0.5 if half else 0.0
    if unit and (unit.startswith("分") or unit.startswith("m")):
        if half:
            return None
        value /= 60
    return value


def read_time(text: str) -> str | None:
    """A time of day as ``HH:MM``: ``8:05``, ``08:05``, ``8：05``, ``18:30``, ``6:30pm``,
    ``6pm``, ``下午6点半``, ``晚上7点``, ``8点05``; None when it is not one."""
    folded = fold(text).replace(" ", "")
    moment: time | None = parse_time(folded)
    if moment is None:
        return None
    return f"{moment.hour:02d}:{moment.minute:02d}"
