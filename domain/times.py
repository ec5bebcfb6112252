"""Reading a local date and time the way people type it in a chat.

Organisers type ``2026-12-03 19:00``, ``12月3日 19:00``, ``12/3 19：00``, ``明天 9点半``,
``周三 19:00``, ``下星期三 晚上7点`` or ``礼拜三 19:00``, in half- or full-width characters.
Everything here is pure: the caller passes "today" and gets a naive local datetime back.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
WEEKDAYS.update({str(n): n - 1 for n in range(1, 8)})
EN_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "today": 0, "tomorrow": 1}

_FULL_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_SHORT_DATE = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_WEEKDAY = re.compile(r"(下个?|这个?|本)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天七1-7])")
_EN_WEEKDAY = re.compile(r"(next\s+)?([a-z]+)")
_TIME = re.compile(
    r"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里)?\s*(\d{1,2})\s*"
    r"(?::\s*(\d{1,2})|点\s*(?:(半)|(\d{1,2})\s*分?)?|时)?\s*(am|pm)?$"
)
_AFTERNOON = ("下午", "傍晚", "晚上", "夜里")


def normalise(text: str) -> str:
    """Full-width digits and punctuation to half width, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.replace("：", ":").split())


def weekday(text: str) -> int | None:
    """0 (Monday) to 6 for 周三 / 星期三 / 礼拜三 / 周3 / wed / Wednesday, else None."""
    text = normalise(text)
    hit = _WEEKDAY.fullmatch(text)
    if hit:
        return WEEKDAYS[hit.group(2)]
    return EN_WEEKDAYS.get(text)


def parse_time(text: str) -> time | None:
    """A time of day alone (``19:00``, ``晚上7点``, ``7点半``, ``7pm``), or None."""
    return _read_time(normalise(text))


def _read_time(text: str) -> time | None:
    hit = _TIME.fullmatch(text.strip())
    if hit is None:
        return None
    part, hour_s, minute_colon, half, minute_word, ampm = hit.groups()
    hour = int(hour_s)
    minute = int(minute_colon or minute_word or 0) + (30 if half else 0)
    if (part in _AFTERNOON or ampm == "pm") and hour < 12:
        hour += 12
    if part == "中午" and hour < 6:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if ":" not in text and "点" not in text and "时" not in text and not ampm:
        return None  # a bare number is not a time
    return time(hour, minute)


def _read_day(text: str, today: date) -> date | None:
    text = text.strip()
    if not text:
        return None
    if text in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[text])
    hit = _FULL_DATE.fullmatch(text)
    if hit:
        year, month, day = (int(g) for g in hit.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    hit = _SHORT_DATE.fullmatch(text)
    if hit:
        month, day = (int(g) for g in hit.groups())
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, month, day)
            except ValueError:
                return None
            if candidate >= today:
                return candidate
        return None
    hit = _WEEKDAY.fullmatch(text)
    next_week = False
    if hit:
        next_week = bool(hit.group(1)) and hit.group(1).startswith("下")
        wanted = WEEKDAYS[hit.group(2)]
    else:
        en = _EN_WEEKDAY.fullmatch(text)
        if en is None or en.group(2) not in EN_WEEKDAYS:
            return None
        next_week = bool(en.group(1))
        wanted = EN_WEEKDAYS[en.group(2)]
    if next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=wanted)
    return today + timedelta(days=(wanted - today.weekday()) % 7)


def parse_local(text: str, today: date) -> datetime | None:
    """A naive local datetime from what a member typed, or None when it is not one.

    A date without a year is the next such day (this year, else next year); a weekday is
    the next one from today (today included), ``下周三`` the one in next week. A time is
    required: ``19:00``, ``19点``, ``7点半``, ``晚上7点``, ``7pm``.
    """
    text = normalise(text)
    if not text:
        return None
    # The time is the last part: try every split point, so "12月3日19:00" works too.
    for cut in range(len(text) - 1, -1, -1):
        moment = _read_time(text[cut:])
        if moment is None:
            continue
        day = _read_day(text[:cut], today)
        if day is not None:
            return datetime.combine(day, moment)
    return None


_OFFSET = re.compile(
    r"(\d+(?:\.\d+)?)\s*(天|d|days?|个?小时|时|h|hrs?|hours?|分钟|分|m|mins?|minutes?)"
)
_OFFSET_UNITS = {"天": 1440, "d": 1440, "时": 60, "h": 60, "分": 1, "m": 1}
MAX_OFFSET_MINUTES = 7 * 1440


def parse_offsets(text: str) -> list[int] | None:
    """Reminder offsets before a start, in minutes, largest first: ``2h,15m``, ``2小时、15分钟``,
    ``1天 1h``, ``90m``. None when a part is not an offset or is outside 1 minute to 7 days."""
    joined = re.sub(r"(\d)\s+(?=[^\d\s,，、;；])", r"\1", normalise(text))
    parts = [p for p in re.split(r"[,，、;；\s]+", joined) if p]
    if not parts:
        return None
    out: set[int] = set()
    for part in parts:
        hit = _OFFSET.fullmatch(part)
        if hit is None:
            return None
        unit = hit.group(2)
        factor = next(v for k, v in _OFFSET_UNITS.items() if k in unit or unit.startswith(k))
        minutes = round(float(hit.group(1)) * factor)
        if not 1 <= minutes <= MAX_OFFSET_MINUTES:
            return None
        out.add(minutes)
    return sorted(out, reverse=True)


def describe_offsets(minutes: list[int], lang: str = "en") -> str:
    """``24h, 1h, 15m`` (``1天、1小时、15分钟`` in Chinese) for a plan (forms that
    ``parse_offsets`` reads back)."""
    units = ("天", "小时", "分钟") if lang == "zh" else ("d", "h", "m")
    shown = []
    for m in minutes:
        if m % 1440 == 0:
            shown.append(f"{m // 1440}{units[0]}")
        elif m % 60 == 0:
            shown.append(f"{m // 60}{units[1]}")
        else:
            shown.append(f"{m}{units[2]}")
    return ("、" if lang == "zh" else ", ").join(shown)
