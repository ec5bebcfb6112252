"""Skill posts, and the matching reads over them (best posts, best partners) in SQL.

The keyword index of skill names is ``storage.skill_index``; swaps and the ledger are in
``storage.swaps``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update

from storage.models import SkillPost
from storage.queries import dialect, prebuilt, run, table
from storage.skill_index import NameRow as NameRow  # public here before the split
from storage.skill_index import SkillIndex
from storage.skill_queries import best_partners_stmt, best_posts_stmt, scores_json
from storage.views import PostView, read_all, read_one, view, views

_POSTS = table(SkillPost)


# Scores reach SQL as one JSON parameter, so the statement's text stays the same and
# SQLAlchemy compiles it once (a VALUES list is compiled anew for every call, which cost
# more than the query). Each score goes as its exact ratio (float.as_integer_ratio: an
# integer over a power of two), and SQL divides back to the very same double, so SQL sorts
# sums of scores exactly as Python does.


@dataclass(slots=True)
class SkillRepo(SkillIndex):
    """Offers and wants of one group at a time (skill_posts); the keyword index their skills
    are in is ``SkillIndex``'s (its methods are this repository's too)."""

    async def add(
        self,
        *,
        conversation_id: str,
        staff_id: str,
        nick: str,
        kind: str,
        skill: str,
        keywords: str,
        detail: str,
        now: datetime,
        name_id: int | None = None,
    ) -> PostView:
        """A new open post (``name_id`` from ``name_for`` puts it in the keyword index)."""
        # Built once, run with parameters on the session's connection: building the INSERT
        # and its cache key on every /我会 and /我想学 cost more than SQLite's work.
        stmt = prebuilt(
            self.session, "skill_post_add", lambda _: insert(_POSTS).returning(*_POSTS.c)
        )
        values = {
            "conversation_id": conversation_id,
            "staff_id": staff_id,
            "nick": nick,
            "kind": kind,
            "skill": skill,
            "keywords": keywords,
            "detail": detail,
            "status": "open",
            "created_at": now,
            "name_id": name_id,
        }
        return view(PostView, (await run(self.session, stmt, values)).one())

    async def best_posts(
        self,
        conversation_id: str,
        kind: str,
        scores: dict[int, float],
        *,
        not_by: str,
        limit: int,
    ) -> list[tuple[float, PostView]]:
        """Open posts of ``kind`` whose names are scored, best first (then oldest)."""
        if not scores:
            return []
        d = dialect(self.session)
        stmt = prebuilt(self.session, "skill_best_posts", lambda _: best_posts_stmt(d))
        rows = await run(
            self.session,
            stmt,
            {
                "s_scores": scores_json(scores),
                "group": conversation_id,
                "kind": kind,
                "me": not_by,
                "limit": limit,
            },
        )
        return [(float(row.score), view(PostView, row)) for row in rows]

    async def best_partners(
        self,
        conversation_id: str,
        me: str,
        *,
        offers: dict[int, float],
        wants: dict[int, float],
        recent: Collection[str],
        limit: int,
    ) -> list[str]:
        """The members ``domain.skill_match.rank`` would list, chosen in SQL.

        ``offers`` scores names others offer against my wants, ``wants`` names others want
        against my offers. A member's score is their best offer plus their best want; the
        order is rank's: recent partners last, two-way first, higher score, staff id.
        """
        if not (offers or wants):
            return []
        d = dialect(self.session)
        params = {"group": conversation_id, "me": me, "recent": list(recent), "limit": limit}
        # Where partners abound (a common word such as 入门 makes most members candidates),
        # ranking them all reads most of the group's posts. The best are usually two-way
        # with the best scores, so first look only among names scoring at least the top
        # tiers: a two-way member missed there scores below ``bound`` (scores are ratios of
        # small integers, far apart compared with a double's rounding). When ``limit``
        # members are found at or above it, they are the answer; otherwise widen the
        # tiers, and in the end rank everyone.
        tiers_a = sorted(set(offers.values()), reverse=True)
        tiers_b = sorted(set(wants.values()), reverse=True)
        two_way = prebuilt(
            self.session, "skill_two_way", lambda _: best_partners_stmt(d, two_way_only=True)
        )
        k = 1
        while tiers_a and tiers_b and k < max(len(tiers_a), len(tiers_b)):
            ta, tb = tiers_a[min(k, len(tiers_a)) - 1], tiers_b[min(k, len(tiers_b)) - 1]
            bound = max(ta + tiers_b[0], tiers_a[0] + tb)
            found = (
                await run(
                    self.session,
                    two_way,
                    {
                        **params,
                        "o_scores": scores_json({n: s for n, s in offers.items() if s >= ta}),
                        "w_scores": scores_json({n: s for n, s in wants.items() if s >= tb}),
                    },
                )
            ).all()
            if len(found) >= limit and found[limit - 1][1] + found[limit - 1][2] >= bound:
                return [str(row[0]) for row in found]
            k *= 2
        stmt = prebuilt(self.session, "skill_best_partners", lambda _: best_partners_stmt(d, False))
        params |= {"o_scores": scores_json(offers), "w_scores": scores_json(wants)}
        return [str(m) for m, _a, _b in (await run(self.session, stmt, params)).all()]

    async def open_posts_of(
        self, conversation_id: str, staff_ids: Collection[str]
    ) -> list[PostView]:
        """The open posts of some members, oldest first."""
        if not staff_ids:
            return []
        stmt = prebuilt(
            self.session,
            "skill_open_posts_of",
            lambda _: (
                select(_POSTS)
                .where(
                    _POSTS.c.conversation_id == bindparam("group"),
                    _POSTS.c.staff_id.in_(bindparam("members", expanding=True)),
                    _POSTS.c.status == "open",
                )
                .order_by(_POSTS.c.id)
            ),
        )
        rows = await run(self.session, stmt, {"group": conversation_id, "members": list(staff_ids)})
        return views(PostView, rows)

    async def latest_open(
        self, conversation_id: str, limit: int, name_ids: Collection[int] | None = None
    ) -> list[PostView]:
        """The group's latest ``limit`` open posts (of these names), oldest first."""
        stmt = select(_POSTS).where(
            _POSTS.c.conversation_id == conversation_id, _POSTS.c.status == "open"
        )
        if name_ids is not None:
            stmt = stmt.where(_POSTS.c.name_id.in_(list(name_ids)))
        rows = await self.session.execute(stmt.order_by(_POSTS.c.id.desc()).limit(limit))
        return list(reversed(views(PostView, rows)))

    async def get(self, conversation_id: str, post_id: int) -> PostView | None:
        """A post of this group (another group's is unknown)."""
        return await read_one(
            self.session,
            PostView,
            select(_POSTS).where(
                _POSTS.c.id == post_id, _POSTS.c.conversation_id == conversation_id
            ),
        )

    async def open_posts(self, conversation_id: str) -> list[PostView]:
        """Every open post of the group, oldest first."""
        return await read_all(
            self.session,
            PostView,
            select(_POSTS)
            .where(_POSTS.c.conversation_id == conversation_id, _POSTS.c.status == "open")
            .order_by(_POSTS.c.id),
        )

    async def of_member(self, conversation_id: str, staff_id: str) -> list[PostView]:
        """A member's posts, newest first."""
        return await read_all(
            self.session,
            PostView,
            select(_POSTS)
            .where(_POSTS.c.conversation_id == conversation_id, _POSTS.c.staff_id == staff_id)
            .order_by(_POSTS.c.id.desc()),
        )

    async def withdraw(self, post: PostView) -> bool:
        """Withdraw an open post; False when it was not open."""
        result = await self.session.execute(
            update(SkillPost)
            .where(SkillPost.id == post.id, SkillPost.status == "open")
            .values(status="withdrawn")
        )
        return bool(getattr(result, "rowcount", 0))

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's posts, and the indexed skills no other post shares."""
        names = set(
            (
                await self.session.scalars(
                    select(SkillPost.name_id).where(
                        SkillPost.conversation_id == conversation_id,
                        SkillPost.staff_id == staff_id,
                        SkillPost.name_id.is_not(None),
                    )
                )
            ).all()
        )
        result = await self.session.execute(
            delete(SkillPost).where(
                SkillPost.conversation_id == conversation_id, SkillPost.staff_id == staff_id
            )
        )
        await self.forget_unused({n for n in names if n is not None})
        return int(getattr(result, "rowcount", 0) or 0)
