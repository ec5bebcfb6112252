"""Skill posts and the group's keyword index of skill names (matching reads it in SQL).

Swaps and the ledger are in ``storage.swaps``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Table,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SkillName, SkillPost, SkillTerm
from storage.queries import dialect, prebuilt, run, upsert
from storage.skill_queries import (
    best_partners_stmt,
    best_posts_stmt,
    candidate_names_stmt,
    scores_json,
)

_NAMES: Table = SkillName.__table__  # type: ignore[assignment]
_TERMS: Table = SkillTerm.__table__  # type: ignore[assignment]
_POSTS: Table = SkillPost.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class NameRow:
    """A normalised skill of the group's index, with its keywords."""

    id: int
    norm: str
    words: frozenset[str]


# Scores reach SQL as one JSON parameter, so the statement's text stays the same and
# SQLAlchemy compiles it once (a VALUES list is compiled anew for every call, which cost
# more than the query). Each score goes as its exact ratio (float.as_integer_ratio: an
# integer over a power of two), and SQL divides back to the very same double, so SQL sorts
# sums of scores exactly as Python does.


@dataclass(slots=True)
class SkillRepo:
    """Offers and wants of one group at a time."""

    session: AsyncSession

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
    ) -> SkillPost:
        """A new open post (``name_id`` from ``name_for`` puts it in the keyword index)."""
        post = SkillPost(
            conversation_id=conversation_id,
            staff_id=staff_id,
            nick=nick,
            kind=kind,
            skill=skill,
            keywords=keywords,
            detail=detail,
            status="open",
            created_at=now,
            name_id=name_id,
        )
        self.session.add(post)
        await self.session.flush()
        return post

    async def name_for(
        self, conversation_id: str, norm: str, keywords: str, terms: Iterable[str]
    ) -> int:
        """The id of a normalised skill in the group's index, adding it under ``terms``."""
        created = (
            await run(
                self.session,
                upsert(self.session, SkillName)
                .values(conversation_id=conversation_id, norm=norm, keywords=keywords)
                .on_conflict_do_nothing(index_elements=["conversation_id", "norm"])
                .returning(_NAMES.c.id),
            )
        ).scalar_one_or_none()
        if created is None:  # known already (or added by a transaction that just committed)
            found = await self.session.scalar(
                select(_NAMES.c.id).where(
                    _NAMES.c.conversation_id == conversation_id, _NAMES.c.norm == norm
                )
            )
            assert found is not None
            return int(found)
        rows = [{"conversation_id": conversation_id, "term": t, "name_id": created} for t in terms]
        if rows:
            await run(self.session, _TERMS.insert(), rows)
        return int(created)

    def database(self) -> str:
        """Which database this is (cached scores are per database, as names ids are)."""
        bind = self.session.bind
        url = getattr(bind, "url", None)  # an AsyncEngine's (an AsyncConnection's engine has it)
        if url is None and bind is not None:
            url = getattr(getattr(bind, "engine", None), "url", None)
        return url.render_as_string(hide_password=True) if url is not None else str(id(bind))

    async def names_version(self, conversation_id: str) -> int:
        """The group's largest skill-name id: it changes whenever a name is added (ids are
        never reused), so scores cached under it are current."""
        value = await self.session.scalar(
            select(func.max(_NAMES.c.id)).where(_NAMES.c.conversation_id == conversation_id)
        )
        return int(value or 0)

    async def candidate_names(
        self,
        conversation_id: str,
        *,
        any_terms: Collection[str],
        all_terms: Collection[str],
        exact: Collection[str],
    ) -> list[NameRow]:
        """Names of the group stored under any of ``any_terms``, under all of ``all_terms``,
        or equal to one of ``exact``: index look-ups, never a scan of the posts."""
        if not (any_terms or all_terms or exact):
            return []
        all_set = set(all_terms)
        rows = await run(
            self.session,
            prebuilt(self.session, "skill_candidates", candidate_names_stmt),
            {
                "group": conversation_id,
                "any": list(any_terms),
                "all": list(all_set),
                "n_all": len(all_set),
                "exact": list(exact),
            },
        )
        return [NameRow(i, n, frozenset(k.split())) for i, n, k in rows.all()]

    async def best_posts(
        self,
        conversation_id: str,
        kind: str,
        scores: dict[int, float],
        *,
        not_by: str,
        limit: int,
    ) -> list[tuple[float, SkillPost]]:
        """Open posts of ``kind`` whose names are scored, best first (then oldest)."""
        if not scores:
            return []
        d = dialect(self.session)
        stmt = prebuilt(self.session, "skill_best_posts", lambda _: best_posts_stmt(d))
        rows = await self.session.execute(
            stmt,
            {
                "s_scores": scores_json(scores),
                "group": conversation_id,
                "kind": kind,
                "me": not_by,
                "limit": limit,
            },
        )
        return [(float(score), post) for post, score in rows.all()]

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
    ) -> list[SkillPost]:
        """The open posts of some members, oldest first."""
        if not staff_ids:
            return []
        rows = await self.session.execute(
            select(SkillPost)
            .where(
                SkillPost.conversation_id == conversation_id,
                SkillPost.staff_id.in_(list(staff_ids)),
                SkillPost.status == "open",
            )
            .order_by(SkillPost.id)
        )
        return list(rows.scalars())

    async def latest_open(
        self, conversation_id: str, limit: int, name_ids: Collection[int] | None = None
    ) -> list[SkillPost]:
        """The group's latest ``limit`` open posts (of these names), oldest first."""
        stmt = select(SkillPost).where(
            SkillPost.conversation_id == conversation_id, SkillPost.status == "open"
        )
        if name_ids is not None:
            stmt = stmt.where(SkillPost.name_id.in_(list(name_ids)))
        rows = await self.session.execute(stmt.order_by(SkillPost.id.desc()).limit(limit))
        return list(reversed(list(rows.scalars())))

    async def get(self, conversation_id: str, post_id: int) -> SkillPost | None:
        """A post of this group (another group's is unknown)."""
        post = await self.session.get(SkillPost, post_id)
        return post if post is not None and post.conversation_id == conversation_id else None

    async def open_posts(self, conversation_id: str) -> list[SkillPost]:
        """Every open post of the group, oldest first."""
        rows = await self.session.execute(
            select(SkillPost)
            .where(SkillPost.conversation_id == conversation_id, SkillPost.status == "open")
            .order_by(SkillPost.id)
        )
        return list(rows.scalars())

    async def of_member(self, conversation_id: str, staff_id: str) -> list[SkillPost]:
        """A member's posts in the group, newest first."""
        rows = await self.session.execute(
            select(SkillPost)
            .where(SkillPost.conversation_id == conversation_id, SkillPost.staff_id == staff_id)
            .order_by(SkillPost.id.desc())
        )
        return list(rows.scalars())

    async def withdraw(self, post: SkillPost) -> bool:
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
        if names:
            orphans = select(_NAMES.c.id).where(
                _NAMES.c.id.in_(list(names)),
                ~select(_POSTS.c.id).where(_POSTS.c.name_id == _NAMES.c.id).exists(),
            )
            orphan_ids = list((await self.session.scalars(orphans)).all())
            if orphan_ids:
                await self.session.execute(delete(_TERMS).where(_TERMS.c.name_id.in_(orphan_ids)))
                await self.session.execute(delete(_NAMES).where(_NAMES.c.id.in_(orphan_ids)))
        return int(getattr(result, "rowcount", 0) or 0)
