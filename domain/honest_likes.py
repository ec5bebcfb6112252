"""Honest likes: a weight in [0, 1] for every like, with the reasons, from signals alone.

Pure and vectorised (numpy), so a million likes score in well under a second. Signals:

* daily cap: a member's likes beyond ``daily_cap`` in one local day count for nothing;
* burst: at least ``burst_min_likes`` likes on one story within ``burst_window_seconds``,
  at least ``burst_suspicious_share`` of them from members first seen shortly before
  (``fresh_member_hours``) or with no activity but liking: those members' likes in the
  burst count ``burst_weight``. Members first seen while the group itself was new (before
  ``settled_before``: the bot joined, so everyone already in the group speaks for the first
  time) are not fresh;
* ring: two members who each liked at least ``ring_min_mutual`` of the other's stories:
  their likes of each other count ``ring_weight``;
* like-only: a member with no activity but liking and at least ``like_only_min_likes``
  likes: their likes count ``like_only_weight``.

A like's weight is the smallest that applies; a like with no signal counts fully.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bot.config import LikesConfig
from domain.likes_outcome import Burst  # numpy-free: the bot's process reads it too

CAP = 1
BURST = 2
RING = 4
LIKE_ONLY = 8
REASON_NAMES = {CAP: "daily_cap", BURST: "burst", RING: "ring", LIKE_ONLY: "like_only"}

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MemberSignals:
    """What the scorer knows of a member of the group."""

    first_seen: float  # epoch seconds
    active: bool  # did anything but like (messages other than likes, or stories)


@dataclass(slots=True)
class Scores:
    """Weights and reasons, aligned with the input likes, and the evidence behind them."""

    weight: Floats
    reasons: Ints
    bursts: list[Burst] = field(default_factory=list)
    rings: list[tuple[str, str, int, int]] = field(default_factory=list)
    like_only: dict[str, int] = field(default_factory=dict)
    capped: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class LikeTable:
    """Likes as columns, members as integer codes into ``names`` (the scorer's input)."""

    story: Ints
    liker: Ints
    author: Ints
    at: Floats
    names: list[str]

    @classmethod
    def build(cls, story: Ints, likers: list[str], authors: list[str], at: Floats) -> LikeTable:
        """Code likers and authors in one namespace (a dict pass: no sorting of strings)."""
        codes: dict[str, int] = {}
        n = len(likers)
        liker = np.fromiter((codes.setdefault(m, len(codes)) for m in likers), np.int64, n)
        author = np.fromiter((codes.setdefault(a, len(codes)) for a in authors), np.int64, n)
        return cls(
            np.asarray(story, np.int64), liker, author, np.asarray(at, np.float64), list(codes)
        )

    @classmethod
    def from_rows(cls, rows: list[tuple[int, str, str, float]]) -> LikeTable:
        """From (story id, liker, author, epoch seconds) tuples."""
        if not rows:
            return cls.build(np.zeros(0, np.int64), [], [], np.zeros(0, np.float64))
        story, liker, author, at = zip(*rows, strict=True)
        return cls.build(np.asarray(story, np.int64), list(liker), list(author), np.asarray(at))

    def __len__(self) -> int:
        return len(self.story)


def reason_names(mask: int) -> list[str]:
    """The names of the reasons in a bit mask."""
    return [name for bit, name in REASON_NAMES.items() if mask & bit]


def local_days(at: Floats, zone: ZoneInfo) -> Ints:
    """The local calendar day of each timestamp (offsets looked up once per UTC day)."""
    if len(at) == 0:
        return np.zeros(0, np.int64)
    utc_day = np.floor(at / 86400).astype(np.int64)
    days, inverse = np.unique(utc_day, return_inverse=True)
    offsets = np.array(
        [
            (datetime(1970, 1, 1, 12, tzinfo=UTC) + timedelta(days=int(d)))
            .astimezone(zone)
            .utcoffset()
            .total_seconds()  # type: ignore[union-attr]
            for d in days
        ],
        np.float64,
    )
    return np.floor((at + offsets[inverse]) / 86400).astype(np.int64)


def score(
    likes: LikeTable,
    members: Mapping[str, MemberSignals],
    cfg: LikesConfig,
    zone: ZoneInfo,
    settled_before: float | None = None,
) -> Scores:
    """Weigh every like; deterministic for the same input.

    Args:
        likes: the group's likes.
        members: what is known of each member.
        cfg: the thresholds.
        zone: the community's time zone (for the daily cap).
        settled_before: epoch seconds; a member first seen before it was in the group
            before the bot came (the group's first day), so is never "fresh".
    """
    n = len(likes)
    weight = np.ones(n, np.float64)
    reasons = np.zeros(n, np.int64)
    scores = Scores(weight, reasons)
    if n == 0:
        return scores
    names = likes.names
    liker = likes.liker
    first_seen = np.array([members[m].first_seen if m in members else np.inf for m in names])
    if settled_before is not None:
        first_seen[first_seen < settled_before] = -np.inf
    active = np.array([members[m].active if m in members else False for m in names], bool)

    # Daily cap: rank each like among its member's likes of that local day.
    day = local_days(likes.at, zone)
    order = np.lexsort((likes.at, day, liker))
    key = liker[order] * 1_000_000 + day[order]
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    over = np.zeros(n, bool)
    over[order] = rank >= cfg.daily_cap
    weight[over] = 0.0
    reasons[over] |= CAP
    for member_code, count in zip(*np.unique(liker[over], return_counts=True), strict=True):
        scores.capped[names[member_code]] = int(count)

    # Like-only members.
    given = np.bincount(liker, minlength=len(names))
    # An author who never liked anything gives nothing, so is no like-only member.
    like_only_member = (~active) & (given >= cfg.like_only_min_likes)
    hit = like_only_member[liker]
    weight[hit] = np.minimum(weight[hit], cfg.like_only_weight)
    reasons[hit] |= LIKE_ONLY
    for member_code in np.flatnonzero(like_only_member):
        scores.like_only[names[member_code]] = int(given[member_code])

    _bursts(likes, liker, first_seen, active, cfg, scores)
    _rings(likes, cfg, scores)
    return scores


def _bursts(
    likes: LikeTable,
    liker: Ints,
    first_seen: Floats,
    active: npt.NDArray[np.bool_],
    cfg: LikesConfig,
    scores: Scores,
) -> None:
    n = len(likes)
    window = cfg.burst_window_seconds
    order = np.lexsort((likes.at, likes.story))
    story = likes.story[order]
    at = likes.at[order]
    # One sorted axis for all stories: each story's times, shifted far from the others.
    span = float(at.max() - at.min()) + 2 * window + 1
    _, story_rank = np.unique(story, return_inverse=True)
    axis = story_rank * span + (at - at.min())
    left = np.searchsorted(axis, axis - window, side="left")
    full = (np.arange(n) - left + 1) >= cfg.burst_min_likes
    if not full.any():
        return
    # Every like inside a full window is part of a burst.
    marks = np.zeros(n + 1, np.int64)
    np.add.at(marks, left[full], 1)
    np.add.at(marks, np.flatnonzero(full) + 1, -1)
    in_burst = np.cumsum(marks[:n]) > 0
    liker_sorted = liker[order]
    fresh = (at - first_seen[liker_sorted]) < cfg.fresh_member_hours * 3600
    inactive = ~active[liker_sorted]
    suspicious = fresh | inactive
    # Clusters: runs of burst likes on the same story.
    idx = np.flatnonzero(in_burst)
    breaks = np.r_[0, np.flatnonzero((np.diff(idx) != 1) | (np.diff(story[idx]) != 0)) + 1]
    for start, stop in zip(breaks, np.r_[breaks[1:], len(idx)], strict=True):
        members = idx[start:stop]
        share = suspicious[members].mean()
        if share < cfg.burst_suspicious_share:
            continue
        hit = members[suspicious[members]]
        original = order[hit]
        scores.weight[original] = np.minimum(scores.weight[original], cfg.burst_weight)
        scores.reasons[original] |= BURST
        scores.bursts.append(
            Burst(
                story_id=int(story[members[0]]),
                likes=len(members),
                seconds=float(at[members[-1]] - at[members[0]]),
                fresh=int(fresh[members].sum()),
                inactive=int((inactive[members] & ~fresh[members]).sum()),
                discounted=len(hit),
                start=float(at[members[0]]),
            )
        )


def _rings(likes: LikeTable, cfg: LikesConfig, scores: Scores) -> None:
    m = len(likes.names)
    pair = likes.liker * m + likes.author
    pairs, counts = np.unique(pair, return_counts=True)
    reverse = (pairs % m) * m + pairs // m
    pos = np.minimum(np.searchsorted(pairs, reverse), len(pairs) - 1)
    back = np.where(pairs[pos] == reverse, counts[pos], 0)
    mutual = (counts >= cfg.ring_min_mutual) & (back >= cfg.ring_min_mutual)
    if not mutual.any():
        return
    hit = np.isin(pair, pairs[mutual])
    scores.weight[hit] = np.minimum(scores.weight[hit], cfg.ring_weight)
    scores.reasons[hit] |= RING
    for p, c, b in zip(pairs[mutual], counts[mutual], back[mutual], strict=True):
        a_code, b_code = divmod(int(p), m)
        if a_code < b_code:
            scores.rings.append((likes.names[a_code], likes.names[b_code], int(c), int(b)))
