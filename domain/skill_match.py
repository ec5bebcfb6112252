"""Skill matching: normalisation, Chinese keywords (rjieba) and scores, pure and testable.

"短视频剪辑" meets "视频剪辑" (shared words), "PPT" meets "ppt设计" (case and width folded,
then a shared word). A two-way match (each can teach what the other wants) ranks above any
one-way match; members one swapped with recently rank last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# rjieba binds jieba-rs (maintained; jieba itself has had no release since 2020). It loads
# its dictionary when imported, about 0.1 s holding the GIL, so a thread would not spare the
# event loop: this module is imported with the handlers, before the bot connects, when no
# push can be waiting. Its search-mode tokens equal jieba's on the skill vocabulary (646
# skills compared, none differ; see the README's benchmark notes).
import rjieba

_SPACES = re.compile(r"\s+")


def normalise(skill: str) -> str:
    """Fold width and case, collapse whitespace: "ＰＰＴ  设计" → "ppt 设计"."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", skill).casefold()).strip()


def keywords(skill: str) -> frozenset[str]:
    """The words of a skill worth matching on: multi-character Chinese words and Latin or
    digit tokens (single characters such as 学 or 短 carry no meaning alone)."""
    words = set()
    for token in rjieba.cut_for_search(normalise(skill)):
        token = token.strip()
        if not token or not any(ch.isalnum() for ch in token):
            continue
        if len(token) >= 2 or token.isascii():
            words.add(token)
    return frozenset(words)


def similarity(
    a: str, b: str, ka: frozenset[str] | None = None, kb: frozenset[str] | None = None
) -> float:
    """0 to 1: shared keywords (Jaccard), at least 0.8 when one skill contains the other."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ka = ka if ka is not None else keywords(a)
    kb = kb if kb is not None else keywords(b)
    return score(na, nb, ka, kb)


def score(na: str, nb: str, ka: frozenset[str], kb: frozenset[str]) -> float:
    """``similarity`` of two skills already normalised, with their keywords."""
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    shared = len(ka & kb)
    result = shared / len(ka | kb) if shared else 0.0
    if na in nb or nb in na:
        result = max(result, 0.8)
    return result


# -- the keyword index ----------------------------------------------------------------------
# A skill scores above 0 against a normalised skill ``n`` with keywords ``k`` exactly when
# it is ``n``, shares a keyword with it, is contained in ``n`` or contains ``n``. The index
# stores each normalised skill under its keywords ("k:"), its characters ("c:") and its
# character pairs ("b:"); the four cases are then found with indexed look-ups only:
# ``keyword_terms`` for a shared keyword, ``substrings`` (exact names) for "contained in n"
# and "is n", ``containing_terms`` (a superset, checked by ``score``) for "contains n".


def index_terms(norm: str, words: frozenset[str]) -> set[str]:
    """Every term a normalised skill is stored under."""
    terms = {f"k:{w}" for w in words}
    terms.update(f"c:{ch}" for ch in norm)
    terms.update(f"b:{norm[i : i + 2]}" for i in range(len(norm) - 1))
    return terms


def keyword_terms(words: frozenset[str]) -> set[str]:
    """The terms of skills sharing a keyword with ``words``."""
    return {f"k:{w}" for w in words}


def containing_terms(norm: str) -> set[str]:
    """Terms every skill containing ``norm`` has (all of them; not only those skills)."""
    if len(norm) == 1:
        return {f"c:{norm}"}
    return {f"b:{norm[i : i + 2]}" for i in range(len(norm) - 1)}


def substrings(norm: str) -> set[str]:
    """Every non-empty substring of ``norm``: the skills ``norm`` contains, itself included."""
    return {norm[i:j] for i in range(len(norm)) for j in range(i + 1, len(norm) + 1)}


@dataclass(frozen=True, slots=True)
class Post:
    """What the matcher needs of a skill post."""

    id: int
    member: str
    kind: str  # offer | want
    skill: str
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate partner for a member."""

    member: str
    score: float
    two_way: bool
    recent: bool
    they_teach: tuple[Post, Post] | None  # (my want, their offer)
    i_teach: tuple[Post, Post] | None  # (my offer, their want)


def _best(mine: Iterable[Post], theirs: Iterable[Post]) -> tuple[float, tuple[Post, Post] | None]:
    best, pair = 0.0, None
    for a in mine:
        for b in theirs:
            s = similarity(a.skill, b.skill, a.words, b.words)
            if s > best:
                best, pair = s, (a, b)
    return best, pair


def rank(me: str, posts: list[Post], recent_partners: set[str], limit: int = 5) -> list[Match]:
    """The best partners for ``me``: two-way matches first, then by score; recent partners last."""
    my_wants = [p for p in posts if p.member == me and p.kind == "want"]
    my_offers = [p for p in posts if p.member == me and p.kind == "offer"]
    others = sorted({p.member for p in posts if p.member != me})
    matches = []
    for other in others:
        their_offers = [p for p in posts if p.member == other and p.kind == "offer"]
        their_wants = [p for p in posts if p.member == other and p.kind == "want"]
        s1, teach_me = _best(my_wants, their_offers)
        s2, i_teach = _best(my_offers, their_wants)
        if s1 <= 0 and s2 <= 0:
            continue
        two_way = s1 > 0 and s2 > 0
        matches.append(
            Match(
                other,
                s1 + s2,
                two_way,
                other in recent_partners,
                teach_me if s1 > 0 else None,
                i_teach if s2 > 0 else None,
            )
        )
    matches.sort(key=lambda m: (m.recent, not m.two_way, -m.score, m.member))
    return matches[:limit]
