"""Capped exponential backoff with jitter, shared by the stream edge and the sender."""

from __future__ import annotations

import random


def jittered(attempt: int, *, initial: float, cap: float) -> float:
    """Seconds to wait before try ``attempt + 1``: half the capped step plus random jitter."""
    ceiling: float = min(cap, initial * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)
