"""The sign-up card's buttons: join (a storm of clicks handled together) and leave."""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import ClickContext
from bot.errors import UserError
from bot.replies import CardResponse
from bot.router import Router
from handlers.volunteers.cards import card_data, card_updates
from handlers.volunteers.common import join_members, leave_event
from handlers.volunteers.texts import T
from storage.models import Event

router = Router("volunteers.clicks", module="volunteers")


async def click_answers(
    ctxs: Sequence[ClickContext], event: Event, outcomes: list[tuple[str, str]]
) -> list[CardResponse]:
    """Answers to clicks on an activity's card, one per (message, own state): each carries
    the counts after all of them. The acks update the clicked cards; the activity's other
    cards are updated once, by the last click's context."""
    taken, waiting = await ctxs[0].repos.signups.counts(event.id)
    clicked = {c.click.out_track_id for c in ctxs}
    for update in await card_updates(ctxs[-1], event, skip=clicked, counts=(taken, waiting)):
        ctxs[-1].reply(update)
    # The same public data for every click of the batch: built once (building it per click
    # was half the join handler's time in a storm of 1,000 clicks).
    data = card_data(ctxs[-1], event, taken, waiting)
    return [
        CardResponse(card_data=data, private_data={"state": state, "message": message})
        for message, state in outcomes
    ]


@router.batch_action("join", acts=True)
async def join_clicks(ctxs: Sequence[ClickContext]) -> list[CardResponse | UserError]:
    """The join button, for every click that arrived together: signed up in arrival order,
    each answered at once with the counts and the clicker's own state."""
    answers: list[CardResponse | UserError | None] = [None] * len(ctxs)
    by_event: dict[int, list[int]] = {}
    for index, ctx in enumerate(ctxs):
        try:
            by_event.setdefault(ctx.click_id(T.unknown), []).append(index)
        except UserError as exc:
            answers[index] = exc
    for event_id, indexes in by_event.items():
        group = [ctxs[i] for i in indexes]
        try:
            outcomes, event = await join_members(group, event_id)
        except UserError as exc:
            for i in indexes:
                answers[i] = exc
            continue
        for i, answer in zip(indexes, await click_answers(group, event, outcomes), strict=True):
            answers[i] = answer
    return [answer for answer in answers if answer is not None]


@router.action("leave")
async def leave_click(ctx: ClickContext) -> CardResponse:
    """The leave button."""
    event_id = ctx.click_id(T.unknown)
    event = await leave_event(ctx, event_id)
    [answer] = await click_answers([ctx], event, [(ctx.t(T.left, id=event_id), "")])
    return answer
