"""Skill swaps and time credits ("技能交换")."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import ClassVar

from bot import people, safety
from bot.context import Context
from bot.errors import UserError
from bot.i18n import Text, number
from bot.replies import CardButton, CardReply, CardResponse, CardUpdate, Reply, TextReply, ToMembers
from bot.router import Arg, PrivacySection, Router
from handlers.skill_match import (
    Match,
    Post,
    containing_terms,
    index_terms,
    keyword_terms,
    keywords,
    normalise,
    rank,
    score,
    substrings,
)
from storage.models import SkillPost, Swap
from storage.skills import LedgerConflict, SkillRepo

router = Router("skills", module="skills")

RECENT = timedelta(days=30)


class T:
    """Every text of skill swaps."""

    skill = Text("技能", "skill")
    detail = Text("说明", "detail")
    keyword = Text("关键词", "keyword")
    post_id = Text("编号", "post id")
    swap_id = Text("交换编号", "swap id")
    hours = Text("小时数", "hours")
    help_offer = Text("我会：发布可以教别人的技能", "offer a skill you can teach")
    help_want = Text("我想学：发布想学的技能", "ask for a skill you want to learn")
    help_skills = Text("浏览本群的技能（可按关键词）", "browse offers and wants here")
    help_withdraw = Text("撤回自己的技能帖", "withdraw your own post")
    help_match = Text("找最合适的交换搭档", "your best swap partners")
    help_swap = Text("向某个技能帖的发布者提出交换", "propose a swap to a post's author")
    help_accept = Text("接受交换", "accept a swap")
    help_decline = Text("拒绝交换", "decline a swap")
    help_done = Text(
        "记录完成的交换和小时数（对方确认后计入时间币）",
        "record a finished swap (the other side confirms)",
    )
    help_confirm = Text("确认对方记录的交换", "confirm a swap the other side recorded")
    help_credits = Text("我的时间币余额和记录", "my time-credit balance and history")
    kind_offer = Text("会", "offers")
    kind_want = Text("想学", "wants")
    no_words = Text(
        "技能名称需要包含文字。用法：/我会 技能 | 说明",
        "A skill needs some words. Usage: /offer <skill> | <detail>",
    )
    posted = Text("已发布 #{id}：你{kind}「{skill}」。", "Posted #{id}: you {kind} '{skill}'.")
    matches_header = Text("可能的搭档：", "Possible partners:")
    match_line = Text(
        "#{id} {who} {kind}「{skill}」（匹配度 {pct}%）— 发送 /交换 {id}",
        "#{id} {who} {kind} '{skill}' ({pct}% match): send /swap {id}",
    )
    no_matches = Text(
        "暂时没有匹配的人，有人发布相关技能时用 /匹配 看看。", "No match yet; try /match later."
    )
    skills_header = Text("本群的技能：", "Skills here:")
    skills_line = Text(
        "#{id} {who} {kind}「{skill}」{detail}", "#{id} {who} {kind} '{skill}'{detail}"
    )
    skills_empty = Text(
        "还没有技能帖。用 /我会 或 /我想学 发布一个吧！", "No skill posts yet. Try /offer or /want!"
    )
    unknown_post = Text(
        "本群没有编号为 {id} 的技能帖。", "There is no skill post #{id} in this group."
    )
    not_yours = Text("只能撤回自己的技能帖。", "You can only withdraw your own posts.")
    withdrawn = Text("已撤回 #{id}。{cancelled}", "Withdrew #{id}. {cancelled}")
    cancelled_note = Text("{n} 个待回复的交换请求已取消。", "{n} pending proposals were cancelled.")
    proposal_cancelled = Text(
        "你对 #{post} 的交换请求已取消：对方撤回了技能帖。",
        "Your proposal on #{post} was cancelled: the post was withdrawn.",
    )
    match_header = Text("你的最佳搭档（双向匹配优先）：", "Your best partners (two-way first):")
    match_two_way = Text("双向", "two-way")
    match_one_way = Text("单向", "one-way")
    match_recent = Text("，最近交换过", ", swapped recently")
    match_entry = Text(
        "{i}. {who}（{kind}，得分 {score}{recent}）：{why}",
        "{i}. {who} ({kind}, score {score}{recent}): {why}",
    )
    why_they = Text(
        "TA 会「{theirs}」，你想学「{mine}」", "they offer '{theirs}', you want '{mine}'"
    )
    why_me = Text("你会「{mine}」，TA 想学「{theirs}」", "you offer '{mine}', they want '{theirs}'")
    no_partners = Text(
        "还没有匹配的搭档。先用 /我会 和 /我想学 发布技能吧。",
        "No partners yet. Post with /offer and /want first.",
    )
    self_swap = Text("不能和自己交换哦。", "You can't swap with yourself.")
    closed_post = Text("技能帖 #{id} 已撤回。", "Post #{id} was withdrawn.")
    partner_banned = Text(
        "暂时无法和这位成员交换。", "A swap with this member is not possible for now."
    )
    already_proposed = Text(
        "你已经对 #{post} 提出过交换（#{id}，{status}）。",
        "You already proposed on #{post} (#{id}, {status}).",
    )
    proposed = Text(
        "{partner}，{proposer} 想和你交换「{skill}」（#{id}）。发送 /交换 接受 {id} 或 /交换 拒绝 {id}",
        "{partner}, {proposer} would like to swap '{skill}' with you (#{id}). Send /swap accept {id} or /swap decline {id}",
    )
    unknown_swap = Text("本群没有编号为 {id} 的交换。", "There is no swap #{id} in this group.")
    only_partner = Text(
        "只有被邀请的一方可以回复这个交换。", "Only the member invited can answer this swap."
    )
    not_open = Text("交换 #{id} 已经是「{status}」了。", "Swap #{id} is already {status}.")
    accepted = Text(
        "交换 #{id} 达成：{teacher} 教 {learner}「{skill}」。完成后发送 /交换完成 {id} 小时数",
        "Swap #{id} agreed: {teacher} teaches {learner} '{skill}'. When done, send /swap done {id} <hours>",
    )
    declined = Text(
        "{partner} 婉拒了交换 #{id}（「{skill}」）。", "{partner} declined swap #{id} ('{skill}')."
    )
    declined_ok = Text("已拒绝交换 #{id}。", "Declined swap #{id}.")
    accepted_ok = Text("已接受交换 #{id}。", "Accepted swap #{id}.")
    not_participant = Text("你不是交换 #{id} 的参与者。", "You are not part of swap #{id}.")
    recorded = Text(
        "已记录交换 #{id}：{hours} 小时，等待 {other} 确认。",
        "Recorded swap #{id}: {hours} h, waiting for {other} to confirm.",
    )
    please_confirm = Text(
        "{who} 记录了交换 #{id}（「{skill}」{hours} 小时）。请确认：/交换 确认 {id}",
        "{who} recorded swap #{id} ('{skill}', {hours} h). Please confirm: /swap confirm {id}",
    )
    own_record = Text(
        "需要由另一方确认（你已经记录了）。", "The other side must confirm (you recorded it)."
    )
    confirmed = Text(
        "交换 #{id} 已确认：{teacher} +{hours}，{learner} -{hours} 时间币。",
        "Swap #{id} confirmed: {teacher} +{hours}, {learner} -{hours} credits.",
    )
    ledger_conflict = Text(
        "交换 #{id} 的时间币没能记账（账目冲突），什么都没有变动。已记录，请联系管理员。",
        "Swap #{id} could not be booked (a ledger conflict); nothing changed. "
        "It has been logged; please contact an admin.",
    )
    credits_header = Text("你在本群的时间币：{balance}", "Your time credits here: {balance}")
    credits_line = Text("- 交换 #{swap}：{amount}（{day}）", "- swap #{swap}: {amount} ({day})")
    credits_none = Text("还没有时间币记录。", "No time-credit history yet.")
    status_names: ClassVar[dict[str, Text]] = {
        "proposed": Text("待回复", "waiting for an answer"),
        "accepted": Text("已接受", "accepted"),
        "declined": Text("已拒绝", "declined"),
        "cancelled": Text("已取消", "cancelled"),
        "done_pending": Text("待确认", "waiting for confirmation"),
        "done": Text("已完成", "done"),
    }
    posts_title = Text("技能帖", "skill posts")
    swaps_title = Text("交换", "swaps")
    credits_title = Text(
        "时间币记录（删除后匿名保留）", "time-credit entries (kept anonymised when erased)"
    )


async def _names(ctx: Context, posts: list[SkillPost]) -> dict[str, str]:
    """Names of the posts' authors: the nick last seen, else the one they posted with."""
    assert ctx.conversation is not None
    return await people.names(
        ctx, ctx.conversation.id, [p.staff_id for p in posts], {p.staff_id: p.nick for p in posts}
    )


