"""The weekly digest: one per group per period, on the group's schedule, worth reading."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot import people, safety
from bot.cards import CARD_VALUE_MAX_BYTES
from bot.context import Context
from bot.errors import UserError
from bot.events import is_staff_id
from bot.i18n import Text, number
from bot.replies import CardReply, MarkdownReply, Reply, TextReply, ToGroup, ToMembers
from bot.router import Arg, Router
from domain.likes import describe, rescore, rescore_if_dirty
from storage.models import GroupSettings

router = Router("digest", module="digest")
log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZH_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CHECK_SECONDS = 60.0
UPCOMING_DAYS = 14


class T:
    """Every text of the digest."""

    day = Text("星期", "day")
    at = Text("时间 HH:MM", "time HH:MM")
    help_preview = Text(
        "预览本群本周的周报（私信给你）", "preview this group's digest (sent to you)"
    )
    help_now = Text("立即发布本期周报", "post this period's digest now")
    help_schedule = Text("设置本群周报时间", "set this group's digest day and time")
    help_off = Text("停止本群的定时周报", "stop the scheduled digest here")
    help_on = Text("恢复本群的定时周报", "resume the scheduled digest here")
    title = Text("社区周报 · {start} – {end}", "Community digest · {start} – {end}")
    part = Text("（{i}/{n}）", " ({i}/{n})")
    stories = Text("本周故事（按真实点赞）", "Stories of the week (genuine likes)")
    story_line = Text(
        "{i}. #{id} {title} — {author} · 真实 {genuine} 赞",
        "{i}. #{id} {title} by {author}: {genuine} genuine likes",
    )
    skills = Text("技能交换", "Skill swaps")
    post_line = Text(
        "- {who} {kind}「{skill}」（/交换 {id}）", "- {who} {kind} '{skill}' (/swap {id})"
    )
    kind_offer = Text("会", "offers")
    kind_want = Text("想学", "wants")
    swap_line = Text(
        "- 完成：{teacher} 教 {learner}「{skill}」{hours} 小时",
        "- done: {teacher} taught {learner} '{skill}', {hours} h",
    )
    events = Text("即将开始的活动", "Upcoming activities")
    event_line = Text(
        "- #{id} {title} · {when} · {place} · 剩余 {left}/{seats}",
        "- #{id} {title} · {when} · {place} · {left} of {seats} seats left",
    )
    hours = Text("本周志愿时长", "Volunteer hours this week")
    hours_line = Text("{i}. {who} · {hours} 小时", "{i}. {who}: {hours} h")
    nothing = Text("这段时间还没有可以放进周报的内容。", "Nothing for a digest in this period yet.")
    preview_sent = Text("预览已私信发给你。", "The preview was sent to you privately.")
    posted_now = Text(
        "已发布本期周报；{next} 的定时周报不会再重复发送。",
        "Posted this period's digest; the scheduled one on {next} will not be sent again.",
    )
    already_posted = Text(
        "本期周报已经发过了（{next} 那期）。下一期会按时发布。",
        "This period's digest has gone out already (the one for {next}).",
    )
    scheduled = Text(
        "本群周报时间改为每{day} {at}。", "This group's digest now goes out every {day} at {at}."
    )
    bad_time = Text(
        "时间格式应为 HH:MM（例如 09:00），收到「{value}」。",
        "The time must look like HH:MM (e.g. 09:00), got '{value}'.",
    )
    off = Text(
        "本群已停止定时周报（/周报 开 可恢复）。",
        "The scheduled digest is off here (/digest on resumes it).",
    )
    on = Text(
        "本群已恢复定时周报：每{day} {at}。",
        "The scheduled digest is on here: every {day} at {at}.",
    )
    admins_header = Text(
        "「{group}」本周点赞异常（仅管理员可见，不会出现在周报里）：",
        "Brushed-looking likes this week in '{group}' (admins only, never in the digest):",
    )


@dataclass(slots=True)
class Section:
    """A digest section: its heading and lines (already safe markdown)."""

    heading: str
    lines: list[str] = field(default_factory=list)


def group_slot(ctx: Context, settings: GroupSettings | None) -> tuple[int, str]:
    """The group's (weekday 0=Mon, "HH:MM"), falling back to the config's default."""
    weekday = settings.digest_weekday if settings and settings.digest_weekday is not None else None
    at = settings.digest_time if settings and settings.digest_time else None
    return (
        weekday if weekday is not None else WEEKDAYS.index(ctx.settings.digest.weekday),
        at or ctx.settings.digest.time,
    )


def last_slot(now: datetime, weekday: int, at: str, ctx: Context) -> datetime:
    """The most recent slot at or before ``now`` (aware, in the bot's zone)."""
    local = now.astimezone(ctx.settings.bot.tz)
    hour, minute = (int(x) for x in at.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, time(hour, minute), tzinfo=ctx.settings.bot.tz)
    return slot if slot <= local else slot - timedelta(days=7)


def period_key(slot: datetime) -> str:
    """A period is named by its slot, in local time."""
    return slot.strftime("%Y-%m-%d %H:%M")


def _day_name(ctx: Context, weekday: int) -> str:
    return ZH_WEEKDAYS[weekday] if ctx.lang == "zh" else WEEKDAYS[weekday].capitalize()


async def build(
    ctx: Context, conversation_id: str, start: datetime, end: datetime
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
    ctx: Context, sections: list[Section], start: datetime, end: datetime
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
    ctx: Context,
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
    template = ctx.settings.cards.digest_template
    for part in render(ctx, sections, start, end):
        to = ToGroup(conversation_id=conversation_id)
        if template and len(part.text.encode()) <= CARD_VALUE_MAX_BYTES:
            # A card where the admin built a digest template and the part fits a card value
            # (1 KB, 创建并投放卡片); markdown otherwise, so nothing of the digest is cut.
            ctx.reply(
                CardReply(
                    kind="digest",
                    entity_id=period.replace(" ", "T"),
                    template_id=template,
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


async def tell_admins(ctx: Context, conversation_id: str, start: datetime, end: datetime) -> None:
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


async def _flagged_admins(ctx: Context, conversation_id: str) -> list[str]:
    if not ctx.settings.admins.trust_dingtalk_admin:
        return []
    return await ctx.repos.members.flagged_admins(conversation_id)


@router.job("weekly-digest", every=lambda settings: CHECK_SECONDS)
async def digest_job(ctx: Context) -> None:
    """Post each group's digest at its slot; catch up after downtime within the grace window."""
    grace = timedelta(hours=ctx.settings.digest.grace_hours)
    for conversation_id, settings in await ctx.repos.digest.groups():
        if settings is not None and not settings.digest_enabled:
            continue
        if "digest" in await ctx.repos.groups.disabled_modules(conversation_id):
            continue
        weekday, at = group_slot(ctx, settings)
        slot = last_slot(ctx.now, weekday, at, ctx)
        period = period_key(slot)
        if await ctx.repos.digest.run(conversation_id, period) is not None:
            continue
        savepoint = await ctx.session.begin_nested()
        mark = len(ctx.replies)
        try:
            if ctx.now - slot > grace:
                await ctx.repos.digest.claim(conversation_id, period, "skipped", ctx.now)
                log.info(
                    "digest of %s for %s skipped: missed by more than %s",
                    conversation_id,
                    period,
                    grace,
                )
            else:
                await post_digest(ctx, conversation_id, slot - timedelta(days=7), slot, period)
        except Exception:
            await savepoint.rollback()
            del ctx.replies[mark:]
            log.exception("digest of %s for %s failed; will try again", conversation_id, period)
            continue
        await savepoint.commit()


# -- admin commands --------------------------------------------------------------------------


@router.command("digest preview", aliases=["周报", "周报 预览"], help=T.help_preview, admin=True)
async def preview(ctx: Context) -> list[Reply]:
    """This week's digest, sent to the admin privately, not posted."""
    assert ctx.conversation is not None and ctx.member is not None
    end = ctx.now
    sections = await build(ctx, ctx.conversation.id, end - timedelta(days=7), end)
    if not sections:
        return [TextReply(content=ctx.t(T.nothing))]
    parts: list[Reply] = [
        part.model_copy(update={"to": ToMembers(staff_ids=[ctx.member.staff_id])})
        for part in render(ctx, sections, end - timedelta(days=7), end)
    ]
    if not is_staff_id(ctx.member.staff_id):
        return parts  # no private delivery possible: the outbox says so (bot/outbox.py)
    return [*parts, TextReply(content=ctx.t(T.preview_sent))]


async def _settings(ctx: Context) -> GroupSettings:
    assert ctx.conversation is not None
    return await ctx.repos.groups.get(
        ctx.conversation.id, review_default=ctx.settings.stories.review_default
    )


@router.command("digest now", aliases=["周报 立即"], help=T.help_now, admin=True)
async def now(ctx: Context) -> str:
    """Post now; it counts for the coming period, whose scheduled digest is then not sent."""
    assert ctx.conversation is not None
    weekday, at = group_slot(ctx, await _settings(ctx))
    upcoming = last_slot(ctx.now, weekday, at, ctx) + timedelta(days=7)
    period = period_key(upcoming)
    shown = f"{_day_name(ctx, weekday)} {upcoming.strftime('%m-%d')} {at}"
    if await ctx.repos.digest.run(ctx.conversation.id, period) is not None:
        raise UserError(T.already_posted, next=shown)
    posted = await post_digest(
        ctx, ctx.conversation.id, ctx.now - timedelta(days=7), ctx.now, period, status="manual"
    )
    if not posted:
        # Nothing to say yet: leave the period open for the scheduled digest.
        await ctx.repos.digest.forget_empty(ctx.conversation.id, period)
        raise UserError(T.nothing)
    return ctx.t(T.posted_now, next=shown)


DAY_CHOICES = WEEKDAYS + ZH_WEEKDAYS


@router.command(
    "digest schedule",
    aliases=["周报 时间"],
    help=T.help_schedule,
    admin=True,
    args=[Arg("day", T.day, kind="choice", choices=DAY_CHOICES), Arg("at", T.at, max_len=5)],
)
async def schedule(ctx: Context, day: str, at: str) -> Text | str:
    """Set this group's digest slot."""
    assert ctx.conversation is not None
    try:
        hour, minute = (int(x) for x in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60) or len(at) != 5:
            raise ValueError(at)
    except ValueError:
        raise UserError(T.bad_time, value=at) from None
    weekday = DAY_CHOICES.index(day) % 7
    await _settings(ctx)
    await ctx.repos.digest.set_schedule(ctx.conversation.id, weekday=weekday, time=at)
    return ctx.t(T.scheduled, day=_day_name(ctx, weekday), at=at)


@router.command("digest off", aliases=["周报 关"], help=T.help_off, admin=True)
async def off(ctx: Context) -> Text:
    """Stop the scheduled digest here."""
    assert ctx.conversation is not None
    await _settings(ctx)
    await ctx.repos.digest.set_schedule(ctx.conversation.id, enabled=False)
    return T.off


@router.command("digest on", aliases=["周报 开"], help=T.help_on, admin=True)
async def on(ctx: Context) -> str:
    """Resume the scheduled digest here."""
    assert ctx.conversation is not None
    settings = await _settings(ctx)
    await ctx.repos.digest.set_schedule(ctx.conversation.id, enabled=True)
    weekday, at = group_slot(ctx, settings)
    return ctx.t(T.on, day=_day_name(ctx, weekday), at=at)
