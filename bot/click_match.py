"""Which card, and which button's handler, a click is for.

A click names its card by ``outTrackId``: the card this database delivered under it (each
process remembers the cards it saw: they never change). Its verb must be one of that card's
buttons and its id the card's entity; anything else is a forged click, refused and logged.
``bot.clicks`` runs what this matched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import safety
from bot.cards import ButtonData
from bot.commands import CommandTable
from bot.context import ClickContext
from bot.events import CardClick
from bot.router import ActionRoute
from storage.repositories import Card, CardRepo

log = logging.getLogger("bot.clicks")

Answer = dict[str, Any]  # the ack's response: the card's update, as DingTalk reads it


@dataclass(slots=True)
class Clicked:
    """A card click on its way through a batch."""

    key: str
    data: dict[str, Any]
    click: CardClick | None
    card: Card | None
    route: ActionRoute | None
    ctx: ClickContext | None = None
    response: Answer | None = None


class CardMatcher:
    """Matches clicks to their cards and handlers; remembers the cards it has seen."""

    def __init__(self) -> None:
        self._cards: dict[str, Card] = {}

    async def match(
        self, session: AsyncSession, commands: CommandTable, key: str, data: dict[str, Any]
    ) -> Clicked:
        """The click in ``data`` with its card and its button's handler (None where there is
        no such card, or the verb is not one of its buttons)."""
        try:
            click: CardClick | None = CardClick.from_data(data)
        except ValidationError:
            click = None
        card = await self.card(session, click.out_track_id) if click is not None else None
        if click is not None and card is not None and "id" not in click.params:
            # A button that sends only the constant ``action`` (the tutorial's builder sets
            # 回传参数 as constants; docs/cards.md) acts on the entity this database put on the
            # card, found by its outTrackId (unique forever). An id the button does send is
            # checked by the handler as before.
            click = click.model_copy(update={"params": {**click.params, "id": card.entity_id}})
        route = None
        if click is not None and card is not None:
            button = click.button  # read once: each of its properties unpacks it again
            if on_card(click, card, button):
                route = commands.action(button.action, card.kind)
        return Clicked(key, data, click, card, route)

    async def card(self, session: AsyncSession, out_track_id: str) -> Card | None:
        """A delivered card (they never change, so each process remembers the ones it saw)."""
        card = self._cards.get(out_track_id)
        if card is None:
            card = await CardRepo(session).get(out_track_id)
            if card is not None:
                self._cards[out_track_id] = card
        return card


def on_card(click: CardClick, card: Card, button: ButtonData | None = None) -> bool:
    """Whether the click's verb is one of the card's buttons and its id the card's entity:
    a forged click (an "approve" sent on an event card) is refused and logged. Cards with
    no recorded buttons (delivered before they were recorded) are judged by kind alone.
    ``button`` is ``click.button`` when the caller has it already."""
    if not card.verbs:
        return True
    button = button or click.button
    if button.action in card.verbs and button.id == card.entity_id:
        return True
    log.warning(
        "forged click refused: %r on %r for %s card %s (entity %s, buttons %s)",
        button.action[:40],
        button.id[:40],
        card.kind,
        card.out_track_id,
        card.entity_id,
        ",".join(card.verbs),
    )
    return False


def click_verb(data: dict[str, Any]) -> str:
    """The verb of a click, fit for a log line or an alert ("?" when it has none)."""
    try:
        click = CardClick.from_data(data)
    except (ValidationError, ValueError, TypeError):
        return "?"
    return safety.plain(click.action[:30])