def _status(ctx: Context, status: str) -> str:
    return ctx.t(T.status_names.get(status, Text(status, status)))


def _words(post: SkillPost) -> frozenset[str]:
    return frozenset(post.keywords.split())


def _as_post(post: SkillPost) -> Post:
    return Post(post.id, post.staff_id, post.kind, post.skill, _words(post))


# -- matching through the keyword index ----------------------------------------------------

# A normalised skill longer than this (only NFKC's expansions get there: a skill is at
# most 40 characters as typed) looks up names by its characters instead of listing all its
# substrings; score() still decides, so the result is the same.
LONGEST_SUBSTRING_LOOKUP = 80


# Scores of a normalised skill against the group's names, under the group's names version:
# the names only change by being added (which changes the version) or erased (whose posts
# are gone, so a stale score finds nothing to join), so a hit is as good as a recomputation
# in any process. Bounded: the least recently used go first.
_SCORES: OrderedDict[tuple[str, str, str], tuple[int, dict[int, float]]] = OrderedDict()
SCORE_CACHE_SIZE = 4096


async def scores(
    repo: SkillRepo,
    conversation_id: str,
    norm: str,
    words: frozenset[str],
    version: int | None = None,
) -> dict[int, float]:
    """Every indexed skill of the group scoring above 0 against ``norm``, by name id."""
    if not norm:
        return {}
    if version is None:
        version = await repo.names_version(conversation_id)
    key = (repo.database(), conversation_id, norm)  # one process may use several databases
    hit = _SCORES.get(key)
    if hit is not None and hit[0] == version:
        _SCORES.move_to_end(key)
        return hit[1]
    found = await _compute_scores(repo, conversation_id, norm, words)
    _SCORES[key] = (version, found)
    if len(_SCORES) > SCORE_CACHE_SIZE:
        _SCORES.popitem(last=False)
    return found


