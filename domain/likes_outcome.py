"""What a re-scoring of a group's likes found, as the worker process hands it to the bot.

Plain Python only (``array`` columns, dataclasses): the bot's process unpickles it, and must
never import numpy (issue 15: about 11 MB resident for work it does not do).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.config import LikesConfig


@dataclass(slots=True)
class Burst:
    """Evidence of a burst on one story (here, not in ``domain.honest_likes``, so that the bot's
    process reads it without numpy)."""

    story_id: int
    likes: int
    seconds: float
    fresh: int
    inactive: int
    discounted: int
    start: float  # epoch seconds


@dataclass(slots=True)
class Evidence:
    """Why likes count for less: bursts, reciprocal rings, like-only members, daily caps."""

    bursts: list[Burst] = field(default_factory=list)
    rings: list[tuple[str, str, int, int]] = field(default_factory=list)
    like_only: dict[str, int] = field(default_factory=dict)
    capped: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """A group re-scored: the likes whose weight or reasons changed, the stories whose
    genuine count may have changed (with their counts as the worker read them), the
    evidence, and the version of the group's like evidence that was read.

    Columns are ``array``s: not Python objects the garbage collector would walk, and cheap
    to unpickle (a buffer each)."""

    version: int
    likes: int  # how many likes were scored
    like_ids: array[int] = field(default_factory=lambda: array("q"))
    weights: array[float] = field(default_factory=lambda: array("d"))
    reason_codes: array[int] = field(default_factory=lambda: array("B"))
    reason_names: dict[int, str] = field(default_factory=dict)  # code: "burst,ring"
    story_ids: array[int] = field(default_factory=lambda: array("q"))
    story_likes: array[int] = field(default_factory=lambda: array("q"))
    story_genuine: array[float] = field(default_factory=lambda: array("d"))
    evidence: Evidence = field(default_factory=Evidence)

    def weight_rows(self, start: int, stop: int) -> list[dict[str, object]]:
        """``LikeRepo.save_weights`` rows for changes ``start`` to ``stop``."""
        names = self.reason_names
        return [
            {"lid": lid, "w": w, "r": names[code]}
            for lid, w, code in zip(
                self.like_ids[start:stop],
                self.weights[start:stop],
                self.reason_codes[start:stop],
                strict=True,
            )
        ]


def in_worker(url: str, conversation_id: str, cfg: LikesConfig, zone: ZoneInfo) -> Outcome:
    """``domain.likes_worker.rescore_group``, named from here so that the bot's process can
    hand it to the worker without importing it (and numpy with it)."""
    from domain.likes_worker import rescore_group

    return rescore_group(url, conversation_id, cfg, zone)


def warm_up() -> None:
    """Import the worker's modules (numpy, SQLAlchemy, the scorer) in the worker process,
    ahead of its first re-scoring."""
    import domain.likes_worker  # noqa: F401
