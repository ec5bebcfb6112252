"""What the skills feature stores about a member (for /我的数据 and /删除我的数据)."""

from __future__ import annotations

from bot import safety
from bot.context import Context
from bot.i18n import Text, number
from bot.replies import TextReply, ToMembers
from bot.router import PrivacySection, Router
from handlers.skills.texts import T, status_word

router = Router("skills.privacy", module="skills")
POST_ITEM = Text("#{id}「{skill}」", "#{id} '{skill}'")


async def _my_posts(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    posts = await ctx.repos.skills.of_member(conversation_id, staff_id)
    return len(posts), [ctx.t(POST_ITEM, id=p.id, skill=safety.plain(p.skill)) for p in posts[:3]]


async def _erase_posts(ctx: Context, conversation_id: str, staff_id: str) -> int:
    for post in await ctx.repos.skills.of_member(conversation_id, staff_id):
        for pending in await ctx.repos.swaps.pending_on_post(post.id):
            if await ctx.repos.swaps.move(pending, ("proposed",), "cancelled", ctx.now):
                ctx.reply(
                    TextReply(
                        content=ctx.t(T.proposal_cancelled, post=post.id),
                        to=ToMembers(staff_ids=[pending.proposer]),
                    )
                )
    return await ctx.repos.skills.erase(conversation_id, staff_id)


async def _my_swaps(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    swaps = await ctx.repos.swaps.of_member(conversation_id, staff_id)
    return len(swaps), [f"#{s.id} {status_word(ctx, s.status)}" for s in swaps[:3]]


async def _erase_swaps(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.swaps.erase(conversation_id, staff_id)


async def _my_credits(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    entries = await ctx.repos.ledger.history(conversation_id, staff_id, limit=1000)
    balance = await ctx.repos.ledger.balance(conversation_id, staff_id)
    return len(entries), ([number(balance)] if entries else [])


async def _anonymise_credits(ctx: Context, conversation_id: str, staff_id: str) -> int:
    return await ctx.repos.ledger.anonymise(conversation_id, staff_id)


router.privacy_section(
    PrivacySection("skill_posts", T.posts_title, _my_posts, _erase_posts, order=50)
)
router.privacy_section(PrivacySection("swaps", T.swaps_title, _my_swaps, _erase_swaps, order=55))
router.privacy_section(
    PrivacySection(
        "credits", T.credits_title, _my_credits, _anonymise_credits, order=60, kept=T.credits_kept
    )
)
