"""Skill matching: normalisation, Chinese keywords (rjieba) and scores, pure and testable.

"短视频剪辑" meets "视频剪辑" (shared words), "PPT" meets "ppt设计" (case and width folded,
then a shared word). A two-way match (each can teach what the other wants) ranks above any
one-way match; members one swapped with recently rank last.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rjieba import Jieba

# The part of jieba's dictionary the bot cuts skills with (bench/jieba_subset.py made it:
# 56,654 of 349,046 words, with their counts and the whole dictionary's total count).
DICTIONARY = Path(__file__).with_name("data") / "jieba_subset.txt"
# A word no member types (a Unicode noncharacter), given the counts of the words left out,
# so that the total count, which weighs every route through a text, stays the dictionary's.
_REST = "\ufdd0"


def _rjieba_module() -> ModuleType:
    """rjieba's compiled module (``rjieba.rjieba``, where its ``Jieba`` class lives), loaded
    without running the package's ``__init__``, which builds a whole default dictionary
    (349,046 words, about 33 MB resident and 0.1 s) at import, even when only ``Jieba`` is
    imported from it. Only documented ``importlib`` calls; the module is registered under
    its own name, so a later ``import rjieba`` finds and reuses it."""
    loaded = sys.modules.get("rjieba.rjieba")
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("rjieba")  # finds the package without importing it
    if package is None or package.submodule_search_locations is None:
        raise ImportError("rjieba is not installed")
    spec = importlib.machinery.PathFinder.find_spec(
        "rjieba.rjieba", list(package.submodule_search_locations)
    )
    if spec is None or spec.loader is None:
        raise ImportError("rjieba's compiled module rjieba.rjieba was not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_tokenizer(path: Path = DICTIONARY) -> Jieba:
    """A jieba-rs tokenizer with the dictionary subset at ``path`` (``# total N`` first)."""
    tokenizer: Jieba = _rjieba_module().Jieba.empty()
    total = kept = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("# total "):
                total = int(line.split()[2])
            elif not line.startswith("#"):
                word, count = line.split()
                kept += tokenizer.add_word(word, int(count), None)
    if total > kept:
        tokenizer.add_word(_REST, total - kept, None)
    return tokenizer


# Built when this module is imported (with the handlers, before the bot connects, when no
# push can be waiting): 0.05 s and about 5 MB, against 0.1 s and 33 MB for rjieba's default
# dictionary. Its search-mode tokens equal those of the whole dictionary on the skill
# vocabulary, on 14,000 skill-like phrases and on every word of the subset
# (tests/unit/test_jieba_subset.py).
TOKENIZER = load_tokenizer()

# Names the tokenizer and its rules (the dictionary's contents, and ``KEYWORD_RULES``, to be
# raised whenever ``keywords`` changes how it picks words): a skill name indexed under
# another one is re-cut by the skills-reindex job, so old and new posts match alike.
KEYWORD_RULES = 1
TOKENIZER_ID = f"rjieba-{hashlib.sha256(DICTIONARY.read_bytes()).hexdigest()[:16]}-{KEYWORD_RULES}"

_SPACES = re.compile(r"\s+")


def normalise(skill: str) -> str:
    """Fold width and case, collapse whitespace: "ＰＰＴ  设计" → "ppt 设计"."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", skill).casefold()).strip()


def keywords(skill: str) -> frozenset[str]:
    """The words of a skill worth matching on: multi-character Chinese words and Latin or
    digit tokens (single characters such as 学 or 短 carry no meaning alone)."""
    words = set()
    for token in TOKENIZER.cut_for_search(normalise(skill)):
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
