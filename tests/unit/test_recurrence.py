"""Reading "every Wednesday" as people type it, and the dates a series falls on
(domain.recurrence)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.recurrence import Rule, parse_rule

START = date(2026, 3, 10)  # a Tuesday
WED = 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每周三", Rule("weekly", WED)),
        ("每星期三", Rule("weekly", WED)),
        ("每个周三", Rule("weekly", WED)),
        ("每个星期三", Rule("weekly", WED)),
        ("每礼拜三", Rule("weekly", WED)),
        ("每周3", Rule("weekly", WED)),
        ("每周 三", Rule("weekly", WED)),
        ("逢周三", Rule("weekly", WED)),
        ("每周日", Rule("weekly", 6)),
        ("每周天", Rule("weekly", 6)),
        ("每两周三", Rule("biweekly", WED)),
        ("每两周的周三", Rule("biweekly", WED)),
        ("每2周三", Rule("biweekly", WED)),
        ("隔周三", Rule("biweekly", WED)),
        ("每隔一周周三", Rule("biweekly", WED)),
        ("每天", Rule("daily")),
        ("每日", Rule("daily")),
        ("每月15号", Rule("monthly", 15)),
        ("每个月 15 日", Rule("monthly", 15)),
        ("每月的1号", Rule("monthly", 1)),
        ("ｗｅｅｋｌｙ　ｗｅｄ", Rule("weekly", WED)),  # full width
        ("weekly wed", Rule("weekly", WED)),
        ("Weekly Wednesday", Rule("weekly", WED)),
        ("every wed", Rule("weekly", WED)),
        ("every week on wed", Rule("weekly", WED)),
        ("every other wed", Rule("biweekly", WED)),
        ("biweekly fri", Rule("biweekly", 4)),
        ("fortnightly sat", Rule("biweekly", 5)),
        ("every 2 weeks sat", Rule("biweekly", 5)),
        ("daily", Rule("daily")),
        ("every day", Rule("daily")),
        ("monthly 15", Rule("monthly", 15)),
        ("monthly 15th", Rule("monthly", 15)),
        ("every month on the 3rd", Rule("monthly", 3)),
        # A bare period repeats on the first date's weekday or day of the month.
        ("每周", Rule("weekly", START.weekday())),
        ("weekly", Rule("weekly", START.weekday())),
        ("每两周", Rule("biweekly", START.weekday())),
        ("每月", Rule("monthly", START.day)),
        ("monthly", Rule("monthly", START.day)),
    ],
)
def test_rules_read_as_people_type_them(text: str, expected: Rule) -> None:
    assert parse_rule(text, START) == expected


@pytest.mark.parametrize(
    "text", ["", "下周三", "周三", "每周八", "每月32号", "每月0号", "weekly xyz", "有空就来", "3"]
)
def test_what_is_no_rule_is_refused(text: str) -> None:
    assert parse_rule(text, START) is None


@pytest.mark.parametrize(
    ("rule", "first", "expected"),
    [
        (Rule("weekly", WED), date(2026, 3, 11), ["03-11", "03-18", "03-25", "04-01", "04-08"]),
        (Rule("biweekly", WED), date(2026, 3, 11), ["03-11", "03-25", "04-08"]),
        (Rule("daily"), date(2026, 4, 6), ["04-06", "04-07", "04-08"]),
        # No 31st in April: that month has none, the series does not move it.
        (Rule("monthly", 31), date(2026, 1, 31), ["01-31", "03-31"]),
    ],
)
def test_the_dates_a_series_falls_on(rule: Rule, first: date, expected: list[str]) -> None:
    since = date(2026, 1, 1)
    assert [d.strftime("%m-%d") for d in rule.dates(first, since, date(2026, 4, 8))] == expected


def test_the_first_occurrence_is_the_first_matching_day() -> None:
    assert Rule("weekly", WED).first_on_or_after(START) == date(2026, 3, 11)
    assert Rule("monthly", 5).first_on_or_after(START) == date(2026, 4, 5)
    assert Rule("daily").first_on_or_after(START) == START


@given(st.text(max_size=40))
def test_parsing_never_raises(text: str) -> None:
    rule = parse_rule(text, START)
    if rule is not None:
        assert Rule.from_code(rule.code) == rule
        assert rule.describe("zh") and rule.describe("en")


@given(
    st.sampled_from(["daily", "weekly", "biweekly", "monthly"]),
    st.integers(0, 6),
    st.integers(1, 28),
    st.dates(date(2025, 1, 1), date(2030, 1, 1)),
    st.integers(0, 120),
)
def test_dates_match_the_rule_and_restart_anywhere(
    kind: str, weekday: int, day: int, first: date, span: int
) -> None:
    """Every date produced matches; splitting the window anywhere yields the same dates, which
    is what lets the job extend a series a day at a time without skipping or doubling one."""
    rule = Rule(kind, day if kind == "monthly" else weekday)  # type: ignore[arg-type]
    first = rule.first_on_or_after(first) or first
    until = first + timedelta(days=span)
    whole = rule.dates(first, first, until)
    assert all(rule.matches(d, first) for d in whole)
    cut = first + timedelta(days=span // 2)
    assert (
        rule.dates(first, first, cut) + rule.dates(first, cut + timedelta(days=1), until) == whole
    )
    if kind == "biweekly":
        assert all((b - a).days == 14 for a, b in pairwise(whole))
