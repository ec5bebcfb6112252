"""Every reply in one language (issue 18), and the natural forms through the real path.

A generated run of every command of the command table, once in Chinese (Chinese aliases,
Chinese words for every argument, a Chinese group and Chinese names) and once in English,
through the real SDK and the stand-in. Every message the bot delivers is scanned: no Python
repr (``['``, ``{'``, ``None``, ``True``), no raw staff id, no English word in a Chinese reply,
no Chinese character or punctuation in an English one.
"""

from __future__ import annotations

import re

from bot.args import Arg, CommandSpec
from bot.groups import ENTITY_OF
from bot.i18n import Lang, has_cjk
from bot.sandbox.standin import Sent, StandIn
from tests.conftest import BotFactory
from tests.scenario.test_stories import MESSAGE_ROUTES, say, start
from tests.unit.test_arg_forms import SPECS

ADMIN = "stf9k2admin"
MEMBER = "stf7q4member"
IDS = (ADMIN, MEMBER)
NICKS: dict[Lang, dict[str, str]] = {
    "zh": {ADMIN: "王管理", MEMBER: "林小雨"},
    "en": {ADMIN: "Grace", MEMBER: "Henry"},
}
GROUPS: dict[Lang, tuple[str, str]] = {
    "zh": ("cid-group-zh", "社区群"),
    "en": ("cid-group-en", "Garden Club"),
}
SAMPLES: dict[Lang, dict[str, str]] = {
    "zh": {"hours": "2小时", "time": "下午6点半", "datetime": "12月5日 下午6点半", "float": "2"},
    "en": {"hours": "2h", "time": "6:30pm", "datetime": "2030-12-05 18:30", "float": "2"},
}
TEXT: dict[Lang, str] = {"zh": "周末一起种树", "en": "planting trees"}
REPR = re.compile(r"\[['\"]|\{['\"]|['\"]\]|\bNone\b|\bTrue\b|\bFalse\b|\w=\[|\w=\{|\\n")
CJK_PUNCT = re.compile(r"[，。：；！？「」『』（）【】、《》　]")
# Latin a Chinese reply may hold: the English names of commands are never shown in Chinese,
# so only units of the formats people type and the platform's own name.
ZH_LATIN_OK: set[str] = set()


def sample(arg: Arg, lang: Lang, ids: dict[str, int]) -> str | None:
    if arg.kind == "int":
        return str(ids.get(arg.name, 1))
    if arg.kind == "choice":
        return arg.all_options()[0].shown(lang)
    if arg.kind in SAMPLES[lang]:
        return SAMPLES[lang][arg.kind]
    if arg.name in ("staff",):
        return NICKS[lang][MEMBER]
    if arg.kind == "many":
        return NICKS[lang][MEMBER]
    return TEXT[lang]


def command(spec: CommandSpec, lang: Lang, ids: dict[str, int]) -> str:
    name = next(a for a in spec.aliases if has_cjk(a)) if lang == "zh" else spec.name
    kind = ENTITY_OF.get(spec.name, "story")
    values = [sample(a, lang, {"id": ids.get(kind, 1)}) for a in spec.args]
    if spec.name in ("story", "event new"):
        values = {
            "story": [TEXT[lang], TEXT[lang] + "!"],
            "event new": [TEXT[lang], SAMPLES[lang]["datetime"], "2", "park", "5"],
        }[spec.name]
        if lang == "zh":
            values = [*values[:3], "公园", *values[4:]] if spec.name == "event new" else values
    sep = " | " if spec.style == "pipe" else " "
    return f"/{name} {sep.join(v for v in values if v is not None)}".strip()


async def run_everything(standin: StandIn, lang: Lang) -> list[Sent]:
    conversation, title = GROUPS[lang]
    before = len(standin.sent)

    async def as_(who: str, text: str) -> Sent:
        return await say(
            standin, text, sender=who, nick=NICKS[lang][who], conversation=conversation, title=title
        )

    await as_(MEMBER, "/帮助" if lang == "zh" else "/help")
    ids: dict[str, int] = {}
    made = await as_(MEMBER, command(next(s for s in SPECS if s.name == "story"), lang, ids))
    ids["story"] = int(re.search(r"#(\d+)", made.text).group(1))  # type: ignore[union-attr]
    made = await as_(ADMIN, command(next(s for s in SPECS if s.name == "event new"), lang, ids))
    ids["event"] = int(re.search(r"#(\d+)", made.text).group(1))  # type: ignore[union-attr]
    for spec in SPECS:
        if spec.name in ("story", "event new", "forget"):
            continue
        await as_(ADMIN if spec.admin else MEMBER, command(spec, lang, ids))
    for spec in SPECS:
        name = next(a for a in spec.aliases if has_cjk(a)) if lang == "zh" else spec.name
        await as_(ADMIN, ("/帮助 " if lang == "zh" else "/help ") + name)
    await as_(MEMBER, "/删除我的数据" if lang == "zh" else "/forget")
    await as_(MEMBER, "/帮助" if lang == "zh" else "/help")
    return [s for s in standin.sent[before:] if s.route in MESSAGE_ROUTES]


