"""``/反馈`` (``/feedback``) and ``/回复`` (``/reply``): a member's feedback reaches the admins
one to one, with a number; the admin's answer reaches the member one to one."""

from __future__ import annotations

from datetime import timedelta

from bot import people, safety
from bot.context import Context, MessageContext
from bot.errors import UserError
from bot.i18n import Lang
from bot.replies import Reply, TextReply, ToMembers
from bot.router import Arg, Router
from handlers.feedback.texts import T
from storage.feedback import FeedbackRepo

router = Router("feedback.commands")

MAX_LEN = 500  # characters of one feedback or answer: a message, not an essay
# A member may send a few in a row (a thought and its correction), not a flood: each one
# lands in every admin's one-to-one chat.
PER_HOUR = 3
PER_DAY = 10


def admins_of(ctx: Context, group_admins: list[str]) -> list[str]:
    """Who answers feedback: the config's admins, plus the group's flagged admins where the
    config trusts DingTalk's flag (the same people the admin check lets in)."""
    trusted = group_admins if ctx.settings.admins.trust_dingtalk_admin else []
    return sorted(set(ctx.settings.admins.staff_ids) | set(trusted))


@router.command(
    "feedback",
    aliases=["反馈"],
    help=T.help_feedback,
    args=[Arg("text", T.content, kind="rest")],
)
async def feedback(ctx: MessageContext, text: str) -> list[Reply]:
    """Record the feedback and send it to the admins one to one, with its number."""
    if len(text) > MAX_LEN:
        raise UserError(T.too_long, limit=MAX_LEN, length=len(text))
    repo = FeedbackRepo(ctx.session)
    group, me = ctx.conversation.id, ctx.member.staff_id
    hour = await repo.count_since(group, me, ctx.now - timedelta(hours=1))
    if hour >= PER_HOUR:
        raise UserError(T.too_many, n=hour)
    day = await repo.count_since(group, me, ctx.now - timedelta(days=1))
    if day >= PER_DAY:
        raise UserError(T.too_many_day, n=day)
    item = await repo.add(group, me, ctx.member.nick, ctx.lang, text, ctx.now)
    admins = [
        a for a in admins_of(ctx, list(await ctx.repos.members.flagged_admins(group))) if a != me
    ]
    if not admins:
        return [TextReply(content=ctx.t(T.received_no_admin, id=item.id))]
    name = (await people.names(ctx, group, [me], {me: ctx.member.nick}))[me]
    title = safety.plain(await ctx.repos.members.title(group)) or ctx.t(T.this_group)
    notice = ctx.t(T.to_admins, group=title, name=name, id=item.id, text=safety.plain(text))
    return [
        TextReply(content=ctx.t(T.received, id=item.id)),
        TextReply(content=notice, to=ToMembers(staff_ids=admins)),
    ]


@router.command(
    "reply",
    aliases=["回复"],
    help=T.help_reply,
    admin=True,
    args=[Arg("id", T.feedback_id, kind="int", low=1), Arg("text", T.content, kind="rest")],
)
async def reply(ctx: MessageContext, id: int, text: str) -> list[Reply]:
    """Answer a feedback: the member is told one to one, in the language they wrote in."""
    if len(text) > MAX_LEN:
        raise UserError(T.too_long, limit=MAX_LEN, length=len(text))
    repo = FeedbackRepo(ctx.session)
    item = await repo.get(ctx.conversation.id, id)
    if item is None:
        raise UserError(T.unknown, id=id)
    await repo.answer(item.id, text, ctx.member.staff_id, ctx.now)
    ctx.audit_detail = f"{item.id} {people.ref(item.staff_id)}"
    lang: Lang = "en" if item.lang == "en" else "zh"
    told = T.answer_to_member.render(
        lang, id=item.id, answer=safety.plain(text), text=safety.plain(item.text[:200])
    )
    name = (
        await people.names(ctx, ctx.conversation.id, [item.staff_id], {item.staff_id: item.nick})
    )[item.staff_id]
    return [
        TextReply(content=ctx.t(T.answered, id=item.id, name=name)),
        TextReply(content=told, to=ToMembers(staff_ids=[item.staff_id])),
    ]
