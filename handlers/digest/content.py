"""The digest itself: the group's slot and period, the sections worth reading, their
rendering in parts, the post (card or markdown) and the admins' private findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot import people, safety
from bot.cards import CARD_VALUE_MAX_BYTES, CATALOG
from bot.context import BaseContext
from bot.i18n import number
from bot.replies import MarkdownReply, TextReply, ToGroup, ToMembers
from domain.likes import describe, rescore, rescore_if_dirty
from handlers.digest.texts import WEEKDAYS, ZH_WEEKDAYS, T
from storage.views import GroupSettingsView

UPCOMING_DAYS = 14


@dataclass(slots=True)
class Section:
    """A digest section: its heading and lines (already safe markdown)."""

    heading: str
    lines: list[str] = field(default_factory=list)


def group_slot(ctx: BaseContext, settings: GroupSettingsView | None) -> tuple[int, str]:
    """The group's (weekday 0=Mon, "HH:MM"), falling back to the config's default."""
    weekday = settings.digest_weekday if settings and settings.digest_weekday is not None else None
    at = settings.digest_time if settings and settings.digest_time else None
    return (
        weekday if weekday is not None else WEEKDAYS.index(ctx.settings.digest.weekday),
        at or ctx.settings.digest.time,
    )


def last_slot(now: datetime, weekday: int, at: str, ctx: BaseContext) -> datetime:
    """The most recent slot at or before ``now`` (aware, in the bot's zone)."""
    local = now.astimezone(ctx.settings.bot.tz)
    hour, minute = (int(x) for x in at.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, time(hour, minute), tzinfo=ctx.settings.bot.tz)
    return slot if slot <= local else slot - timedelta(days=7)


def period_key(slot: datetime) -> str:
    """A period is named by its slot, in local time."""
    return slot.strftime("%Y-%m-%d %H:%M")


def day_name(ctx: BaseContext, weekday: int) -> str:
    return ZH_WEEKDAYS[weekday] if ctx.lang == "zh" else WEEKDAYS[weekday].capitalize()


async def build(
    ctx: BaseContext, conversation_id: str, start: datetime, end: datetime
) -> list[Section]:
    """The digest's sections for [start, end); empty sections are left out."""
    top = ctx.settings.digest.top
    off = await ctx.repos.groups.disabled_modules(conversation_id)
    tz = ctx.settings.bot.tz
    sections: list[Section] = []
    if "stories" not in off:
        await rescore_if_dirty(ctx, conversation_id)  # rank by up-to-date genuine likes
        stories = await ctx.repos.digest.top_stories(conversation_id, start, end, top)
        authors = await people.nicks(
            ctx,
            conversation_id,
            [s.author_staff_id for s in stories],
            {s.author_staff_id: s.author_nick for s in stories},
        )
        if stories:
            sections.append(
                Section(
                    ctx.t(T.stories),
                    [
                        ctx.t(
                            T.story_line,
                            i=i,
                            id=s.id,
                            title=safety.md(s.title),
                            author=safety.md(authors[s.author_staff_id]),
                            genuine=number(s.genuine_likes),
                        )
                        for i, s in enumerate(stories, 1)
                    ],
                )
            )
    if "skills" not in off:
        posts = await ctx.repos.digest.new_posts(conversation_id, start, end, top * 2)
        swaps = await ctx.repos.digest.finished_swaps(conversation_id, start, end, top)
        who = await people.nicks(
            ctx,
            conversation_id,
            [p.staff_id for p in posts] + [m for s in swaps for m in (s.teacher, s.learner)],
            {p.staff_id: p.nick for p in posts},
        )
        lines = [
            ctx.t(
                T.post_line,
                who=safety.md(who[p.staff_id]),
                kind=ctx.t(T.kind_offer if p.kind == "offer" else T.kind_want),
                skill=safety.md(p.skill),
                id=p.id,
            )
            for p in posts
        ] + [
            ctx.t(
                T.swap_line,
                teacher=safety.md(who[s.teacher]),
                learner=safety.md(who[s.learner]),
                skill=safety.md(s.skill),
                hours=number(s.hours or 0),
            )
            for s in swaps
        ]
        if lines:
            sections.append(Section(ctx.t(T.skills), lines))
    if "volunteers" not in off:
        upcoming = await ctx.repos.digest.upcoming_events(
            conversation_id, end, end + timedelta(days=UPCOMING_DAYS), top
        )
        lines = [
            ctx.t(
                T.event_line,
                id=e.id,
                title=safety.md(e.title),
                when=e.starts_at.astimezone(tz).strftime("%m-%d %H:%M"),
                place=safety.md(e.place),
                left=max(e.seats - taken, 0),
                seats=e.seats,
            )
            for e, taken in upcoming
            if taken < e.seats
        ]
        if lines:
            sections.append(Section(ctx.t(T.events), lines))
        board = await ctx.repos.digest.hours_board(conversation_id, start, end, top)
        board_names = await people.nicks(
            ctx, conversation_id, [staff for staff, _, _ in board], {s: n for s, n, _ in board}
        )
        if board:
            sections.append(
                Section(
                    ctx.t(T.hours),
                    [
                        ctx.t(T.hours_line, i=i, who=safety.md(board_names[staff]), hours=number(h))
                        for i, (staff, _, h) in enumerate(board, 1)
                    ],
                )
            )
    return sections


def render(
    ctx: BaseContext, sections: list[Section], start: datetime, end: datetime
) -> list[MarkdownReply]:
    """One markdown message, split in parts only when it would exceed DingTalk's size limit."""
    tz = ctx.settings.bot.tz
    title = ctx.t(
        T.title,
        start=start.astimezone(tz).strftime("%m-%d"),
        end=(end - timedelta(minutes=1)).astimezone(tz).strftime("%m-%d"),
    )
    blocks = [f"**{section.heading}**  \n" + "  \n".join(section.lines) for section in sections]
    parts: list[str] = []
    current = ""
    limit = ctx.settings.digest.max_bytes
    for block in blocks:
        for piece in _pieces(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if current and len(candidate.encode()) > limit:
                parts.append(current)
                current = piece
            else:
                current = candidate
    if current:
        parts.append(current)
    n = len(parts)
    return [
        MarkdownReply(
            title=title + (ctx.t(T.part, i=i, n=n) if n > 1 else ""),
            text=f"### {title}" + (ctx.t(T.part, i=i, n=n) if n > 1 else "") + f"\n\n{body}",
        )
        for i, body in enumerate(parts, 1)
    ]


def _pieces(block: str, limit: int) -> list[str]:
    """A block larger than the limit on its own is cut at line breaks."""
    if len(block.encode()) <= limit:
        return [block]
    pieces, current = [], ""
    for line in block.split("  \n"):
        candidate = f"{current}  \n{line}" if current else line
        if current and len(candidate.encode()) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    return [*pieces, current] if current else pieces


async def post_digest(
    ctx: BaseContext,
    conversation_id: str,
    start: datetime,
    end: datetime,
    period: str,
    *,
    status: str = "posted",
) -> bool:
    """Record the period, then post the digest into the group (both in this unit of work).

    Returns False when there was nothing to post or the period was already recorded.
    """
    sections = await build(ctx, conversation_id, start, end)
    if not sections:
        await ctx.repos.digest.claim(conversation_id, period, "empty", ctx.now)
        return False
    if not await ctx.repos.digest.claim(conversation_id, period, status, ctx.now):
        return False
    template = CATALOG["digest"].template_id(ctx.settings)
    for part in render(ctx, sections, start, end):
        to = ToGroup(conversation_id=conversation_id)
        if template and len(part.text.encode()) <= CARD_VALUE_MAX_BYTES:
            # A card where the admin built a digest template and the part fits a card value
            # (1 KB, 创建并投放卡片); markdown otherwise, so nothing of the digest is cut.
            ctx.reply(
                CATALOG["digest"].build(
                    ctx.settings,
                    entity_id=period.replace(" ", "T"),
                    title=part.title,
                    data={"title": part.title, "content": part.text},
                    fallback_markdown=part.text,
                    to=to,
                )
            )
        else:
            ctx.reply(part.model_copy(update={"to": to}))
    await tell_admins(ctx, conversation_id, start, end)
    return True


async def tell_admins(
    ctx: BaseContext, conversation_id: str, start: datetime, end: datetime
) -> None:
    """The week's suspicious-like findings go to the group's admins one to one, never public."""
    if "stories" in await ctx.repos.groups.disabled_modules(conversation_id):
        return
    scores = await rescore(ctx, conversation_id)
    scores.bursts = [b for b in scores.bursts if start.timestamp() <= b.start < end.timestamp()]
    evidence = await describe(ctx, scores, conversation_id)
    admins = sorted(
        set(ctx.settings.admins.staff_ids) | set(await _flagged_admins(ctx, conversation_id))
    )
    if not evidence or not admins:
        return
    group = await ctx.repos.members.title(conversation_id)
    header = ctx.t(T.admins_header, group=group or conversation_id)
    body = "\n".join([header, *evidence.splitlines()[1:]])
    ctx.reply(TextReply(content=body, to=ToMembers(staff_ids=admins)))


async def _flagged_admins(ctx: BaseContext, conversation_id: str) -> list[str]:
    if not ctx.settings.admins.trust_dingtalk_admin:
        return []
    return await ctx.repos.members.flagged_admins(conversation_id)
