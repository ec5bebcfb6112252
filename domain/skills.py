"""Skill matching over a group's keyword index: scores (cached per names version), posting
into the index, best matches, browsing and partner ranking. The pure scoring is
``domain.skill_match``; this module reads the index through ``storage.skills.SkillRepo``."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from bot.batching import one_turn
from domain.skill_match import (
    TOKENIZER_ID,
    Match,
    Post,
    containing_terms,
    index_terms,
    keyword_terms,
    keywords,
    normalise,
    rank,
    score,
    substrings,
)
from storage.skills import SkillRepo
from storage.views import PostView


def post_words(post: PostView) -> frozenset[str]:
    return frozenset(post.keywords.split())


def as_post(post: PostView) -> Post:
    return Post(post.id, post.staff_id, post.kind, post.skill, post_words(post))


# -- matching through the keyword index ----------------------------------------------------

# A normalised skill longer than this (only NFKC's expansions get there: a skill is at
# most 40 characters as typed) looks up names by its characters instead of listing all its
# substrings; score() still decides, so the result is the same.
LONGEST_SUBSTRING_LOOKUP = 80


# Scores of a normalised skill against the group's names, under the group's names version:
# the names only change by being added (which changes the version) or erased (whose posts
# are gone, so a stale score finds nothing to join), so a hit is as good as a recomputation
# in any process. Bounded: the least recently used go first.
_SCORES: OrderedDict[tuple[str, str, str], tuple[int, dict[int, float]]] = OrderedDict()
SCORE_CACHE_SIZE = 4096


async def scores(
    repo: SkillRepo,
    conversation_id: str,
    norm: str,
    words: frozenset[str],
    version: int | None = None,
) -> dict[int, float]:
    """Every indexed skill of the group scoring above 0 against ``norm``, by name id."""
    if not norm:
        return {}
    if version is None:
        version = await repo.names_version(conversation_id)
    key = (repo.database(), conversation_id, norm)  # one process may use several databases
    hit = _SCORES.get(key)
    if hit is not None and hit[0] == version:
        _SCORES.move_to_end(key)
        return hit[1]
    found = await _compute_scores(repo, conversation_id, norm, words)
    _SCORES[key] = (version, found)
    if len(_SCORES) > SCORE_CACHE_SIZE:
        _SCORES.popitem(last=False)
    return found


async def _compute_scores(
    repo: SkillRepo, conversation_id: str, norm: str, words: frozenset[str]
) -> dict[int, float]:
    if len(norm) <= LONGEST_SUBSTRING_LOOKUP:
        any_terms, exact = keyword_terms(words), substrings(norm)
    else:
        any_terms, exact = keyword_terms(words) | {f"c:{ch}" for ch in norm}, set()
    names = await repo.candidate_names(
        conversation_id, any_terms=any_terms, all_terms=containing_terms(norm), exact=exact
    )
    found = {}
    for name in names:
        s = score(norm, name.norm, words, name.words)
        if s > 0:
            found[name.id] = s
    return found


async def add_post(
    repo: SkillRepo,
    *,
    conversation_id: str,
    staff_id: str,
    nick: str,
    kind: str,
    skill: str,
    detail: str,
    now: datetime,
) -> PostView:
    """Store a post and put its skill in the group's keyword index."""
    norm, words = normalise(skill), keywords(skill)
    joined = " ".join(sorted(words))
    return await repo.add(
        conversation_id=conversation_id,
        staff_id=staff_id,
        nick=nick,
        kind=kind,
        skill=skill,
        keywords=joined,
        detail=detail,
        now=now,
        name_id=await repo.name_for(
            conversation_id, norm, joined, index_terms(norm, words), TOKENIZER_ID
        ),
    )


async def best_matches(
    repo: SkillRepo, post: PostView, limit: int = 3
) -> list[tuple[float, PostView]]:
    """Open posts of the other kind by others, best match first (then oldest)."""
    found = await scores(repo, post.conversation_id, normalise(post.skill), post_words(post))
    opposite = "want" if post.kind == "offer" else "offer"
    return await repo.best_posts(
        post.conversation_id, opposite, found, not_by=post.staff_id, limit=limit
    )


async def browse(repo: SkillRepo, conversation_id: str, keyword: str | None) -> list[PostView]:
    """The group's latest 30 open posts, of those matching ``keyword`` if given."""
    if not keyword:
        return await repo.latest_open(conversation_id, 30)
    found = await scores(repo, conversation_id, normalise(keyword), keywords(keyword))
    return await repo.latest_open(conversation_id, 30, found) if found else []


async def partners(
    repo: SkillRepo, conversation_id: str, me: str, recent: set[str], limit: int = 5
) -> tuple[list[PostView], list[Match]]:
    """``rank`` over the group's open posts, reading only mine and my best partners'.

    The group's indexed skills are scored against each of mine (the best per name), SQL
    picks the members rank() would list, and rank() orders just their posts: the same
    answer as ranking every post, at the cost of a few index look-ups.
    """
    mine = await repo.open_posts_of(conversation_id, [me])
    version = await repo.names_version(conversation_id)
    offers: dict[int, float] = {}  # names others offer, against my wants
    wants: dict[int, float] = {}  # names others want, against my offers
    # Each look-up below is 0.5-4 ms of the loop thread's CPU on a quiet machine (the
    # inline SQLite driver never suspends), and /匹配 held the loop 9 ms at once, 13 under
    # load (issue 15): a whole turn of the loop after each. Reads only, so nothing changes
    # meaning between them.
    for p in mine:
        side = offers if p.kind == "want" else wants
        found = await scores(repo, conversation_id, normalise(p.skill), post_words(p), version)
        for name_id, s in found.items():
            side[name_id] = max(s, side.get(name_id, 0.0))
        await one_turn()
    chosen = await repo.best_partners(
        conversation_id, me, offers=offers, wants=wants, recent=recent, limit=limit
    )
    await one_turn()
    posts = sorted(mine + await repo.open_posts_of(conversation_id, chosen), key=lambda p: p.id)
    return posts, rank(me, [as_post(p) for p in posts], recent, limit)


# -- re-cutting names another tokenizer indexed ---------------------------------------------

RECUT_STEP = 10  # names re-cut between two turns of the loop (each a few statements)


async def recut_names(repo: SkillRepo, limit: int) -> tuple[int, int]:
    """Re-cut up to ``limit`` names whose keywords another tokenizer gave (names indexed
    before the present one): those whose keywords now differ are indexed anew with their
    posts, the others are only marked. Returns (names checked, names re-indexed)."""
    names = await repo.cut_by_others(TOKENIZER_ID, limit)
    same: list[int] = []
    changed = 0
    for i, (name_id, _group, norm, old) in enumerate(names):
        words = keywords(norm)
        joined = " ".join(sorted(words))
        if joined == old:
            same.append(name_id)
        else:
            await repo.recut(name_id, joined, index_terms(norm, words), TOKENIZER_ID)
            changed += 1
        if i % RECUT_STEP == RECUT_STEP - 1:
            await one_turn()  # SQLite runs in the loop's thread: let pushes and acks through
    await repo.mark_cut_by(same, TOKENIZER_ID)
    return len(names), changed
