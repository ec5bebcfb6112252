"""Retention: the hourly job that deletes records past their ``[retention]`` days, and the
line of /我的数据 that tells members how long each kind is kept."""

from __future__ import annotations

from datetime import timedelta

from bot.context import BaseContext, JobContext
from bot.i18n import Text
from bot.router import Router
from storage.retention import RetentionRepo

router = Router("retention")

RETENTION_SECONDS = 3600.0  # hourly

# (config key, what it is) in the order /我的数据 lists them.
KINDS = (
    ("rejected_stories_days", Text("被驳回的故事", "rejected stories")),
    ("like_evidence_days", Text("已撤回或删除的故事的点赞记录", "likes of taken-down stories")),
    ("audit_log_days", Text("管理操作记录", "the admin audit log")),
    ("delivered_outbox_days", Text("已发出的消息副本", "copies of delivered messages")),
    ("pictures_days", Text("故事图片", "story pictures")),
)
KEPT_FOR = Text("{what} {days} 天", "{what} {days} days")
KEPT_FOREVER = Text("{what}一直保留", "{what} kept")
NOTE = Text("保留期限：{kinds}。", "Kept: {kinds}.")


def retention_note(ctx: BaseContext) -> str:
    """How long each kind of record is kept, for /我的数据."""
    cfg = ctx.settings.retention
    parts = []
    for key, what in KINDS:
        days = int(getattr(cfg, key))
        text = KEPT_FOR if days else KEPT_FOREVER
        parts.append(ctx.t(text, what=ctx.t(what), days=days))
    return ctx.t(NOTE, kinds=("；" if ctx.lang == "zh" else "; ").join(parts))


@router.job("retention", every=lambda settings: RETENTION_SECONDS)
async def enforce(ctx: JobContext) -> None:
    """Delete what is past its retention (0 days: kept forever)."""
    cfg = ctx.settings.retention
    repo = RetentionRepo(ctx.session)
    steps = (
        (cfg.rejected_stories_days, repo.rejected_stories),
        (cfg.like_evidence_days, repo.like_evidence),
        (cfg.audit_log_days, repo.audit_log),
        (cfg.delivered_outbox_days, repo.delivered_outbox),
        (cfg.pictures_days, repo.pictures),
    )
    for days, step in steps:
        if days:
            removed = await step(ctx.now - timedelta(days=days))
            if removed:
                ctx.log.info("retention: %s removed %d rows", step.__name__, removed)