async def _compute_scores(
    repo: SkillRepo, conversation_id: str, norm: str, words: frozenset[str]
) -> dict[int, float]:
    if len(norm) <= LONGEST_SUBSTRING_LOOKUP:
        any_terms, exact = keyword_terms(words), substrings(norm)
    else:
        any_terms, exact = keyword_terms(words) | {f"c:{ch}" for ch in norm}, set()
    names = await repo.candidate_names(
        conversation_id, any_terms=any_terms, all_terms=containing_terms(norm), exact=exact
    )
    found = {}
    for name in names:
        s = score(norm, name.norm, words, name.words)
        if s > 0:
            found[name.id] = s
    return found


async def add_post(
    repo: SkillRepo,
    *,
    conversation_id: str,
    staff_id: str,
    nick: str,
    kind: str,
    skill: str,
    detail: str,
    now: datetime,
) -> SkillPost:
    """Store a post and put its skill in the group's keyword index."""
    norm, words = normalise(skill), keywords(skill)
    joined = " ".join(sorted(words))
    return await repo.add(
        conversation_id=conversation_id,
        staff_id=staff_id,
        nick=nick,
        kind=kind,
        skill=skill,
        keywords=joined,
        detail=detail,
        now=now,
        name_id=await repo.name_for(conversation_id, norm, joined, index_terms(norm, words)),
    )


