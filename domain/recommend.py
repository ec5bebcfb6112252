"""Recommendations (千人千面): what one member may like, each with the reason, pure.

Activities like ones the member joined (shared words of the titles, or the same place),
stories of the week by people the member swapped skills with or joined activities with.
Chinese titles have no spaces, so "words" are character pairs (植树 / 植树节 share 植树);
Latin words count whole. The inputs are plain tuples, so this is tested without a database.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def terms(text: str) -> frozenset[str]:
    """The comparable pieces of a title: CJK character pairs and Latin/number words."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: set[str] = set()
    run: list[str] = []
    word: list[str] = []

    def flush_run() -> None:
        if len(run) == 1:
            out.add(run[0])
        out.update(a + b for a, b in itertools.pairwise(run))
        run.clear()

    def flush_word() -> None:
        if len(word) >= 2:
            out.add("".join(word))
        word.clear()

    for ch in folded:
        if _is_cjk(ch):
            flush_word()
            run.append(ch)
        elif ch.isalnum():
            flush_run()
            word.append(ch)
        else:
            flush_run()
            flush_word()
    flush_run()
    flush_word()
    return frozenset(out)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two titles' terms, in [0, 1]."""
    ta, tb = terms(a), terms(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


@dataclass(frozen=True, slots=True)
class EventPick:
    """An upcoming activity for the member, and the one they joined that it is like."""

    event_id: int
    title: str
    like_title: str
    same_place: bool
    score: float


def pick_events(
    upcoming: Sequence[tuple[int, str, str]],
    joined: Sequence[tuple[str, str]],
    limit: int = 3,
) -> list[EventPick]:
    """Upcoming activities (id, title, place) most like the joined ones (title, place).

    A shared word counts most; the same place counts a little (0.2) on its own. Nothing is
    picked for a member who joined nothing: there is no "like" to go on.
    """
    picks: list[EventPick] = []
    for event_id, title, place in upcoming:
        best: tuple[float, str, bool] | None = None
        for joined_title, joined_place in joined:
            same = bool(place) and place.strip() == joined_place.strip()
            s = similarity(title, joined_title) + (0.2 if same else 0.0)
            if s > 0 and (best is None or s > best[0]):
                best = (s, joined_title, same)
        if best is not None:
            picks.append(EventPick(event_id, title, best[1], best[2], best[0]))
    picks.sort(key=lambda p: (-p.score, p.event_id))
    return picks[:limit]


@dataclass(frozen=True, slots=True)
class StoryPick:
    """A story of the week, by someone the member knows from a swap or an activity."""

    story_id: int
    title: str
    author: str
    swap_skill: str  # the skill they swapped ("" if none)
    event_title: str  # an activity they both joined ("" if none)
    genuine: float


def pick_stories(
    stories: Iterable[tuple[int, str, str, float]],
    swapped: dict[str, str],
    joined_with: dict[str, str],
    limit: int = 3,
) -> list[StoryPick]:
    """Stories (id, title, author, genuine likes) by people in ``swapped`` (author → skill)
    or ``joined_with`` (author → activity title); swap partners first, then most liked."""
    picks = [
        StoryPick(sid, title, author, swapped.get(author, ""), joined_with.get(author, ""), g)
        for sid, title, author, g in stories
        if author in swapped or author in joined_with
    ]
    picks.sort(key=lambda p: (not p.swap_skill, -p.genuine, p.story_id))
    return picks[:limit]


@dataclass(frozen=True, slots=True)
class PartnerPick:
    """A member to swap skills with: what they teach me and what I teach them."""

    member: str
    they_teach: tuple[tuple[str, str], ...]  # (their offer, my want)
    i_teach: tuple[tuple[str, str], ...]  # (my offer, their want)

    @property
    def two_way(self) -> bool:
        """Each can teach the other something."""
        return bool(self.they_teach and self.i_teach)


def pick_partners(posts: Iterable[tuple[str, str, str, str]], limit: int = 3) -> list[PartnerPick]:
    """Members from (member, their side, their skill, my skill) rows of posts on the same
    skill name as one of mine: two-way first, then by how many skills meet, then id."""
    teach: dict[str, list[tuple[str, str]]] = {}
    learn: dict[str, list[tuple[str, str]]] = {}
    for member, kind, theirs, mine in posts:
        if kind == "offer":
            teach.setdefault(member, []).append((theirs, mine))
        else:
            learn.setdefault(member, []).append((mine, theirs))
    picks = [
        PartnerPick(
            m, tuple(dict.fromkeys(teach.get(m, []))), tuple(dict.fromkeys(learn.get(m, [])))
        )
        for m in sorted(set(teach) | set(learn))
    ]
    picks.sort(key=lambda p: (not p.two_way, -(len(p.they_teach) + len(p.i_teach)), p.member))
    return picks[:limit]
