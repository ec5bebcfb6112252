"""Recommendation ranking (domain.recommend): pure, hand-built inputs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.recommend import pick_events, pick_partners, pick_stories, similarity, terms


def test_chinese_titles_meet_on_shared_character_pairs() -> None:
    assert terms("春季植树") == {"春季", "季植", "植树"}
    assert similarity("春季植树", "植树节") > 0
    assert similarity("读书会", "春季植树") == 0
    assert "python" in terms("Python 入门")


def test_events_like_joined_ones_rank_by_words_then_place() -> None:
    upcoming = [(1, "读书会", "图书馆"), (2, "植树节", "公园"), (3, "社区植树", "河边")]
    picks = pick_events(upcoming, [("春季植树", "公园")])
    assert [p.event_id for p in picks] == [2, 3]
    assert picks[0].same_place and not picks[1].same_place
    assert pick_events(upcoming, []) == []  # nothing joined: nothing to be "like"


def test_two_way_partners_come_first() -> None:
    rows = [
        ("dave", "want", "PPT", "PPT"),
        ("carol", "offer", "python", "Python"),
        ("carol", "want", "ppt", "PPT"),
    ]
    picks = pick_partners(rows)
    assert [p.member for p in picks] == ["carol", "dave"]
    assert picks[0].two_way and picks[0].they_teach == (("python", "Python"),)
    assert picks[0].i_teach == (("PPT", "ppt"),) and not picks[1].two_way


def test_stories_by_swap_partners_first_then_by_likes() -> None:
    week = [(1, "a", "bob", 5.0), (2, "b", "carol", 1.0), (3, "c", "erin", 9.0)]
    picks = pick_stories(week, {"carol": "PPT"}, {"bob": "植树"})
    assert [p.story_id for p in picks] == [2, 1]
    assert picks[0].swap_skill == "PPT" and picks[1].event_title == "植树"


@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0.0 <= s <= 1.0 and s == similarity(b, a)
