"""The heaviest single messages (``/赞``, ``/故事榜``, ``/匹配``, and the skill posts
``/我会`` / ``/我想学``) let the loop run between their heavy steps.

On SQLite a unit of work runs inline, in the loop's thread: a message with no real await
holds the loop for its whole handling. Measured with the mix benchmark's set-up (20 stories,
likes, 200 skill posts) on a quiet machine, a like held it 6-9 ms in one step, the board's
tail after a re-scoring 4.3 ms, a match 9 ms; two to three times that under load (issue 15:
"no piece of work holds the event loop for more than 20 ms"). Each now yields a whole turn
of the loop (``bot.batching.one_turn``) at safe points, inside its unit of work: a timer
that comes due during one heavy step has run before the next one begins.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

import domain.skills
from bot import people
from bot.sandbox.standin import StandIn
from storage.likes import LikeRepo
from storage.models import Story
from storage.repositories import GroupSettingsRepo
from storage.skills import SkillRepo
from storage.stories import StoryRepo
from tests.conftest import BotFactory
from tests.scenario.test_skills import CARDS
from tests.scenario.test_stories import say


async def _a_published_story(standin: StandIn, start_bot: BotFactory) -> tuple[Any, int]:
    app = await start_bot(stories={"review_default": False})
    await say(standin, "/故事 第一天 | 同事们帮我搬了家", sender="alice")
    async with app.db.transaction() as session:
        story = (await session.execute(select(Story.id))).scalar_one()
    return app, story


async def test_a_like_yields_between_the_like_and_its_consequences(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, story = await _a_published_story(standin, start_bot)
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[list[str]] = []
    real_add, real_dirty = LikeRepo.add, GroupSettingsRepo.mark_likes_dirty

    async def add(self: LikeRepo, *args: Any) -> bool:
        added = await real_add(self, *args)
        loop.call_later(0, ran.append, "due during the like")  # a ping, an ack, a timer
        return added

    async def mark_likes_dirty(self: GroupSettingsRepo, *args: Any, **kwargs: Any) -> None:
        seen.append(list(ran))
        await real_dirty(self, *args, **kwargs)

    monkeypatch.setattr(LikeRepo, "add", add)
    monkeypatch.setattr(GroupSettingsRepo, "mark_likes_dirty", mark_likes_dirty)
    sent = await say(standin, f"/赞 {story}", sender="bob")
    assert f"#{story}" in sent.text and "1" in sent.text, sent.text
    assert seen == [["due during the like"]]


async def test_the_board_yields_between_the_rescoring_and_its_reads(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, story = await _a_published_story(standin, start_bot)
    await say(standin, f"/赞 {story}", sender="bob")  # the group is re-scored at the board
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[list[str]] = []
    real_clear, real_top = GroupSettingsRepo.clear_dirty, StoryRepo.top

    async def clear_dirty(self: GroupSettingsRepo, *args: Any) -> None:
        await real_clear(self, *args)
        loop.call_later(0, ran.append, "due during the re-scoring")

    async def top(self: StoryRepo, *args: Any) -> Any:
        seen.append(list(ran))
        return await real_top(self, *args)

    monkeypatch.setattr(GroupSettingsRepo, "clear_dirty", clear_dirty)
    monkeypatch.setattr(StoryRepo, "top", top)
    sent = await say(standin, "/故事榜", sender="carol")
    assert "第一天" in sent.text, sent.text
    assert seen == [["due during the re-scoring"]]
    # Not dirty any more: no re-scoring, and the board reads at once.
    sent = await say(standin, "/故事榜", sender="carol")
    assert "第一天" in sent.text, sent.text
    assert seen[1:] == [["due during the re-scoring"]]


async def test_a_match_yields_after_each_lookup(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start_bot(cards=CARDS)
    for text, who in (
        ("/我会 短视频剪辑", "alice"),
        ("/我想学 PPT设计", "alice"),
        ("/我想学 视频剪辑", "bob"),
        ("/我会 PPT", "bob"),
    ):
        await say(standin, text, sender=who)
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[list[str]] = []
    real_scores, real_best, real_names = (
        domain.skills.scores,
        SkillRepo.best_partners,
        people.names,
    )

    async def scores(*args: Any) -> Any:
        found = await real_scores(*args)
        loop.call_later(0, ran.append, f"due during look-up {len(ran) + 1}")
        return found

    async def best_partners(self: SkillRepo, *args: Any, **kwargs: Any) -> Any:
        seen.append(list(ran))
        chosen = await real_best(self, *args, **kwargs)
        loop.call_later(0, ran.append, "due during the partners' read")
        return chosen

    async def names(*args: Any, **kwargs: Any) -> Any:
        seen.append(list(ran))
        return await real_names(*args, **kwargs)

    monkeypatch.setattr(domain.skills, "scores", scores)
    monkeypatch.setattr(SkillRepo, "best_partners", best_partners)
    monkeypatch.setattr(people, "names", names)
    sent = await say(standin, "/匹配", sender="alice")
    assert "Bob" in sent.text and "双向" in sent.text, sent.text
    lookups = ["due during look-up 1", "due during look-up 2"]
    assert seen == [lookups, [*lookups, "due during the partners' read"]]


async def test_a_skill_post_yields_between_its_write_and_its_matches(
    standin: StandIn, start_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start_bot(cards=CARDS)
    await say(standin, "/我想学 视频剪辑", sender="bob")
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    seen: list[list[str]] = []
    real_add, real_scores = SkillRepo.add, domain.skills.scores

    async def add(self: SkillRepo, **kwargs: Any) -> Any:
        post = await real_add(self, **kwargs)
        loop.call_later(0, ran.append, "due during the post's write")
        return post

    async def scores(*args: Any) -> Any:
        seen.append(list(ran))
        return await real_scores(*args)

    monkeypatch.setattr(SkillRepo, "add", add)
    monkeypatch.setattr(domain.skills, "scores", scores)
    sent = await say(standin, "/我会 短视频剪辑", sender="alice")
    assert "已发布 #" in sent.text and "Bob" in sent.text, sent.text
    assert seen == [["due during the post's write"]]