async def best_matches(
    repo: SkillRepo, post: SkillPost, limit: int = 3
) -> list[tuple[float, SkillPost]]:
    """Open posts of the other kind by others, best match first (then oldest)."""
    found = await scores(repo, post.conversation_id, normalise(post.skill), _words(post))
    opposite = "want" if post.kind == "offer" else "offer"
    return await repo.best_posts(
        post.conversation_id, opposite, found, not_by=post.staff_id, limit=limit
    )


async def browse(repo: SkillRepo, conversation_id: str, keyword: str | None) -> list[SkillPost]:
    """The group's latest 30 open posts, of those matching ``keyword`` if given."""
    if not keyword:
        return await repo.latest_open(conversation_id, 30)
    found = await scores(repo, conversation_id, normalise(keyword), keywords(keyword))
    return await repo.latest_open(conversation_id, 30, found) if found else []


async def partners(
    repo: SkillRepo, conversation_id: str, me: str, recent: set[str], limit: int = 5
) -> tuple[list[SkillPost], list[Match]]:
    """``rank`` over the group's open posts, reading only mine and my best partners'.

    The group's indexed skills are scored against each of mine (the best per name), SQL
    picks the members rank() would list, and rank() orders just their posts: the same
    answer as ranking every post, at the cost of a few index look-ups.
    """
    mine = await repo.open_posts_of(conversation_id, [me])
    version = await repo.names_version(conversation_id)
    offers: dict[int, float] = {}  # names others offer, against my wants
    wants: dict[int, float] = {}  # names others want, against my offers
    for p in mine:
        side = offers if p.kind == "want" else wants
        found = await scores(repo, conversation_id, normalise(p.skill), _words(p), version)
        for name_id, s in found.items():
            side[name_id] = max(s, side.get(name_id, 0.0))
    chosen = await repo.best_partners(
        conversation_id, me, offers=offers, wants=wants, recent=recent, limit=limit
    )
    posts = sorted(mine + await repo.open_posts_of(conversation_id, chosen), key=lambda p: p.id)
    return posts, rank(me, [_as_post(p) for p in posts], recent, limit)


# -- posting -------------------------------------------------------------------------------


async def _post(ctx: Context, kind: str, skill: str, detail: str | None) -> str:
    assert ctx.conversation is not None and ctx.member is not None
    if not any(ch.isalnum() for ch in skill):
        raise UserError(T.no_words)
    post = await add_post(
        ctx.repos.skills,
        conversation_id=ctx.conversation.id,
        staff_id=ctx.member.staff_id,
        nick=ctx.member.nick,
        kind=kind,
        skill=skill,
        detail=detail or "",
        now=ctx.now,
    )
    kind_text = ctx.t(T.kind_offer if kind == "offer" else T.kind_want)
    lines = [ctx.t(T.posted, id=post.id, kind=kind_text, skill=skill)]
    candidates = await best_matches(ctx.repos.skills, post)
    if candidates:
        who = await _names(ctx, [other for _, other in candidates[:3]])
        lines.append(ctx.t(T.matches_header))
        for score_, other in candidates:
            lines.append(
                ctx.t(
                    T.match_line,
                    id=other.id,
                    who=who[other.staff_id],
                    kind=ctx.t(T.kind_offer if other.kind == "offer" else T.kind_want),
                    skill=other.skill,
                    pct=round(score_ * 100),
                )
            )
    else:
        lines.append(ctx.t(T.no_matches))
    return "\n".join(lines)


SKILL_ARGS = [
    Arg("skill", T.skill, max_len=40),
    Arg("detail", T.detail, kind="rest", optional=True, max_len=500),
]


@router.command(
    "offer", aliases=["我会"], help=T.help_offer, style="pipe", args=SKILL_ARGS, acts=True
)
async def offer(ctx: Context, skill: str, detail: str | None) -> str:
    """Offer a skill; the reply names the best current matches."""
    return await _post(ctx, "offer", skill, detail)


