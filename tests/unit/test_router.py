"""The command parser: specs, aliases, argument styles, and that no text makes it crash."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import CommandTable, NotACommand, Parsed, UnknownCommand
from bot.errors import UserError
from bot.i18n import Text
from bot.router import Arg, Router

router = Router("t")
L = Text


@router.command(
    "story",
    aliases=["故事"],
    help=L("投稿", "submit"),
    style="pipe",
    args=[
        Arg("title", L("标题", "title"), max_len=40),
        Arg("body", L("正文", "body"), max_len=2000),
    ],
)
async def story(ctx: object, title: str, body: str) -> None: ...


@router.command(
    "like",
    aliases=["赞"],
    help=L("点赞", "like"),
    args=[Arg("id", L("编号", "id"), kind="int", low=1)],
)
async def like(ctx: object, id: int) -> None: ...


@router.command(
    "event new",
    aliases=["活动 新建"],
    help=L("新建活动", "new event"),
    style="pipe",
    admin=True,
    args=[
        Arg("title", L("标题", "title")),
        Arg("starts", L("时间", "time"), kind="datetime"),
        Arg("hours", L("时长", "hours"), kind="float", low=0.5, high=24),
        Arg("place", L("地点", "place")),
        Arg("seats", L("名额", "seats"), kind="int", low=1, high=10000),
    ],
)
async def event_new(
    ctx: object, title: str, starts: datetime, hours: float, place: str, seats: int
) -> None: ...


@router.command("event", aliases=["活动"], help=L("活动列表", "events"))
async def events(ctx: object) -> None: ...


@router.command(
    "event done",
    help=L("结束活动", "close"),
    admin=True,
    args=[
        Arg("id", L("编号", "id"), kind="int"),
        Arg("absent", L("缺席", "absent"), kind="many", optional=True),
    ],
)
async def event_done(ctx: object, id: int, absent: list[str]) -> None: ...


@router.command(
    "reject",
    help=L("驳回", "reject"),
    args=[
        Arg("id", L("编号", "id"), kind="int"),
        Arg("reason", L("理由", "reason"), kind="rest", optional=True),
    ],
)
async def reject(ctx: object, id: int, reason: str | None) -> None: ...


@router.command(
    "stories",
    help=L("榜单", "top"),
    args=[Arg("scope", L("范围", "scope"), kind="choice", choices=("week", "all"), optional=True)],
)
async def stories(ctx: object, scope: str | None) -> None: ...


table = CommandTable(router)


def parsed(text: str) -> Parsed:
    result = table.resolve(text)
    assert isinstance(result, Parsed), result
    return result


def test_pipe_arguments_with_full_width_slash_and_bar() -> None:
    p = parsed("／故事 我的第一天 ｜ 同事们帮我搬家 | 还请我吃饭")
    assert p.route.spec.name == "story" and p.lang == "zh"
    assert p.kwargs == {"title": "我的第一天", "body": "同事们帮我搬家 | 还请我吃饭"}


def test_english_name_means_english_replies() -> None:
    assert parsed("/STORY a | b").lang == "en"


def test_two_word_commands_win_over_one_word() -> None:
    p = parsed("/活动 新建 植树 | 2030-03-12 09:00 | 3 | 公园 | 20")
    assert p.route.spec.name == "event new"
    assert p.kwargs["starts"] == datetime(2030, 3, 12, 9, 0)
    assert p.kwargs["hours"] == 3.0 and p.kwargs["seats"] == 20
    assert parsed("/活动").route.spec.name == "event"


def test_many_and_rest_arguments() -> None:
    assert parsed("/event done 4 u1 u2").kwargs == {"id": 4, "absent": ["u1", "u2"]}
    assert parsed("/event done 4").kwargs == {"id": 4, "absent": []}
    assert parsed("/reject 3 not a true story").kwargs == {"id": 3, "reason": "not a true story"}
    assert parsed("/reject 3").kwargs == {"id": 3, "reason": None}


def test_full_width_digits_and_choices_are_folded() -> None:
    assert parsed("/赞 １２").kwargs == {"id": 12}
    assert parsed("/stories WEEK").kwargs == {"scope": "week"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("/故事 只有标题", "缺少「正文」"),
        ("/story " + "长" * 41 + " | body", "at most 40"),
        ("/赞 abc", "应为整数"),
        ("/like 0", "at least 1"),
        ("/like 1 2", "Unexpected extra"),
        ("/活动 新建 植树 | 明天 | 3 | 公园 | 20", "2026-12-05 18:30"),
        ("/event new a | 2030-01-01 10:00 | 3 | p | many", "whole number"),
        ("/stories month", "week / all"),
    ],
)
def test_bad_arguments_name_the_right_form(text: str, needle: str) -> None:
    with pytest.raises(UserError) as info:
        table.resolve(text)
    message = info.value.text.zh
    assert needle in message
    assert "用法" in message or "Usage" in message


def test_not_commands() -> None:
    assert isinstance(table.resolve("你好"), NotACommand)
    assert isinstance(table.resolve("/zzz"), UnknownCommand)
    assert isinstance(table.resolve("/"), UnknownCommand)
    assert table.resolve("hello").lang == "en"  # type: ignore[union-attr]


def test_registration_checks_the_handler_signature() -> None:
    r = Router("bad")
    with pytest.raises(TypeError):

        @r.command("x", help=L("x", "x"), args=[Arg("id", L("i", "i"), kind="int")])
        async def wrong(ctx: object, other: int) -> None: ...


def test_duplicate_names_are_refused() -> None:
    r = Router("dup")

    @r.command("a", aliases=["b"], help=L("x", "x"))
    async def a(ctx: object) -> None: ...

    @r.command("b", help=L("x", "x"))
    async def b(ctx: object) -> None: ...

    with pytest.raises(ValueError):
        CommandTable(r)


member_text = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda cmd, rest: f"{cmd} {rest}",
        st.sampled_from(
            [
                "/story",
                "/故事",
                "／赞",
                "/like",
                "/event new",
                "/活动 新建",
                "/event done",
                "/reject",
                "/stories",
                "/",
                "／",
            ]
        ),
        st.text(alphabet=st.characters(), max_size=200),
    ),
)


@settings(max_examples=1500, deadline=None)
@given(member_text)
def test_any_text_resolves_or_raises_a_user_error(text: str) -> None:
    try:
        result = table.resolve(text)
    except UserError as exc:
        assert exc.text.zh and exc.text.en
        return
    assert isinstance(result, Parsed | NotACommand | UnknownCommand)
