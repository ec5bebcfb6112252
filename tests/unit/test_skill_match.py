"""Normalisation and scoring of skills, Chinese and mixed-language."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.skill_match import Post, keywords, normalise, rank, similarity


def post(pid: int, member: str, kind: str, skill: str) -> Post:
    return Post(pid, member, kind, skill, keywords(skill))


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("  ＰＰＴ　　设计 ") == "ppt 设计"
    assert normalise("Python\t编程") == "python 编程"


def test_chinese_and_mixed_skills_meet() -> None:
    assert similarity("短视频剪辑", "视频剪辑") >= 0.5
    assert similarity("PPT", "ppt设计") > 0
    assert similarity("ＰＰＴ", "ppt") == 1.0
    assert similarity("Excel 函数", "excel函数") == 1.0
    assert similarity("吉他", "学吉他") >= 0.8
    assert similarity("摄影后期", "手机摄影") > 0
    assert similarity("烹饪", "python 编程") == 0
    assert similarity("", "python") == 0


def test_single_characters_are_not_keywords() -> None:
    assert "学" not in keywords("学吉他") and "吉他" in keywords("学吉他")
    assert "ppt" in keywords("ppt设计")


def test_a_two_way_match_ranks_above_a_stronger_one_way_match() -> None:
    posts = [
        post(1, "me", "want", "视频剪辑"),
        post(2, "me", "offer", "python 编程"),
        post(3, "one_way", "offer", "视频剪辑"),  # a perfect one-way match
        post(4, "two_way", "offer", "短视频剪辑"),  # a weaker match for my want...
        post(5, "two_way", "want", "Python"),  # ...but they want what I teach
    ]
    ranked = rank("me", posts, recent_partners=set())
    assert [m.member for m in ranked] == ["two_way", "one_way"]
    assert ranked[0].two_way and not ranked[1].two_way
    assert (
        ranked[1].score > 0.9 and ranked[0].they_teach is not None and ranked[0].i_teach is not None
    )


def test_a_recent_partner_ranks_below_a_new_one() -> None:
    posts = [
        post(1, "me", "want", "吉他"),
        post(2, "old_friend", "offer", "吉他"),
        post(3, "newcomer", "offer", "古典吉他入门"),  # a weaker match (0.8)
    ]
    assert [m.member for m in rank("me", posts, recent_partners=set())] == [
        "old_friend",
        "newcomer",
    ]
    assert [m.member for m in rank("me", posts, recent_partners={"old_friend"})] == [
        "newcomer",
        "old_friend",
    ]


def test_no_overlap_no_match() -> None:
    posts = [post(1, "me", "want", "烹饪"), post(2, "x", "offer", "python")]
    assert rank("me", posts, set()) == []


@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_is_bounded_and_symmetric(a: str, b: str) -> None:
    s = similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert abs(s - similarity(b, a)) < 1e-9
