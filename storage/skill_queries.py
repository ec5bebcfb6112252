"""The SQL of skill matching: the scores of a lookup as a table, candidate names from the
keyword index, and the best posts and partners, ranked in the database."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sqlalchemy import (
    Float,
    String,
    Table,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    select,
    text,
    union,
    union_all,
)

from storage.models import BigId, SkillName, SkillPost, SkillTerm

_NAMES: Table = SkillName.__table__  # type: ignore[assignment]
_TERMS: Table = SkillTerm.__table__  # type: ignore[assignment]
_POSTS: Table = SkillPost.__table__  # type: ignore[assignment]


SCORES_SQL = {
    "sqlite": "SELECT json_extract(value, '$[0]') AS name_id,"
    " CAST(json_extract(value, '$[1]') AS REAL) / json_extract(value, '$[2]') AS score"
    " FROM json_each(:{param})",
    "postgresql": "SELECT (e ->> 0)::bigint AS name_id,"
    " (e ->> 1)::float8 / (e ->> 2)::float8 AS score"
    " FROM json_array_elements(CAST(:{param} AS json)) AS e",
}


def scores_json(scores: dict[int, float]) -> str:
    return json.dumps([[i, *float(s).as_integer_ratio()] for i, s in scores.items()])


def scores_table(dialect: str, name: str) -> Any:
    """A table (name_id, score) from the JSON parameter ``<name>_scores``.

    A MATERIALIZED common table expression (SQLite ≥ 3.35, PostgreSQL ≥ 12): as a plain
    subquery SQLite's planner takes ``json_each`` for a big table and scans the group's
    posts outside it, evaluating every score for every post (62 ms for 300 scores against
    400 posts; ``/匹配`` cost 84 ms a message in the mix benchmark). Materialized, the
    scores are read once and each one looks its posts up in ``ix_posts_name`` (0.7 ms).
    sqlite.org/lang_with.html#materialization_hints, postgresql.org/docs/15/queries-with.html.
    """
    cte = (
        text(SCORES_SQL[dialect].format(param=f"{name}_scores"))
        .bindparams(bindparam(f"{name}_scores", type_=String()))
        .columns(column("name_id", BigId), column("score", Float))
        .cte(name)
    )
    # The hint is a syntax error before SQLite 3.35 (Debian 11 ships 3.34): there the CTE
    # stays plain, answering the same, only slower.
    if dialect == "postgresql" or sqlite3.sqlite_version_info >= (3, 35):
        return cte.prefix_with("MATERIALIZED")
    return cte


def candidate_names_stmt(_: Any) -> Any:
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


def best_posts_stmt(dialect: str) -> Any:
    s = scores_table(dialect, "s")
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


def best_partners_stmt(dialect: str, two_way_only: bool) -> Any:
    legs = []
    zero = literal(0.0, Float)
    for kind, name in (("offer", "o"), ("want", "w")):
        s = scores_table(dialect, name)
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
