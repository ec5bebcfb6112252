"""Every argument of every command accepts its Chinese and English forms (issue 18).

Generated from the real command table, not hand-copied: for each command, by its Chinese
alias and its English name, each argument gets a value in a form people type (the Chinese
word the help shows, its English alias, full-width digits, ``#12``, ``2小时``, ``6:30pm``,
``下午6点半``…), and the parsed value must be the one the handler expects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.args import Arg, CommandSpec
from bot.commands import CommandTable, NotACommand, Parsed
from bot.errors import UserError
from bot.i18n import Lang, has_cjk
from bot.router import Router
from handlers import default_routers

TODAY = date(2026, 11, 30)


def table() -> CommandTable:
    root = Router("all")
    for router in default_routers():
        root.include_router(router)
    return CommandTable(root)


TABLE = table()
SPECS = [route.spec for route in TABLE.routes if not route.spec.hidden]


def wide(text: str) -> str:
    """Full-width ASCII, as a Chinese input method types it."""
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def maybe_wide(draw: st.DrawFn, text: str) -> str:
    return wide(text) if draw(st.booleans()) else text


@st.composite
def int_form(draw: st.DrawFn, arg: Arg) -> tuple[str, Any]:
    low = int(arg.low) if arg.low is not None else 0
    high = int(arg.high) if arg.high is not None else 10**6
    n = draw(st.integers(low, high))
    shape = draw(st.sampled_from(["{n}", "#{n}", "{n}号", "＃{n}"]))
    return maybe_wide(draw, shape.format(n=n)), n


HOUR_FORMS: dict[Lang, list[tuple[str, float]]] = {
    "zh": [
        ("2", 2),
        ("2小时", 2),
        ("1.5小时", 1.5),
        ("两个半小时", 2.5),
        ("90分钟", 1.5),
        ("半小时", 0.5),
        ("3个小时", 3),
        ("２小时", 2),
    ],
    "en": [
        ("2", 2),
        ("2h", 2),
        ("1.5h", 1.5),
        ("2 hours", 2),
        ("90m", 1.5),
        ("3 hrs", 3),
        ("90 minutes", 1.5),
    ],
}
TIME_FORMS: dict[Lang, list[tuple[str, str]]] = {
    "zh": [
        ("8:05", "08:05"),
        ("08:05", "08:05"),
        ("18:30", "18:30"),
        ("8：05", "08:05"),
        ("下午6点半", "18:30"),
        ("晚上7点", "19:00"),
        ("早上8点05", "08:05"),
        ("１８：３０", "18:30"),
        ("下午 6点半", "18:30"),
    ],
    "en": [
        ("8:05", "08:05"),
        ("08:05", "08:05"),
        ("18:30", "18:30"),
        ("6:30pm", "18:30"),
        ("6pm", "18:00"),
        ("6:30 pm", "18:30"),
        ("11am", "11:00"),
    ],
}
DATETIME_FORMS: dict[Lang, list[tuple[str, datetime]]] = {
    "zh": [
        ("2026-12-05 18:30", datetime(2026, 12, 5, 18, 30)),
        ("12月5日 下午6点半", datetime(2026, 12, 5, 18, 30)),
        ("2026年12月5日 9点", datetime(2026, 12, 5, 9, 0)),
        ("周三 19:00", datetime(2026, 12, 2, 19, 0)),
        ("星期三 晚上7点", datetime(2026, 12, 2, 19, 0)),
        ("明天 9点半", datetime(2026, 12, 1, 9, 30)),
    ],
    "en": [
        ("2026-12-05 18:30", datetime(2026, 12, 5, 18, 30)),
        ("12/5 6:30pm", datetime(2026, 12, 5, 18, 30)),
        ("wed 7pm", datetime(2026, 12, 2, 19, 0)),
        ("tomorrow 9:30", datetime(2026, 12, 1, 9, 30)),
    ],
}
WORD = st.text(alphabet=st.sampled_from("abcxyz故事活动林小雨123"), min_size=1, max_size=8)


@st.composite
def value_for(draw: st.DrawFn, arg: Arg, lang: Lang, last: bool) -> tuple[str, Any]:
    """A typed form of ``arg`` in ``lang`` and the value the handler must receive."""
    if arg.kind == "int":
        return draw(int_form(arg))
    if arg.kind == "hours":
        typed, hours = draw(st.sampled_from(HOUR_FORMS[lang]))
        if arg.low is not None and hours < arg.low:
            hours = arg.low
            typed = str(hours)
        return typed, float(hours)
    if arg.kind == "float":
        n = draw(st.integers(int(arg.low or 0), int(arg.high or 100)))
        return maybe_wide(draw, str(n)), float(n)
    if arg.kind == "time":
        return draw(st.sampled_from(TIME_FORMS[lang]))
    if arg.kind == "datetime":
        return draw(st.sampled_from(DATETIME_FORMS[lang]))
    if arg.kind == "choice":
        option = draw(st.sampled_from(arg.all_options()))
        words = [w for w in option.words if has_cjk(w) == (lang == "zh")] or list(option.words)
        word = draw(st.sampled_from(words))
        # The word the help shows must be among them, in the help's language.
        assert option.shown(lang) in option.words
        typed = word.upper() if draw(st.booleans()) else word
        return maybe_wide(draw, typed), option.value
    if arg.kind == "many":
        words = draw(st.lists(WORD, min_size=1, max_size=3))
        return " ".join(words), words
    if arg.kind in ("str", "rest"):
        limit = arg.max_len or 40
        text = draw(WORD)[:limit]
        if arg.kind == "rest" and last and draw(st.booleans()):
            text = f"{text} {text}"[:limit].strip()
        return text, text
    raise AssertionError(f"no forms known for argument kind {arg.kind!r}: add them here")


def names(spec: CommandSpec) -> dict[Lang, str]:
    zh = next((a for a in spec.aliases if has_cjk(a)), None)
    assert zh is not None, f"/{spec.name} has no Chinese alias"
    return {"zh": zh, "en": spec.name}


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(data=st.data(), lang=st.sampled_from(["zh", "en"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_argument_takes_its_chinese_and_english_forms(
    spec: CommandSpec, data: st.DataObject, lang: Lang
) -> None:
    name = names(spec)[lang]
    typed: list[str] = []
    expected: dict[str, Any] = {}
    for i, arg in enumerate(spec.args):
        last = i == len(spec.args) - 1
        if arg.optional and data.draw(st.booleans()) and all(a.optional for a in spec.args[i:]):
            for rest in spec.args[i:]:
                expected[rest.name] = [] if rest.kind == "many" else None
            break
        text, value = data.draw(value_for(arg, lang, last))
        typed.append(text)
        expected[arg.name] = value
    sep = " | " if spec.style == "pipe" else " "
    text = f"/{name} {sep.join(typed)}".strip()
    if data.draw(st.booleans()):
        text = "／" + text[1:]
    parsed = TABLE.resolve(text, TODAY)
    assert isinstance(parsed, Parsed), text
    assert parsed.lang == lang
    if parsed.route.spec is not spec:
        # "/审核 开" is also the two-word command of that name, which does the same.
        assert parsed.used_name.split()[0] == name.split()[0], (text, parsed.used_name)
        assert len(parsed.used_name.split()) == 2 and not parsed.route.spec.args, text
        return
    assert parsed.kwargs == expected, text


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_help_shows_the_forms_it_takes(spec: CommandSpec) -> None:
    """The Chinese usage line shows Chinese words, the English one English words."""
    for arg in spec.args:
        if arg.kind == "choice":
            for option in arg.all_options():
                assert has_cjk(option.shown("zh")) or not any(has_cjk(w) for w in option.words)
                assert not has_cjk(option.shown("en")) or all(has_cjk(w) for w in option.words)
    assert not has_cjk(spec.usage("en")), spec.usage("en")


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("帮助", "help", {"command": None}),
        ("help", "help", {"command": None}),
        ("帮助 故事", "help", {"command": "故事"}),
        ("HELP stories", "help", {"command": "stories"}),
    ],
)
def test_help_without_the_slash(text: str, name: str, args: dict[str, Any]) -> None:
    parsed = TABLE.resolve(text, TODAY)
    assert isinstance(parsed, Parsed) and parsed.route.spec.name == name
    assert parsed.kwargs == args


def test_other_words_without_the_slash_are_not_commands() -> None:
    for text in ("故事 很好", "活动", "你好", "helpful", "帮助我"):
        assert isinstance(TABLE.resolve(text, TODAY), NotACommand), text


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("/审核 也许", ["/审核 [开|关]", "/审核 开", "/审核 关"]),
        ("/周报 随便", ["/周报 时间 <", "/周报 状态", "/周报 开", "/周报 关", "/周报 立即"]),
        ("/review maybe", ["/review [on|off]", "/review on", "/review off"]),
        ("/推荐 什么", ["/推荐 订阅", "/推荐 退订"]),
    ],
)
def test_a_usage_line_names_the_subcommands_that_exist(text: str, needles: list[str]) -> None:
    with pytest.raises(UserError) as info:
        TABLE.resolve(text, TODAY)
    for needle in needles:
        assert needle in info.value.text.zh, (needle, info.value.text.zh)


def test_a_members_usage_line_does_not_list_admin_subcommands() -> None:
    with pytest.raises(UserError) as info:
        TABLE.resolve("/活动 看看", TODAY)
    message = info.value.text.zh
    assert "/活动" in message and "/活动 新建" not in message
