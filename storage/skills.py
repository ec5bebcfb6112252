"""Repositories for skill swaps: posts, swaps (status changes settled in SQL), the ledger."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    String,
    Table,
    and_,
    bindparam,
    case,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BigId, LedgerEntry, SkillName, SkillPost, SkillTerm, Swap
from storage.repositories import _core, _dialect, _insert, _prebuilt
from storage.secrets import pseudonym_of

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
_SCORES_SQL = {
    "sqlite": "SELECT json_extract(value, '$[0]') AS name_id,"
    " CAST(json_extract(value, '$[1]') AS REAL) / json_extract(value, '$[2]') AS score"
    " FROM json_each(:{param})",
    "postgresql": "SELECT (e ->> 0)::bigint AS name_id,"
    " (e ->> 1)::float8 / (e ->> 2)::float8 AS score"
    " FROM json_array_elements(CAST(:{param} AS json)) AS e",
}


def _scores_json(scores: dict[int, float]) -> str:
    return json.dumps([[i, *float(s).as_integer_ratio()] for i, s in scores.items()])


def _scores_table(dialect: str, name: str) -> Any:
    """A table (name_id, score) from the JSON parameter ``<name>_scores``."""
    return (
        text(_SCORES_SQL[dialect].format(param=f"{name}_scores"))
        .bindparams(bindparam(f"{name}_scores", type_=String()))
        .columns(column("name_id", BigId), column("score", Float))
        .subquery(name)
    )


def _candidate_names_stmt(_: Any) -> Any:
    terms, names = _TERMS.c, _NAMES.c
    in_group = terms.conversation_id == bindparam("group")
    ids = union(
        select(terms.name_id).where(in_group, terms.term.in_(bindparam("any", expanding=True))),
        select(terms.name_id)
        .where(in_group, terms.term.in_(bindparam("all", expanding=True)))
        .group_by(terms.name_id)
        .having(func.count() == bindparam("n_all")),
        select(names.id).where(
            names.conversation_id == bindparam("group"),
            names.norm.in_(bindparam("exact", expanding=True)),
        ),
    ).subquery()
    return select(names.id, names.norm, names.keywords).where(names.id.in_(select(ids.c[0])))


def _best_posts_stmt(dialect: str) -> Any:
    s = _scores_table(dialect, "s")
    # Only a name's ``limit`` oldest posts can be among the best ``limit``: each name's are
    # read from the index in id order, so the work follows the names, not their posts.
    q = _POSTS.alias("q")
    firsts = (
        select(q.c.id)
        .where(
            q.c.conversation_id == bindparam("group"),
            q.c.status == "open",
            q.c.kind == bindparam("kind"),
            q.c.name_id == s.c.name_id,
            q.c.staff_id != bindparam("me"),
        )
        .order_by(q.c.id)
        .limit(bindparam("limit"))
        .correlate(s)
    )
    return (
        select(SkillPost, s.c.score)
        .select_from(s)
        .join(SkillPost, SkillPost.id.in_(firsts))
        .order_by(s.c.score.desc(), SkillPost.id)
        .limit(bindparam("limit"))
    )


def _best_partners_stmt(dialect: str, two_way_only: bool) -> Any:
    legs = []
    zero = literal(0.0, Float)
    for kind, name in (("offer", "o"), ("want", "w")):
        s = _scores_table(dialect, name)
        legs.append(
            select(
                _POSTS.c.staff_id,
                (s.c.score if kind == "offer" else zero).label("a"),
                (s.c.score if kind == "want" else zero).label("b"),
            )
            .join(s, _POSTS.c.name_id == s.c.name_id)
            .where(
                _POSTS.c.conversation_id == bindparam("group"),
                _POSTS.c.status == "open",
                _POSTS.c.kind == kind,
                _POSTS.c.staff_id != bindparam("me"),
            )
        )
    u = union_all(*legs).subquery()
    a, b = func.max(u.c.a), func.max(u.c.b)
    member = u.c.staff_id
    # Ties go by staff id in code-point order, as Python sorts; PostgreSQL's default
    # collation may follow the locale instead.
    by_member = member.collate("C") if dialect == "postgresql" else member
    stmt = select(member, a, b).group_by(member)
    if two_way_only:
        return (
            stmt.where(member.not_in(bindparam("recent", expanding=True)))
            .having(and_(a > 0, b > 0))
            .order_by((a + b).desc(), by_member)
            .limit(bindparam("limit"))
        )
    return stmt.order_by(
        member.in_(bindparam("recent", expanding=True)),  # recent partners last
        case((and_(a > 0, b > 0), 0), else_=1),  # two-way first
        (a + b).desc(),
        by_member,
    ).limit(bindparam("limit"))


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
            await _core(
                self.session,
                _insert(self.session, SkillName)
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
            await _core(self.session, _TERMS.insert(), rows)
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
        rows = await _core(
            self.session,
            _prebuilt(self.session, "skill_candidates", _candidate_names_stmt),
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
        d = _dialect(self.session)
        stmt = _prebuilt(self.session, "skill_best_posts", lambda _: _best_posts_stmt(d))
        rows = await self.session.execute(
            stmt,
            {
                "s_scores": _scores_json(scores),
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
        """The members ``handlers.skill_match.rank`` would list, chosen in SQL.

        ``offers`` scores names others offer against my wants, ``wants`` names others want
        against my offers. A member's score is their best offer plus their best want; the
        order is rank's: recent partners last, two-way first, higher score, staff id.
        """
        if not (offers or wants):
            return []
        d = _dialect(self.session)
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
        two_way = _prebuilt(
            self.session, "skill_two_way", lambda _: _best_partners_stmt(d, two_way_only=True)
        )
        k = 1
        while tiers_a and tiers_b and k < max(len(tiers_a), len(tiers_b)):
            ta, tb = tiers_a[min(k, len(tiers_a)) - 1], tiers_b[min(k, len(tiers_b)) - 1]
            bound = max(ta + tiers_b[0], tiers_a[0] + tb)
            found = (
                await _core(
                    self.session,
                    two_way,
                    {
                        **params,
                        "o_scores": _scores_json({n: s for n, s in offers.items() if s >= ta}),
                        "w_scores": _scores_json({n: s for n, s in wants.items() if s >= tb}),
                    },
                )
            ).all()
            if len(found) >= limit and found[limit - 1][1] + found[limit - 1][2] >= bound:
                return [str(row[0]) for row in found]
            k *= 2
        stmt = _prebuilt(
            self.session, "skill_best_partners", lambda _: _best_partners_stmt(d, False)
        )
        params |= {"o_scores": _scores_json(offers), "w_scores": _scores_json(wants)}
        return [str(m) for m, _a, _b in (await _core(self.session, stmt, params)).all()]

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


@dataclass(slots=True)
class SwapRepo:
    """Swaps: every status change is a conditional UPDATE, so two presses make one change."""

    session: AsyncSession

    async def create(self, **values: Any) -> Swap:
        """A new proposal."""
        swap = Swap(status="proposed", hours=None, recorded_by="", **values)
        swap.updated_at = swap.created_at
        self.session.add(swap)
        await self.session.flush()
        return swap

    async def get(self, conversation_id: str, swap_id: int) -> Swap | None:
        """A swap of this group."""
        swap = await self.session.get(Swap, swap_id, populate_existing=True)
        return swap if swap is not None and swap.conversation_id == conversation_id else None

    async def open_between(self, post_id: int, proposer: str) -> Swap | None:
        """A proposal by ``proposer`` on a post that is still going."""
        return (
            await self.session.execute(
                select(Swap).where(
                    Swap.post_id == post_id,
                    Swap.proposer == proposer,
                    Swap.status.in_(("proposed", "accepted", "done_pending")),
                )
            )
        ).scalar_one_or_none()

    async def move(
        self, swap: Swap, from_status: Sequence[str], to_status: str, now: datetime, **values: Any
    ) -> bool:
        """Change the status only if it is still one of ``from_status``; False if someone was first."""
        result = await self.session.execute(
            update(Swap)
            .where(Swap.id == swap.id, Swap.status.in_(tuple(from_status)))
            .values(status=to_status, updated_at=now, **values)
            .returning(Swap.id)
        )
        moved = result.scalar_one_or_none() is not None
        await self.session.refresh(swap)
        return moved

    async def pending_on_post(self, post_id: int) -> list[Swap]:
        """Proposals on a post not yet answered."""
        rows = await self.session.execute(
            select(Swap).where(Swap.post_id == post_id, Swap.status == "proposed")
        )
        return list(rows.scalars())

    async def recent_partners(
        self, conversation_id: str, staff_id: str, since: datetime
    ) -> set[str]:
        """Members ``staff_id`` swapped with (accepted or done) since ``since``."""
        rows = await self.session.execute(
            select(Swap.proposer, Swap.partner).where(
                Swap.conversation_id == conversation_id,
                Swap.status.in_(("accepted", "done_pending", "done")),
                Swap.updated_at >= since,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
        )
        return {a if b == staff_id else b for a, b in rows.all()}

    async def of_member(self, conversation_id: str, staff_id: str) -> list[Swap]:
        """A member's swaps, newest first."""
        rows = await self.session.execute(
            select(Swap)
            .where(
                Swap.conversation_id == conversation_id,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
            .order_by(Swap.id.desc())
        )
        return list(rows.scalars())

    async def erase(self, conversation_id: str, staff_id: str) -> int:
        """Forget a member's swaps (the ledger keeps its anonymised legs)."""
        result = await self.session.execute(
            delete(Swap).where(
                Swap.conversation_id == conversation_id,
                or_(Swap.proposer == staff_id, Swap.partner == staff_id),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


class LedgerConflict(Exception):
    """A swap's legs could not both be booked; nothing was."""


@dataclass(slots=True)
class LedgerRepo:
    """Double-entry time credits: the teacher's +h and the learner's -h, once per swap."""

    session: AsyncSession

    async def transfer(
        self,
        conversation_id: str,
        swap_id: int,
        teacher: str,
        learner: str,
        hours: float,
        now: datetime,
    ) -> None:
        """Book a swap's two legs together, or nothing: raises ``LedgerConflict`` (with no
        leg written) when either leg exists already, e.g. a leftover of an erased swap whose
        number came back. A one-legged booking would leave the ledger out of balance."""
        # The savepoint rolls back when the block raises, so no leg survives a conflict.
        async with self.session.begin_nested():
            result = await self.session.execute(
                _insert(self.session, LedgerEntry)
                .values(
                    [
                        {
                            "conversation_id": conversation_id,
                            "swap_id": swap_id,
                            "account": teacher,
                            "amount": hours,
                            "at": now,
                        },
                        {
                            "conversation_id": conversation_id,
                            "swap_id": swap_id,
                            "account": learner,
                            "amount": -hours,
                            "at": now,
                        },
                    ]
                )
                .on_conflict_do_nothing(index_elements=["swap_id", "account"])
                .returning(LedgerEntry.id)
            )
            booked = len(result.all())
            if booked != 2:
                raise LedgerConflict(f"swap {swap_id}: {booked} of 2 legs could be booked")

    async def balance(self, conversation_id: str, account: str) -> float:
        """An account's balance."""
        value = await self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0.0)).where(
                LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == account
            )
        )
        return float(value or 0.0)

    async def history(
        self, conversation_id: str, account: str, limit: int = 10
    ) -> list[LedgerEntry]:
        """An account's latest legs."""
        rows = await self.session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == account)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
        return list(rows.scalars())

    async def total(self, conversation_id: str | None = None) -> float:
        """The sum over all accounts (always zero)."""
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0.0))
        if conversation_id is not None:
            stmt = stmt.where(LedgerEntry.conversation_id == conversation_id)
        return float(await self.session.scalar(stmt) or 0.0)

    async def anonymise(self, conversation_id: str, staff_id: str) -> int:
        """Move an erased member's legs to an anonymous account, so balances still sum to zero."""
        result = await self.session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.conversation_id == conversation_id, LedgerEntry.account == staff_id)
            .values(account=await pseudonym_of(self.session, conversation_id, staff_id))
        )
        return int(getattr(result, "rowcount", 0) or 0)