@router.command(
    "want", aliases=["我想学"], help=T.help_want, style="pipe", args=SKILL_ARGS, acts=True
)
async def want(ctx: Context, skill: str, detail: str | None) -> str:
    """Ask for a skill; the reply names the best current matches."""
    return await _post(ctx, "want", skill, detail)


@router.command(
    "skills",
    aliases=["技能"],
    help=T.help_skills,
    args=[Arg("keyword", T.keyword, kind="rest", optional=True, max_len=40)],
)
async def skills(ctx: Context, keyword: str | None) -> str:
    """Open offers and wants, optionally those matching a keyword."""
    assert ctx.conversation is not None
    posts = await browse(ctx.repos.skills, ctx.conversation.id, keyword)
    if not posts:
        return ctx.t(T.skills_empty)
    lines = [ctx.t(T.skills_header)]
    who = await _names(ctx, posts)
    for p in posts:
        detail = (
            f"：{safety.plain(p.detail[:60])}"
            if p.detail and ctx.lang == "zh"
            else (f": {safety.plain(p.detail[:60])}" if p.detail else "")
        )
        lines.append(
            ctx.t(
                T.skills_line,
                id=p.id,
                who=who[p.staff_id],
                kind=ctx.t(T.kind_offer if p.kind == "offer" else T.kind_want),
                skill=p.skill,
                detail=detail,
            )
        )
    return "\n".join(lines)


@router.command(
    "withdraw",
    aliases=["撤回"],
    help=T.help_withdraw,
    args=[Arg("id", T.post_id, kind="int", low=1)],
)
async def withdraw(ctx: Context, id: int) -> list[Reply]:
    """Withdraw one's own post; proposals waiting on it are cancelled and their senders told."""
    assert ctx.conversation is not None and ctx.member is not None
    post = await ctx.repos.skills.get(ctx.conversation.id, id)
    if post is None:
        raise UserError(T.unknown_post, id=id)
    if post.staff_id != ctx.member.staff_id:
        raise UserError(T.not_yours)
    if not await ctx.repos.skills.withdraw(post):
        raise UserError(T.closed_post, id=id)
    replies: list[Reply] = []
    cancelled = 0
    for swap in await ctx.repos.swaps.pending_on_post(post.id):
        if await ctx.repos.swaps.move(swap, ("proposed",), "cancelled", ctx.now):
            cancelled += 1
            replies.append(
                TextReply(
                    content=ctx.t(T.proposal_cancelled, post=post.id),
                    to=ToMembers(staff_ids=[swap.proposer]),
                )
            )
            replies += await _swap_card_updates(ctx, swap)
    note = ctx.t(T.cancelled_note, n=cancelled) if cancelled else ""
    return [TextReply(content=ctx.t(T.withdrawn, id=id, cancelled=note).strip()), *replies]


@router.command("match", aliases=["匹配"], help=T.help_match)
async def match(ctx: Context) -> str:
    """My best partners: two-way first, each with a score and why; recent partners last."""
    assert ctx.conversation is not None and ctx.member is not None
    me = ctx.member.staff_id
    recent = await ctx.repos.swaps.recent_partners(ctx.conversation.id, me, ctx.now - RECENT)
    posts, ranked = await partners(ctx.repos.skills, ctx.conversation.id, me, recent)
    if not ranked:
        return ctx.t(T.no_partners)
    who = await people.names(
        ctx, ctx.conversation.id, [m.member for m in ranked], {p.staff_id: p.nick for p in posts}
    )
    lines = [ctx.t(T.match_header)]
    for i, m in enumerate(ranked, 1):
        why = []
        if m.they_teach:
            why.append(ctx.t(T.why_they, theirs=m.they_teach[1].skill, mine=m.they_teach[0].skill))
        if m.i_teach:
            why.append(ctx.t(T.why_me, mine=m.i_teach[0].skill, theirs=m.i_teach[1].skill))
        lines.append(
            ctx.t(
                T.match_entry,
                i=i,
                who=who[m.member],
                kind=ctx.t(T.match_two_way if m.two_way else T.match_one_way),
                score=number(m.score),
                recent=ctx.t(T.match_recent) if m.recent else "",
                why="；".join(why) if ctx.lang == "zh" else "; ".join(why),
            )
        )
    return "\n".join(lines)