# A command's other-language name is shown on purpose ("/帮助 审核": "也可以写作：/review,
# /审核"): a name, not a fragment of a sentence. Nothing else in the other language is.
NAMES = sorted(
    {name for spec in SPECS for name in (spec.name, *spec.aliases)}, key=len, reverse=True
)


def without_command_names(text: str) -> str:
    for name in NAMES:
        text = re.sub(rf"/{re.escape(name)}(?!\w)", "/", text)
    return text


def problems(sent: list[Sent], lang: Lang) -> list[str]:
    found = []
    for s in sent:
        text = without_command_names(s.text)
        for staff_id in IDS:
            if staff_id in s.text and staff_id not in s.at_ids:
                found.append(f"staff id {staff_id}: {text!r}")
        if REPR.search(text):
            found.append(f"repr {REPR.search(text).group(0)!r}: {text!r}")  # type: ignore[union-attr]
        if lang == "zh":
            latin = {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in ZH_LATIN_OK}
            if latin:
                found.append(f"English {sorted(latin)} in Chinese: {text!r}")
        else:
            if has_cjk(text) or CJK_PUNCT.search(text):
                found.append(f"Chinese in English: {text!r}")
    return found


async def test_every_reply_of_every_command_is_in_one_language(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start(start_bot, admins={"staff_ids": [ADMIN]})
    for lang in ("zh", "en"):
        sent = await run_everything(standin, lang)  # type: ignore[arg-type]
        assert len(sent) >= len(SPECS)
        found = problems(sent, lang)  # type: ignore[arg-type]
        assert not found, "\n".join(found)


async def test_natural_forms_through_the_real_path(standin: StandIn, start_bot: BotFactory) -> None:
    await start(start_bot, admins={"staff_ids": ["admin1"]})
    sent = await say(standin, "帮助", sender="alice")
    assert "/故事" in sent.text and "/反馈" in sent.text
    sent = await say(standin, "/周报 时间 星期三 下午6点半", sender="admin1")
    assert sent.text == "本群周报时间改为每周三 18:30。"
    sent = await say(standin, "/digest schedule Wed 6:30pm", sender="admin1")
    assert sent.text == "This group's digest now goes out every Wed at 18:30."
    sent = await say(standin, "/周报 状态", sender="admin1")
    assert sent.text.startswith("本群周报：开，每周三 18:30 发布；下一期 ")
    await say(standin, "/周报 关", sender="admin1")
    sent = await say(standin, "/周报 状态", sender="admin1")
    assert sent.text.startswith("本群周报：关（时间设为每周三 18:30）")
    sent = await say(standin, "/模块 故事 关", sender="admin1")
    assert sent.text == "本群已关闭「故事」。"
    sent = await say(standin, "/模块", sender="admin1")
    assert "· 故事：关" in sent.text and "· 技能交换（技能）：开" in sent.text
    assert "/模块 周报 关" in sent.text
    sent = await say(standin, "/modules", sender="admin1")
    assert "- stories: off" in sent.text and "- skill swaps (skills): on" in sent.text
    sent = await say(standin, "/模块 volunteers 关闭", sender="admin1")
    assert sent.text == "本群已关闭「志愿活动」。"
    sent = await say(standin, "/审计", sender="admin1")
    assert "/模块 故事 关" in sent.text and "/模块 志愿 关" in sent.text, sent.text
    sent = await say(standin, "/审核 也许", sender="admin1")
    assert "/审核 开" in sent.text and "/审核 关" in sent.text
    sent = await say(standin, "/模块 天气 开", sender="admin1")
    assert "「模块」只能是 故事 / 技能 / 志愿 / 周报" in sent.text
    assert "/模块 [故事|技能|志愿|周报] [开|关]" in sent.text
    await say(standin, "/模块 故事 开", sender="admin1")
    sent = await say(standin, "/故事榜 全部", sender="alice")
    assert "故事榜" in sent.text or "还没有" in sent.text
    sent = await say(standin, "／故事榜　ＡＬＬ", sender="alice")
    assert "「范围」" not in sent.text
