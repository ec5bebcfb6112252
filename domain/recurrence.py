"""Recurring activities: reading "every Wednesday" the way people type it, and its dates.

Organisers type ``每周三``, ``每星期三``, ``每个周三``, ``每礼拜三``, ``每两周三``, ``隔周三``,
``每天``, ``每月15号``, or in English ``weekly wed``, ``every wednesday``, ``biweekly wed``,
``every other wed``, ``daily``, ``monthly 15th``, in half- or full-width characters. A rule
is stored as a short string (``Rule.code``) and read back with ``Rule.from_code``.
Everything here is pure: no clock, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from domain.times import EN_WEEKDAYS, WEEKDAYS, normalise

Kind = Literal["daily", "weekly", "biweekly", "monthly"]
ZH_DAYS = "一二三四五六日"
EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_ZH_WEEKDAY = r"(?:周|星期|礼拜|週)\s*([一二三四五六日天七1-7])"
_ZH_EVERY = r"(?:每|逢)\s*(?:个|一个)?\s*"
_ZH_TWO_WEEKS = r"(?:(?:每\s*(?:两|二|2)\s*(?:个)?\s*(?:周|星期|礼拜|週))|隔\s*(?:一)?\s*(?:周|星期|礼拜)|每隔\s*(?:一|1)\s*(?:周|星期|礼拜))"
_PATTERNS: list[tuple[re.Pattern[str], Kind]] = [
    (re.compile(r"(?:每天|每日|天天|daily|every\s*day)"), "daily"),
    (re.compile(_ZH_TWO_WEEKS + r"\s*(?:的)?\s*" + _ZH_WEEKDAY), "biweekly"),
    (re.compile(_ZH_TWO_WEEKS + r"\s*(?:的)?\s*([一二三四五六日天七1-7])"), "biweekly"),
    (re.compile(_ZH_EVERY + _ZH_WEEKDAY), "weekly"),
    (re.compile(_ZH_EVERY + r"(?:月|个月)\s*的?\s*(\d{1,2})\s*(?:号|日)?"), "monthly"),
]
_EN = re.compile(
    r"(?:(weekly|every\s+week|biweekly|fortnightly|every\s+(?:other|2|two)(?:\s+weeks?)?|every)"
    r"\s*(?:on\s+)?([a-z]+)|(monthly|every\s+month)\s*(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?)"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """When a series repeats: every day, a weekday every week or every two weeks, or a day
    of the month (``value``: 0 = Monday for weeks, 1–31 for months, unused for days)."""

    kind: Kind
    value: int = 0

    @property
    def code(self) -> str:
        """The stored form: ``daily``, ``weekly:2``, ``biweekly:2``, ``monthly:15``."""
        return self.kind if self.kind == "daily" else f"{self.kind}:{self.value}"

    @classmethod
    def from_code(cls, code: str) -> Rule:
        """The rule a stored ``code`` names."""
        kind, _, value = code.partition(":")
        if kind not in ("daily", "weekly", "biweekly", "monthly"):
            raise ValueError(f"not a rule: {code!r}")
        return cls(kind, int(value or 0))  # type: ignore[arg-type]

    def describe(self, lang: str) -> str:
        """``每周三`` / ``every Wed``, for replies."""
        zh = lang == "zh"
        if self.kind == "daily":
            return "每天" if zh else "every day"
        if self.kind == "monthly":
            return f"每月 {self.value} 号" if zh else f"monthly on the {self.value}"
        day = f"周{ZH_DAYS[self.value]}" if zh else EN_DAYS[self.value]
        if self.kind == "weekly":
            return f"每{day}" if zh else f"every {day}"
        return f"每两周的{day}" if zh else f"every other {day}"

    def matches(self, day: date, first: date) -> bool:
        """Whether ``day`` is an occurrence of a series whose first occurrence is ``first``."""
        if day < first:
            return False
        if self.kind == "daily":
            return True
        if self.kind == "monthly":
            return day.day == self.value
        if day.weekday() != self.value:
            return False
        return self.kind == "weekly" or (day - first).days % 14 == 0

    def first_on_or_after(self, start: date) -> date | None:
        """The first occurrence on or after ``start`` (within a year), or None."""
        for offset in range(366 + 31):
            day = start + timedelta(days=offset)
            if self.kind in ("weekly", "biweekly"):
                if day.weekday() == self.value:
                    return day
            elif self.matches(day, start):
                return day
        return None

    def dates(self, first: date, since: date, until: date) -> list[date]:
        """The occurrences from ``since`` to ``until`` (both included) of a series whose
        first occurrence is ``first``. A month without the day (the 31st in April) has
        none: the series does not move it to another day."""
        day, out = max(first, since), []
        while day <= until:
            if self.matches(day, first):
                out.append(day)
            day += timedelta(days=1)
        return out


def parse_rule(text: str, start: date | None = None) -> Rule | None:
    """The rule in what an organiser typed, or None when it is not one.

    ``每周`` / ``weekly`` alone repeat on the weekday of ``start`` (the first date given),
    ``每月`` / ``monthly`` alone on its day of the month.
    """
    text = normalise(text)
    if not text:
        return None
    for pattern, kind in _PATTERNS:
        hit = pattern.fullmatch(text)
        if hit is None:
            continue
        if kind == "daily":
            return Rule("daily")
        raw = hit.group(1)
        if kind == "monthly":
            day = int(raw)
            return Rule("monthly", day) if 1 <= day <= 31 else None
        return Rule(kind, WEEKDAYS[raw])
    hit = _EN.fullmatch(text)
    if hit is not None:
        if hit.group(3):
            day = int(hit.group(4))
            return Rule("monthly", day) if 1 <= day <= 31 else None
        word, name = hit.group(1), hit.group(2)
        if name in EN_WEEKDAYS:
            every_other = word in ("biweekly", "fortnightly") or word.startswith(
                ("every other", "every 2", "every two")
            )
            return Rule("biweekly" if every_other else "weekly", EN_WEEKDAYS[name])
    if start is not None:
        if text in ("每周", "每星期", "每个星期", "每礼拜", "weekly", "every week"):
            return Rule("weekly", start.weekday())
        if text in ("每两周", "隔周", "biweekly", "fortnightly", "every other week"):
            return Rule("biweekly", start.weekday())
        if text in ("每月", "每个月", "monthly", "every month"):
            return Rule("monthly", start.day)
    return None