# -- swaps ---------------------------------------------------------------------------------


def swap_card(ctx: Context, swap: Swap, proposer_nick: str, partner_nick: str) -> CardReply:
    """The proposal as a card with accept / decline / confirm."""
    data = {
        "title": f"#{swap.id} {safety.plain(swap.skill)}",
        "from": people.shown(proposer_nick, ctx),
        "to": people.shown(partner_nick, ctx),
        "skill": safety.plain(swap.skill),
        "status": _status(ctx, swap.status),
        "hours": number(swap.hours) if swap.hours else "",
    }
    return CardReply(
        kind="swap",
        entity_id=str(swap.id),
        template_id=ctx.settings.cards.swap_template,
        title=data["title"],
        data=data,
        buttons=[
            CardButton(label="接受 / Accept", action="accept", id=str(swap.id)),
            CardButton(label="拒绝 / Decline", action="decline", id=str(swap.id)),
            CardButton(label="确认 / Confirm", action="confirm", id=str(swap.id)),
        ],
        fallback_markdown=safety.md(data["title"]),
    )


async def _swap_card_updates(ctx: Context, swap: Swap, skip: str = "") -> list[Reply]:
    data = {"status": _status(ctx, swap.status), "hours": number(swap.hours) if swap.hours else ""}
    return [
        CardUpdate(out_track_id=track, data=data)
        for track in await ctx.repos.cards.track_ids("swap", str(swap.id))
        if track != skip
    ]


@router.command(
    "swap",
    aliases=["交换"],
    help=T.help_swap,
    args=[Arg("id", T.post_id, kind="int", low=1)],
    acts=True,
)
async def swap(ctx: Context, id: int) -> list[Reply]:
    """Propose a swap to the member behind a post; they accept or decline."""
    assert ctx.conversation is not None and ctx.member is not None
    post = await ctx.repos.skills.get(ctx.conversation.id, id)
    if post is None:
        raise UserError(T.unknown_post, id=id)
    if post.status != "open":
        raise UserError(T.closed_post, id=id)
    me = ctx.member.staff_id
    if post.staff_id == me:
        raise UserError(T.self_swap)
    if await ctx.repos.bans.is_banned(ctx.conversation.id, post.staff_id):
        raise UserError(T.partner_banned)
    existing = await ctx.repos.swaps.open_between(post.id, me)
    if existing is not None:
        raise UserError(
            T.already_proposed, post=post.id, id=existing.id, status=_status(ctx, existing.status)
        )
    teacher, learner = (post.staff_id, me) if post.kind == "offer" else (me, post.staff_id)
    new = await ctx.repos.swaps.create(
        conversation_id=ctx.conversation.id,
        post_id=post.id,
        proposer=me,
        partner=post.staff_id,
        teacher=teacher,
        learner=learner,
        skill=post.skill,
        created_at=ctx.now,
    )
    text = ctx.t(
        T.proposed,
        # The name: the mention itself is added by the sender where the platform has one.
        partner=await people.name(ctx, ctx.conversation.id, post.staff_id, post.nick),
        proposer=people.shown(ctx.member.nick, ctx),
        skill=post.skill,
        id=new.id,
    )
    replies: list[Reply] = [TextReply(content=text, at_staff_ids=[post.staff_id])]
    if ctx.settings.cards.swap_template:
        partner_name = await people.name(ctx, ctx.conversation.id, post.staff_id, post.nick)
        replies.append(swap_card(ctx, new, ctx.member.nick, partner_name))
    return replies


async def _swap(ctx: Context, swap_id: int) -> Swap:
    assert ctx.conversation is not None
    found = await ctx.repos.swaps.get(ctx.conversation.id, swap_id)
    if found is None:
        raise UserError(T.unknown_swap, id=swap_id)
    return found


