"""Reading dates and times as people type them (domain.times)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.times import parse_local, parse_time, weekday

TODAY = date(2026, 3, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03 19:00", datetime(2026, 12, 3, 19, 0)),
        ("2026/12/3 19:00", datetime(2026, 12, 3, 19, 0)),
        ("2026年12月3日 19点", datetime(2026, 12, 3, 19, 0)),
        ("12月3日 19:00", datetime(2026, 12, 3, 19, 0)),
        ("１２月３日　１９：００", datetime(2026, 12, 3, 19, 0)),
        ("12月3日19:00", datetime(2026, 12, 3, 19, 0)),
        ("3月1日 10:00", datetime(2027, 3, 1, 10, 0)),  # already past this year
        ("明天 9点半", datetime(2026, 3, 11, 9, 30)),
        ("今天 下午3点", datetime(2026, 3, 10, 15, 0)),
        ("周三 19:00", datetime(2026, 3, 11, 19, 0)),
        ("星期三 19:00", datetime(2026, 3, 11, 19, 0)),
        ("礼拜三 19:00", datetime(2026, 3, 11, 19, 0)),
        ("周二 9:00", datetime(2026, 3, 10, 9, 0)),  # today counts
        ("下星期三 晚上7点", datetime(2026, 3, 18, 19, 0)),
        ("周日 上午10点15分", datetime(2026, 3, 15, 10, 15)),
        ("wed 7pm", datetime(2026, 3, 11, 19, 0)),
        ("next wed 19:00", datetime(2026, 3, 18, 19, 0)),
        ("tomorrow 12am", datetime(2026, 3, 11, 0, 0)),
    ],
)
def test_reads_what_people_type(text: str, expected: datetime) -> None:
    assert parse_local(text, TODAY) == expected


@pytest.mark.parametrize(
    "text", ["", "3月12日", "19:00", "2026-02-30 10:00", "周八 10:00", "明天 25:00", "明天 9"]
)
def test_refuses_what_is_not_a_moment(text: str) -> None:
    assert parse_local(text, TODAY) is None


def test_times_and_weekdays_alone() -> None:
    assert parse_time("晚上7点") is not None and parse_time("７：３０") is not None
    assert parse_time("7") is None
    assert [weekday(w) for w in ("周一", "星期日", "礼拜天", "wed", "周八")] == [0, 6, 6, 2, None]


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    parse_local(text, TODAY)
    parse_time(text)
    weekday(text)
