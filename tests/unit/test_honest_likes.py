"""The like weights on crafted patterns: brushed ones lose weight, organic ones keep it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from bot.config import LikesConfig
from domain.honest_likes import (
    BURST,
    CAP,
    LIKE_ONLY,
    RING,
    LikeTable,
    MemberSignals,
    local_days,
    score,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in Shanghai
DAY = 86400.0
CFG = LikesConfig()


def old(active: bool = True) -> MemberSignals:
    return MemberSignals(first_seen=T0 - 90 * DAY, active=active)


def run(rows: list[tuple[int, str, str, float]], members: dict[str, MemberSignals]):
    return score(LikeTable.from_rows(rows), members, CFG, SH)


def test_organic_likes_keep_full_weight() -> None:
    # Thirty established members like a dozen stories over days, a few each day.
    members = {f"m{i}": old() for i in range(30)}
    rows = []
    for s in range(12):
        for i in range(0, 30, 3):
            rows.append((s, f"m{(i + s) % 30}", f"author{s % 4}", T0 + s * 3600 + i * 400))
    result = run(rows, members)
    assert np.all(result.weight == 1.0)
    assert not result.bursts and not result.rings and not result.like_only and not result.capped


def test_a_burst_of_fresh_accounts_is_discounted_and_described() -> None:
    members = {f"fresh{i}": MemberSignals(first_seen=T0 - 600, active=True) for i in range(10)}
    members |= {"friend1": old(), "friend2": old()}
    rows = [(7, f"fresh{i}", "author", T0 + 4 * i) for i in range(10)]
    rows += [(7, "friend1", "author", T0 + 5), (7, "friend2", "author", T0 + 20)]
    result = run(rows, members)
    for i in range(10):
        assert result.weight[i] == CFG.burst_weight and result.reasons[i] & BURST
    assert result.weight[10] == 1.0 and result.weight[11] == 1.0  # old friends keep theirs
    [burst] = result.bursts
    assert (burst.story_id, burst.likes, burst.fresh, burst.discounted) == (7, 12, 10, 10)
    assert burst.seconds == 36


def test_members_first_seen_while_the_group_was_new_are_not_fresh() -> None:
    # The bot joined an hour before: everyone speaking now was already in the group.
    members = {f"fresh{i}": MemberSignals(first_seen=T0 - 600, active=True) for i in range(10)}
    rows = [(7, f"fresh{i}", "author", T0 + 4 * i) for i in range(10)]
    joined = T0 - 3600
    settled = joined + CFG.fresh_member_hours * 3600
    result = score(LikeTable.from_rows(rows), members, CFG, SH, settled)
    assert np.all(result.weight == 1.0) and not result.bursts
    # Members who only like are still suspicious on the first day.
    idle = {m: MemberSignals(first_seen=T0 - 600, active=False) for m in members}
    result = score(LikeTable.from_rows(rows), idle, CFG, SH, settled)
    [burst] = result.bursts
    assert (burst.fresh, burst.inactive, burst.discounted) == (0, 10, 10)


def test_a_burst_of_established_members_is_not_brushing() -> None:
    members = {f"m{i}": old() for i in range(12)}
    rows = [(3, f"m{i}", "author", T0 + i) for i in range(12)]
    result = run(rows, members)
    assert np.all(result.weight == 1.0) and not result.bursts


def test_the_same_fresh_likes_spread_over_hours_are_no_burst() -> None:
    members = {f"fresh{i}": MemberSignals(first_seen=T0 - 600, active=True) for i in range(10)}
    rows = [(7, f"fresh{i}", "author", T0 + 900 * i) for i in range(10)]
    assert np.all(run(rows, members).weight == 1.0)


def test_a_reciprocal_ring_is_discounted() -> None:
    members = {"a": old(), "b": old(), "c": old()}
    rows = [(s, "a", "b", T0 + s * DAY) for s in range(100, 104)]  # a likes 4 of b's
    rows += [(s, "b", "a", T0 + s * DAY) for s in range(200, 203)]  # b likes 3 of a's
    rows += [(300, "c", "a", T0), (301, "a", "c", T0)]  # an ordinary exchange
    result = run(rows, members)
    assert all(result.weight[i] == CFG.ring_weight and result.reasons[i] & RING for i in range(7))
    assert result.weight[7] == 1.0 and result.weight[8] == 1.0
    assert result.rings == [("a", "b", 4, 3)]


def test_a_like_only_account_is_discounted() -> None:
    members = {"lurker": old(active=False), "quiet": old(active=False)}
    rows = [(s, "lurker", f"author{s}", T0 + s * DAY) for s in range(6)]
    rows += [(s, "quiet", f"author{s}", T0 + s * DAY) for s in range(2)]  # too few to judge
    result = run(rows, members)
    assert all(
        result.weight[i] == CFG.like_only_weight and result.reasons[i] & LIKE_ONLY for i in range(6)
    )
    assert result.weight[6] == 1.0 and result.weight[7] == 1.0
    assert result.like_only == {"lurker": 6}


def test_likes_over_the_daily_cap_count_nothing() -> None:
    members = {"eager": old()}
    rows = [(s, "eager", f"author{s}", T0 + s * 60) for s in range(13)]  # 13 in one day
    rows += [(99, "eager", "authorX", T0 + DAY)]  # the next day is a new day
    result = run(rows, members)
    assert list(result.weight[:10]) == [1.0] * 10
    assert list(result.weight[10:13]) == [0.0] * 3 and all(result.reasons[10:13] & CAP)
    assert result.weight[13] == 1.0
    assert result.capped == {"eager": 3}


def test_the_daily_cap_follows_the_local_day() -> None:
    # 23:30 and 00:30 Shanghai time are different local days though the same UTC day.
    late = datetime(2026, 3, 2, 15, 30, tzinfo=UTC).timestamp()
    days = local_days(np.array([late, late + 3600]), SH)
    assert days[1] == days[0] + 1


def test_empty_input() -> None:
    result = run([], {})
    assert len(result.weight) == 0
