"""The keyword index answers exactly as comparing every post did, on SQLite and PostgreSQL.

``domain.skill_match.rank`` over all open posts and ``similarity`` against each one are
the reference (the old code paths); the index-driven ``partners``, ``best_matches`` and
``browse`` must give the same members, scores, pairs and posts.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from domain.skill_match import Post, rank, similarity
from domain.skills import add_post, best_matches, browse, partners
from storage.db import Database
from storage.skills import SkillRepo
from storage.views import PostView

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

# Pairs that meet only through one rule each: a shared keyword (短视频剪辑 / 视频剪辑),
# one containing the other without a shared keyword (java / javascript, 画 / 国画),
# case and width (PPT / ｐｐｔ设计), and skills that meet nothing.
VOCABULARY = [
    "视频剪辑",
    "短视频剪辑",
    "java",
    "javascript",
    "Java 入门",
    "画",
    "国画",
    "油画入门",
    "PPT",
    "ｐｐｔ设计",
    "ppt",
    "python 编程",
    "Python",
    "吉他",
    "古典吉他入门",
    "学吉他",
    "摄影后期",
    "手机摄影",
    "烹饪",
    "excel函数",
    "Excel 函数",
    "c",
    "c++",
    "日语",
    "日语口语",
    "a",
]


def _reference_post(p: PostView) -> Post:
    return Post(p.id, p.staff_id, p.kind, p.skill, frozenset(p.keywords.split()))


async def _all_open(repo: SkillRepo, group: str) -> list[PostView]:
    return await repo.open_posts(group)


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'skills.sqlite3'}"


async def test_index_answers_as_comparing_every_post_sqlite(tmp_path: Path) -> None:
    await _index_answers_as_comparing_every_post(_sqlite(tmp_path))


async def test_index_answers_as_comparing_every_post_postgres(pg_url: str) -> None:
    await _index_answers_as_comparing_every_post(pg_url)


async def test_erasing_forgets_skills_nobody_else_wrote_sqlite(tmp_path: Path) -> None:
    await _erasing_forgets_skills_nobody_else_wrote(_sqlite(tmp_path))


async def test_erasing_forgets_skills_nobody_else_wrote_postgres(pg_url: str) -> None:
    await _erasing_forgets_skills_nobody_else_wrote(pg_url)


async def _index_answers_as_comparing_every_post(url: str) -> None:
    db = Database(url)
    await db.migrate()
    rnd = random.Random(7)
    members = [f"m{i:02d}" for i in range(40)]
    # Two rounds: the second adds skills the first never saw and erases a member, so
    # scores cached in the first round must not be served stale in the second.
    for vocabulary, erased in ((VOCABULARY[::2], "m03"), (VOCABULARY, "m04")):
        async with db.transaction() as session:
            repo = SkillRepo(session)
            for _ in range(200):
                await add_post(
                    repo,
                    conversation_id=rnd.choice(["g1", "g1", "g1", "g2"]),
                    staff_id=rnd.choice(members),
                    nick="",
                    kind=rnd.choice(["offer", "want"]),
                    skill=rnd.choice(vocabulary),
                    detail="",
                    now=NOW,
                )
            for post in rnd.sample(await repo.open_posts("g1"), 10):
                await repo.withdraw(post)
            await repo.erase("g1", erased)
        await _compare(db, members)
    await db.dispose()


async def _compare(db: Database, members: list[str]) -> None:
    async with db.transaction() as session:
        repo = SkillRepo(session)
        posts = await _all_open(repo, "g1")
        reference = [_reference_post(p) for p in posts]
        for me in members:
            for recent in (set(), {"m05", "m07"}):
                want = rank(me, reference, recent)
                _, got = await partners(repo, "g1", me, recent)
                assert [
                    (m.member, m.score, m.two_way, m.recent, m.they_teach, m.i_teach) for m in got
                ] == [
                    (m.member, m.score, m.two_way, m.recent, m.they_teach, m.i_teach) for m in want
                ], me
        for post in posts:
            expected = sorted(
                (
                    (similarity(post.skill, o.skill, *_words(post, o)), o.id)
                    for o in posts
                    if o.kind != post.kind and o.staff_id != post.staff_id
                ),
                key=lambda c: (-c[0], c[1]),
            )
            expected = [c for c in expected if c[0] > 0][:3]
            got_matches = await best_matches(repo, post)
            assert [(s, o.id) for s, o in got_matches] == expected, post.skill
        for keyword in [*VOCABULARY, "剪辑", "script", "吉", "没有的技能"]:
            expected_ids = [p.id for p in posts if similarity(keyword, p.skill) > 0][-30:]
            assert [p.id for p in await browse(repo, "g1", keyword)] == expected_ids, keyword
        # Another group's posts and names never leak in.
        assert all(p.conversation_id == "g1" for p in await browse(repo, "g1", None))


def _words(a: PostView, b: PostView) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(a.keywords.split()), frozenset(b.keywords.split())


async def _erasing_forgets_skills_nobody_else_wrote(url: str) -> None:
    db = Database(url)
    await db.migrate()
    async with db.transaction() as session:
        repo = SkillRepo(session)
        for who, skill in (("alice", "冷门技能"), ("alice", "吉他"), ("bob", "吉他")):
            await add_post(
                repo,
                conversation_id="g",
                staff_id=who,
                nick="",
                kind="offer",
                skill=skill,
                detail="",
                now=NOW,
            )
        await repo.erase("g", "alice")
        assert await browse(repo, "g", "冷门技能") == []
        names = await repo.candidate_names(
            "g", any_terms=set(), all_terms=set(), exact={"冷门技能"}
        )
        assert names == []
        assert [p.staff_id for p in await browse(repo, "g", "吉他")] == ["bob"]
    await db.dispose()
