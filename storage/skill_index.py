"""The group's keyword index of skill names (skill_names, skill_terms): matching reads it in
SQL, so candidates are found without reading every post. ``SkillRepo`` (the posts) keeps it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SkillName, SkillPost, SkillTerm
from storage.queries import prebuilt, run, table
from storage.skill_queries import candidate_names_stmt

_NAMES = table(SkillName)
_TERMS = table(SkillTerm)
_POSTS = table(SkillPost)


@dataclass(frozen=True, slots=True)
class NameRow:
    """A normalised skill of the group's index, with its keywords."""

    id: int
    norm: str
    words: frozenset[str]


@dataclass(slots=True)
class SkillIndex:
    """The one writer of the keyword index: names are added with their terms, and dropped
    when no post uses them any more."""

    session: AsyncSession

    async def name_for(
        self,
        conversation_id: str,
        norm: str,
        keywords: str,
        terms: Iterable[str],
        tokenizer: str = "",
    ) -> int:
        """The id of a normalised skill in the group's index, adding it under ``terms``
        (``tokenizer`` names what cut ``keywords``)."""
        # Statements built once and run with parameters (a hot path: every skill post).
        add = prebuilt(
            self.session,
            "skill_name_add",
            lambda insert: (
                insert(_NAMES)
                .on_conflict_do_nothing(index_elements=["conversation_id", "norm"])
                .returning(_NAMES.c.id)
            ),
        )
        params = {
            "conversation_id": conversation_id,
            "norm": norm,
            "keywords": keywords,
            "tokenizer": tokenizer,
        }
        created = (await run(self.session, add, params)).scalar_one_or_none()
        if created is None:  # known already (or added by a transaction that just committed)
            find = prebuilt(
                self.session,
                "skill_name_find",
                lambda _: select(_NAMES.c.id).where(
                    _NAMES.c.conversation_id == bindparam("conversation_id"),
                    _NAMES.c.norm == bindparam("norm"),
                ),
            )
            found = (await run(self.session, find, params)).scalar()
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
        stmt = prebuilt(
            self.session,
            "skill_names_version",
            lambda _: select(func.max(_NAMES.c.id)).where(
                _NAMES.c.conversation_id == bindparam("group")
            ),
        )
        value = (await run(self.session, stmt, {"group": conversation_id})).scalar()
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

    async def forget_unused(self, name_ids: Collection[int]) -> None:
        """Drop the names among ``name_ids`` that no post uses any more, with their terms."""
        if not name_ids:
            return
        orphans = select(_NAMES.c.id).where(
            _NAMES.c.id.in_(list(name_ids)),
            ~select(_POSTS.c.id).where(_POSTS.c.name_id == _NAMES.c.id).exists(),
        )
        orphan_ids = list((await self.session.scalars(orphans)).all())
        if orphan_ids:
            await self.session.execute(delete(_TERMS).where(_TERMS.c.name_id.in_(orphan_ids)))
            await self.session.execute(delete(_NAMES).where(_NAMES.c.id.in_(orphan_ids)))

    async def cut_by_others(self, tokenizer: str, limit: int) -> list[tuple[int, str, str, str]]:
        """Up to ``limit`` names, of any group, whose keywords another tokenizer cut:
        (id, group, norm, keywords), oldest first."""
        rows = await self.session.execute(
            select(_NAMES.c.id, _NAMES.c.conversation_id, _NAMES.c.norm, _NAMES.c.keywords)
            # Two ranges of ix_skill_names_tokenizer ("!=" would read every name).
            .where(or_(_NAMES.c.tokenizer < tokenizer, _NAMES.c.tokenizer > tokenizer))
            .order_by(_NAMES.c.id)
            .limit(limit)
        )
        return [(int(i), str(g), str(n), str(k)) for i, g, n, k in rows.all()]

    async def mark_cut_by(self, name_ids: Collection[int], tokenizer: str) -> None:
        """Record that ``tokenizer`` gives these names the keywords they have."""
        if name_ids:
            await self.session.execute(
                update(_NAMES).where(_NAMES.c.id.in_(list(name_ids))).values(tokenizer=tokenizer)
            )

    async def recut(self, name_id: int, keywords: str, terms: Iterable[str], tokenizer: str) -> int:
        """Index a name anew under new keywords: a new name (a new id, so every process's
        cached scores of the group, versioned by its largest name id, are recomputed), its
        posts moved onto it with the keywords, the old name dropped. Returns the new id."""
        old = (
            await self.session.execute(
                select(_NAMES.c.conversation_id, _NAMES.c.norm).where(_NAMES.c.id == name_id)
            )
        ).one()
        group, norm = str(old[0]), str(old[1])
        # The old name steps aside first, since (group, norm) is unique: renamed to what no
        # member types (a Unicode noncharacter; PostgreSQL text takes no NUL).
        await self.session.execute(
            update(_NAMES).where(_NAMES.c.id == name_id).values(norm=f"\ufdd1{name_id}")
        )
        new_id = await self.name_for(group, norm, keywords, terms, tokenizer)
        await self.session.execute(
            update(_POSTS)
            .where(_POSTS.c.name_id == name_id)
            .values(name_id=new_id, keywords=keywords)
        )
        await self.session.execute(delete(_TERMS).where(_TERMS.c.name_id == name_id))
        await self.session.execute(delete(_NAMES).where(_NAMES.c.id == name_id))
        return new_id
