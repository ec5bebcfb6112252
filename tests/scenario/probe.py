"""A small router the runtime tests plug in through ``Application(routers=…)``.

It exercises the runtime's own mechanisms (cards and clicks, errors, the admin check,
savepoints) without depending on any feature module.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import ClickContext, MessageContext
from bot.errors import UserError
from bot.i18n import Text
from bot.replies import CardReply, CardResponse, CardUpdate, TextReply, ToGroup, ToMembers
from bot.router import Arg, Router

router = Router("probe")


@router.command(
    "probe",
    help=Text("测试", "test probe"),
    args=[
        Arg(
            "what",
            Text("动作", "what"),
            kind="choice",
            choices=("card", "boom", "fail", "mention", "long", "members", "group"),
        )
    ],
    hidden=True,
    needs_group=False,  # probes the chat it is sent in, one to one too
)
async def probe(ctx: MessageContext, what: str) -> object:
    if what == "mention":  # the same mention as a reply and as a group post
        return [
            TextReply(content="轮到你了", at_staff_ids=["bob"]),
            TextReply(
                content="轮到你了",
                at_staff_ids=["bob"],
                to=ToGroup(conversation_id=ctx.conversation.id),
            ),
        ]
    if what == "long":  # a roster far over the 15,000-byte msgParam limit
        lines = [f"{i:04d} 号志愿者：张三李四王五赵六（负责签到与引导）" for i in range(1, 1201)]
        return TextReply(content="\n".join(lines), to=ToGroup(conversation_id=ctx.conversation.id))
    if what == "members":
        return TextReply(content="活动提醒", to=ToMembers(staff_ids=["u1", "u2", "u3", "u4"]))
    if what == "group":
        return TextReply(content="群公告", to=ToGroup(conversation_id=ctx.conversation.id))
    if what == "card":
        return CardReply(
            kind="probe",
            entity_id="7",
            template_id="tpl-probe",
            title="probe",
            data={"presses": "0"},
            fallback_markdown="probe card",
        )
    if what == "boom":
        raise RuntimeError("the probe exploded")
    ctx.reply("this reply must be rolled back")
    await ctx.repos.cards.remember(
        out_track_id="half-written", conversation_id="x", kind="probe", entity_id="1", now=ctx.now
    )
    raise UserError(Text("探针失败", "probe failed on purpose"))


@router.command("secret", help=Text("管理员测试", "admin probe"), admin=True, hidden=True)
async def secret(ctx: MessageContext) -> str:
    return "admin ok"


@router.action("press")
async def press(ctx: ClickContext) -> CardResponse:
    ctx.reply(TextReply(content=f"pressed by {ctx.member.staff_id}"))
    ctx.reply(CardUpdate(out_track_id=ctx.click.out_track_id, data={"last": ctx.member.staff_id}))
    return CardResponse(
        card_data={"presses": "1", "last": ctx.member.staff_id},
        private_data={"message": "你按下了"},
    )


@router.action("guarded", admin=True)
async def guarded(ctx: ClickContext) -> CardResponse:
    return CardResponse(card_data={"guarded": "yes"})


RUNS: list[list[str]] = []  # who was in each run the "tally" button saw, in order


@router.batch_action("tally")
async def tally(ctxs: Sequence[ClickContext]) -> list[CardResponse | UserError]:
    """Handles clicks arriving together: ``nope`` is refused alone, ``boom`` spoils its run."""
    members = [ctx.member.staff_id for ctx in ctxs if ctx.member is not None]
    RUNS.append(members)
    if "boom" in members:
        raise RuntimeError("the tally exploded")
    answers: list[CardResponse | UserError] = []
    for ctx, member in zip(ctxs, members, strict=True):
        if member == "nope":
            answers.append(UserError(Text("不许点", "not you")))
            continue
        ctx.reply(TextReply(content=f"tallied {member}"))
        answers.append(CardResponse(private_data={"message": f"run of {len(ctxs)}"}))
    return answers
