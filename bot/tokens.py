"""A cached access token: fetched once, shared, and refreshed before it expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Fetches a new token: the token and its lifetime in seconds, as DingTalk said.
Fetch = Callable[[], Awaitable[tuple[str, float]]]


class CachedToken:
    """A token and when to stop using it: five minutes before it expires, or at half its
    lifetime when that is shorter. Callers that ask while it is being fetched wait for that
    one fetch and share its token."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self.value: str | None = None
        self.until = 0.0

    def fresh(self) -> str | None:
        """The token while it may still be used, else None."""
        return self.value if self.value and time.monotonic() < self.until else None

    async def get(self) -> str:
        """The token while it is fresh, else a new one fetched once."""
        if (token := self.fresh()) is not None:
            return token
        async with self._lock:
            if (token := self.fresh()) is not None:
                return token
            token, expire_in = await self._fetch()
            self.value = token
            self.until = time.monotonic() + max(expire_in - 300, expire_in / 2)
            return token

    def clear(self) -> None:
        """Forget the token (DingTalk said it is bad or expired)."""
        self.value = None
        self.until = 0.0