async def _answer(ctx: Context, swap_id: int, *, accept: bool) -> tuple[str, list[Reply]]:
    assert ctx.member is not None
    found = await _swap(ctx, swap_id)
    if found.partner != ctx.member.staff_id:
        raise UserError(T.only_partner)
    if not await ctx.repos.swaps.move(
        found, ("proposed",), "accepted" if accept else "declined", ctx.now
    ):
        raise UserError(T.not_open, id=swap_id, status=_status(ctx, found.status))
    replies = await _swap_card_updates(ctx, found, skip=ctx.click.out_track_id if ctx.click else "")
    if accept:
        # Names in the text; the sender adds the mentions where the platform has them.
        who = await people.names(ctx, found.conversation_id, [found.teacher, found.learner])
        introduction = ctx.t(
            T.accepted,
            id=found.id,
            teacher=who[found.teacher],
            learner=who[found.learner],
            skill=found.skill,
        )
        replies.append(TextReply(content=introduction, at_staff_ids=[found.teacher, found.learner]))
        replies.append(TextReply(content=introduction, to=ToMembers(staff_ids=[found.proposer])))
        return ctx.t(T.accepted_ok, id=swap_id), replies
    told = ctx.t(
        T.declined, partner=people.shown(ctx.member.nick, ctx), id=found.id, skill=found.skill
    )
    replies.append(TextReply(content=told, to=ToMembers(staff_ids=[found.proposer])))
    return ctx.t(T.declined_ok, id=swap_id), replies


@router.command(
    "swap accept",
    aliases=["交换 接受"],
    help=T.help_accept,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
    acts=True,
)
async def accept(ctx: Context, id: int) -> list[Reply]:
    """Accept: both are introduced and the proposer is told."""
    message, replies = await _answer(ctx, id, accept=True)
    return [TextReply(content=message), *replies]


@router.command(
    "swap decline",
    aliases=["交换 拒绝"],
    help=T.help_decline,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
)
async def decline(ctx: Context, id: int) -> list[Reply]:
    """Decline: the proposer is told."""
    message, replies = await _answer(ctx, id, accept=False)
    return [TextReply(content=message), *replies]


@router.command(
    "swap done",
    aliases=["交换完成"],
    help=T.help_done,
    args=[
        Arg("id", T.swap_id, kind="int", low=1),
        Arg("hours", T.hours, kind="float", low=0.5, high=24),
    ],
    acts=True,
)
async def done(ctx: Context, id: int, hours: float) -> list[Reply]:
    """Either side records a finished swap; the other must confirm before credits move."""
    assert ctx.member is not None
    found = await _swap(ctx, id)
    me = ctx.member.staff_id
    if me not in (found.proposer, found.partner):
        raise UserError(T.not_participant, id=id)
    if not await ctx.repos.swaps.move(
        found, ("accepted",), "done_pending", ctx.now, hours=hours, recorded_by=me
    ):
        raise UserError(T.not_open, id=id, status=_status(ctx, found.status))
    other = found.partner if me == found.proposer else found.proposer
    note = ctx.t(
        T.please_confirm,
        who=people.shown(ctx.member.nick, ctx),
        id=id,
        skill=found.skill,
        hours=number(hours),
    )
    return [
        TextReply(
            content=ctx.t(
                T.recorded,
                id=id,
                hours=number(hours),
                other=await people.name(ctx, found.conversation_id, other),
            )
        ),
        TextReply(content=note, to=ToMembers(staff_ids=[other])),
        *await _swap_card_updates(ctx, found),
    ]


