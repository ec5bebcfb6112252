"""The card catalog: each card kind's variables and buttons, as an admin builds them.

Every button sends ``cardPrivateData.params = {"action": <verb>, "id": <entity id>}``;
every card's ``cardParamMap`` carries ``id`` and ``kind``. ``docs/cards.md`` is written from
this catalog so the templates in DingTalk's card builder match what the bot sends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Button:
    """A card button: its label and the verb it sends."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class CardKind:
    """A card template the bot can fill."""

    kind: str
    config_key: str
    variables: tuple[str, ...]
    buttons: tuple[Button, ...]
    private_variables: tuple[str, ...] = ("message",)


CATALOG: dict[str, CardKind] = {
    kind.kind: kind
    for kind in (
        CardKind(
            "story",
            "story_template",
            ("id", "kind", "title", "body", "author", "likes", "genuine_likes"),
            (Button("赞 / Like", "like"),),
            ("message", "liked"),
        ),
        CardKind(
            "review",
            "review_template",
            ("id", "kind", "title", "body", "author", "status"),
            (Button("通过 / Approve", "approve"), Button("驳回 / Reject", "reject")),
        ),
        CardKind(
            "event",
            "event_template",
            ("id", "kind", "title", "starts", "place", "hours", "seats", "taken", "waitlist"),
            (Button("报名 / Join", "join"), Button("取消报名 / Leave", "leave")),
            ("message", "state"),
        ),
        CardKind(
            "swap",
            "swap_template",
            ("id", "kind", "title", "from", "to", "skill", "status", "hours"),
            (
                Button("接受 / Accept", "accept"),
                Button("拒绝 / Decline", "decline"),
                Button("确认 / Confirm", "confirm"),
            ),
        ),
    )
}
