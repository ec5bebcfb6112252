"""Pictures sent with stories: fetched from DingTalk after the story is recorded.

The story and its pictures' download codes are recorded with the message (before the ack).
This fetcher then, outside any transaction, asks DingTalk for each picture's temporary link,
reads it within ``stories.picture_max_kb``, checks that the bytes are a picture, uploads it
as media (its media id goes on the story card) and keeps it in the database. Every network
call is awaited on the event loop (httpx), never blocking it; only the bookkeeping runs in
short transactions, each claiming or settling one picture, so two processes never fetch
the same picture and a process that dies mid-fetch leaves it to be fetched again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import safety
from bot.context import JobContext
from bot.errors import DeliveryFailed, PlatformError
from bot.outbox import write_replies
from bot.replies import TextReply, ToGroup, ToMembers
from handlers.stories.cards import card_updates, story_card
from handlers.stories.texts import T
from storage.pictures import PictureJob, PictureRepo

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
# A picture DingTalk would not hand over (busy, throttled) is tried again when its lease
# runs out (storage.pictures.FETCH_LEASE), at most this many times in all.
MAX_ATTEMPTS = 5
# What the media upload takes as an image (上传媒体文件: jpg, gif, png, bmp), by the file's
# first bytes: the content type DingTalk's link declares is not trusted.
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
    (b"BM", "image/bmp", "bmp"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a picture the media upload takes, or None."""
    for magic, content_type, extension in IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type, extension
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What fetching one picture came to: stored (bytes, type, media id), failed (a reason
    for the member), or neither (try again later)."""

    data: bytes = b""
    content_type: str = ""
    media_id: str = ""
    failed: str = ""

    @property
    def retry(self) -> bool:
        return not self.media_id and not self.failed


class PictureFetcher:
    """Fetches the pictures of stories; ``run`` for a supervisor, ``run_once`` for tests."""

    def __init__(self, app: Application) -> None:
        self.app = app

    async def run(self) -> None:
        """Fetch what is waiting, every ``POLL_SECONDS``, until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:  # a database hiccup: logged, tried again at the next poll
                log.exception("story pictures: a run failed")
            await asyncio.sleep(POLL_SECONDS)

    async def run_once(self) -> int:
        """Fetch the pictures waiting now; how many were taken."""
        app = self.app
        async with app.db.transaction() as session:
            jobs = await PictureRepo(session).claim(app.clock.now())
        for job in jobs:
            await self._settle(job, await self._fetch(job))
        return len(jobs)

    async def _fetch(self, job: PictureJob) -> Outcome:
        api, pace = self.app.api, self.app.sender.take_api
        limit = self.app.settings.stories.picture_max_kb * 1024
        try:
            # Within the app-wide rate of each API, shared with the sender's calls.
            await pace("robot/messageFiles/download")
            url = await api.message_file_url(job.download_code)
            data = await api.fetch_file(url, limit)
            kind = sniff(data)
            if kind is None:
                return Outcome(failed="not-image")
            content_type, extension = kind
            await pace("media/upload")
            media_id = await api.media_upload(
                data, f"story-{job.story_id}-{job.id}.{extension}", content_type
            )
        except DeliveryFailed as exc:
            # The platform refused: the code is unknown or expired, the link is gone, or the
            # upload refused the file (40005 type, 40006 size: 全局错误码).
            reason = {"too-large": "too-large", "40006": "too-large", "40005": "not-image"}
            log.info("story picture %d refused: %s", job.id, exc)
            return Outcome(failed=reason.get(exc.code or "", "expired"))
        except PlatformError as exc:
            log.info("story picture %d not fetched yet: %s", job.id, exc)
            return Outcome(failed="unavailable" if job.attempts >= MAX_ATTEMPTS else "")
        return Outcome(data, content_type, media_id)

    async def _settle(self, job: PictureJob, outcome: Outcome) -> None:
        """Record the outcome; tell the member of a failure; post or update the story's card
        once none of its pictures is waiting any more."""
        if outcome.retry:
            return  # the lease keeps it from being taken again until it runs out
        app = self.app
        async with app.db.transaction() as session:
            ctx = JobContext.create(
                settings=app.settings,
                clock=app.clock,
                session=session,
                commands=app.commands,
                job_id="story-pictures",
                key=f"picture:{job.id}",
            )
            pictures = ctx.repos.pictures
            if outcome.failed:
                if await pictures.failed(job.id, outcome.failed):
                    await self._tell_failure(ctx, job, outcome.failed)
            elif not await pictures.stored(
                job.id, outcome.data, outcome.content_type, outcome.media_id
            ):
                return  # the story (or the member's data) was erased meanwhile
            if await pictures.pending_count(job.story_id) == 0:
                await self._show(ctx, job)
            rows = await write_replies(ctx)
        app.sender.hand_over(rows)

    async def _tell_failure(self, ctx: JobContext, job: PictureJob, reason: str) -> None:
        story = await ctx.repos.stories.get(job.conversation_id, job.story_id)
        if story is None:
            return
        why = ctx.t(T.picture_why[reason], limit=ctx.settings.stories.picture_max_kb)
        text = ctx.t(T.picture_failed, id=story.id, title=safety.plain(story.title), n=1, why=why)
        ctx.reply(TextReply(content=text, to=ToMembers(staff_ids=[job.staff_id])))

    async def _show(self, ctx: JobContext, job: PictureJob) -> None:
        """A published story's card: posted now if it waited for its pictures, else given
        the picture (a story still in review gets it on its card when approved)."""
        story = await ctx.repos.stories.get(job.conversation_id, job.story_id)
        if story is None or story.status != "approved":
            return
        media = await ctx.repos.pictures.media_ids(story.id)
        if await ctx.repos.cards.track_ids("story", str(story.id)):
            if media:
                for update in await card_updates(ctx, "story", story.id, {"picture": media[0]}):
                    ctx.reply(update)
            return
        ctx.reply(story_card(ctx, story, media, to=ToGroup(conversation_id=story.conversation_id)))