async def _confirm(ctx: Context, swap_id: int) -> tuple[str, Swap]:
    assert ctx.member is not None and ctx.conversation is not None
    found = await _swap(ctx, swap_id)
    me = ctx.member.staff_id
    if me not in (found.proposer, found.partner):
        raise UserError(T.not_participant, id=swap_id)
    if found.status == "done_pending" and found.recorded_by == me:
        raise UserError(T.own_record)
    if not await ctx.repos.swaps.move(found, ("done_pending",), "done", ctx.now):
        raise UserError(T.not_open, id=swap_id, status=_status(ctx, found.status))
    assert found.hours is not None
    try:
        await ctx.repos.ledger.transfer(
            ctx.conversation.id, found.id, found.teacher, found.learner, found.hours, ctx.now
        )
    except LedgerConflict as exc:
        # Never a reply claiming +N when nothing was booked: the UserError rolls back the
        # status change too, and operators see the conflict in the log.
        ctx.log.error("swap #%s not booked: %s", found.id, exc)
        raise UserError(T.ledger_conflict, id=swap_id) from None
    who = await people.names(ctx, found.conversation_id, [found.teacher, found.learner])
    message = ctx.t(
        T.confirmed,
        id=swap_id,
        teacher=who[found.teacher],
        learner=who[found.learner],
        hours=number(found.hours),
    )
    return message, found


@router.command(
    "swap confirm",
    aliases=["交换 确认"],
    help=T.help_confirm,
    args=[Arg("id", T.swap_id, kind="int", low=1)],
    acts=True,
)
async def confirm(ctx: Context, id: int) -> list[Reply]:
    """The other side confirms; only then do the hours move, once."""
    message, found = await _confirm(ctx, id)
    return [TextReply(content=message), *await _swap_card_updates(ctx, found)]


@router.action("accept", "decline", kind="swap", acts=True)
async def answer_click(ctx: Context) -> CardResponse:
    """Accept or decline on the card (only the member invited)."""
    assert ctx.click is not None
    message, replies = await _answer(
        ctx, ctx.click_id(T.unknown_swap), accept=ctx.click.action == "accept"
    )
    for reply in replies:
        ctx.reply(reply)
    found = await _swap(ctx, ctx.click_id(T.unknown_swap))
    return CardResponse(
        card_data={"status": _status(ctx, found.status)}, private_data={"message": message}
    )


@router.action("confirm", kind="swap", acts=True)
async def confirm_click(ctx: Context) -> CardResponse:
    """Confirm on the card (only the side that did not record it)."""
    assert ctx.click is not None
    message, found = await _confirm(ctx, ctx.click_id(T.unknown_swap))
    for reply in await _swap_card_updates(ctx, found, skip=ctx.click.out_track_id):
        ctx.reply(reply)
    return CardResponse(
        card_data={"status": _status(ctx, found.status)}, private_data={"message": message}
    )


@router.command("credits", aliases=["时间币"], help=T.help_credits)
async def credits(ctx: Context) -> str:
    """My balance and latest entries."""
    assert ctx.conversation is not None and ctx.member is not None
    balance = await ctx.repos.ledger.balance(ctx.conversation.id, ctx.member.staff_id)
    entries = await ctx.repos.ledger.history(ctx.conversation.id, ctx.member.staff_id)
    lines = [ctx.t(T.credits_header, balance=number(balance))]
    if not entries:
        lines.append(ctx.t(T.credits_none))
    for e in entries:
        day = e.at.astimezone(ctx.settings.bot.tz).strftime("%Y-%m-%d")
        amount = ("+" if e.amount > 0 else "") + number(e.amount)
        lines.append(ctx.t(T.credits_line, swap=e.swap_id, amount=amount, day=day))
    return "\n".join(lines)


# -- privacy ---------------------------------------------------------------------------------


async def _my_posts(ctx: Context, conversation_id: str, staff_id: str) -> tuple[int, list[str]]:
    posts = await ctx.repos.skills.of_member(conversation_id, staff_id)
    return len(posts), [f"#{p.id}「{safety.plain(p.skill)}」" for p in posts[:3]]


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
    return len(swaps), [f"#{s.id} {_status(ctx, s.status)}" for s in swaps[:3]]


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
    PrivacySection("credits", T.credits_title, _my_credits, _anonymise_credits, order=60)
)
