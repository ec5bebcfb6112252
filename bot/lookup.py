"""Look up my entity or refuse: one converter from a number a member typed (or a card button
sent) to the group's entity it names, or a ``UserError`` naming the number.

The router parses ``/交换完成 12 2`` into ``id=12``; a ``Lookup`` turns that ``12`` into the
group's swap #12, or refuses in the member's language. Declare one per entity beside the
feature's texts and use it in commands and clicks alike::

    SWAP = Lookup(lambda repos, group, id: repos.swaps.get(group, id), T.unknown_swap)

    swap = await SWAP.find(ctx, id)  # a command's argument
    swap = await SWAP.clicked(ctx)  # the entity a card button names

It lives beside the router (``bot/args.py`` parses text without a database; this needs the
unit of work's repositories).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.context import ClickContext, EventContext
from bot.errors import UserError
from bot.i18n import Text
from bot.repos import Repos

E = TypeVar("E")

# (the unit of work's repositories, the group's conversation id, the number) → entity or None
Fetch = Callable[[Repos, str, int], Awaitable[E | None]]


@dataclass(frozen=True, slots=True)
class Lookup(Generic[E]):
    """The group's entity with a given number, or a refusal.

    Attributes:
        fetch: reads the entity of one group by its number (``None`` when there is none).
        unknown: the refusal, with ``{id}``, e.g. "没有编号为 #{id} 的交换。".
    """

    fetch: Fetch[E]
    unknown: Text

    async def find(self, ctx: EventContext, entity_id: int) -> E:
        """The entity ``entity_id`` of the context's group.

        Raises:
            UserError: ``unknown`` with the number, when the group has no such entity.
        """
        found = await self.fetch(ctx.repos, ctx.conversation.id, entity_id)
        if found is None:
            raise UserError(self.unknown, id=entity_id)
        return found

    async def clicked(self, ctx: ClickContext) -> E:
        """The entity the clicked card's button names (a forged or stale number is refused
        with the same ``unknown`` text)."""
        return await self.find(ctx, ctx.click_id(self.unknown))
