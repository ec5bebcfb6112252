"""Replies are data: handlers return these; the outbox stores them; the sender delivers them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ToCurrent(BaseModel):
    """Answer in the conversation the event came from (session webhook while valid)."""

    kind: Literal["current"] = "current"


class ToGroup(BaseModel):
    """Post into a group through the OpenAPI (scheduled posts)."""

    kind: Literal["group"] = "group"
    conversation_id: str


class ToMembers(BaseModel):
    """Send one to one to members through the OpenAPI (at most 20 per call; split beyond)."""

    kind: Literal["members"] = "members"
    staff_ids: list[str]
    # A notice the member must know (a promotion, a change, a swap to confirm, a check-in
    # code): given up one to one, it goes to the member in ``group``, then to the operators
    # (bot.notices). ``secret``: its text is not for the group (only that it is waiting).
    important: bool = False
    secret: bool = False
    group: str = ""  # filled in by the outbox: the group the notice belongs to


Target = ToCurrent | ToGroup | ToMembers


class TextReply(BaseModel):
    """A plain-text message."""

    type: Literal["text"] = "text"
    content: str
    at_staff_ids: list[str] = Field(default_factory=list)
    to: Target = Field(default_factory=ToCurrent, discriminator="kind")


class MarkdownReply(BaseModel):
    """A markdown message (member text inside must already be neutralised)."""

    type: Literal["markdown"] = "markdown"
    title: str
    text: str
    at_staff_ids: list[str] = Field(default_factory=list)
    to: Target = Field(default_factory=ToCurrent, discriminator="kind")


class CardReply(BaseModel):
    """An interactive card, or its markdown fallback when no template is configured."""

    type: Literal["card"] = "card"
    kind: str
    entity_id: str
    template_id: str = ""
    # Set by the outbox when the card is written: a fresh id, unique forever (bot.cards).
    out_track_id: str = ""
    title: str
    data: dict[str, str] = Field(default_factory=dict)
    fallback_markdown: str
    # The command that shows the content in full, named on the card when a value is cut to
    # the card platform's 1 KB (see bot.cards.fit_card_data).
    full_command: str = ""
    to: Target = Field(default_factory=ToCurrent, discriminator="kind")


class ImageReply(BaseModel):
    """A picture (PNG bytes, base64), uploaded by the sender and sent by its media id
    (``sampleImageMsg``): the robot send APIs take pictures only by media id."""

    type: Literal["image"] = "image"
    title: str
    png_base64: str
    to: Target = Field(default_factory=ToCurrent, discriminator="kind")


class CardUpdate(BaseModel):
    """Update a delivered card's public data by key."""

    type: Literal["card_update"] = "card_update"
    out_track_id: str
    data: dict[str, str]


Reply = TextReply | MarkdownReply | CardReply | ImageReply | CardUpdate


class CardResponse(BaseModel):
    """What a card click answers at once: public data and the clicker's own view."""

    card_data: dict[str, str] = Field(default_factory=dict)
    private_data: dict[str, str] = Field(default_factory=dict)

    def to_wire(self) -> dict[str, object]:
        """The ``response`` object DingTalk expects in the callback's ack."""
        body: dict[str, object] = {
            "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True}
        }
        if self.card_data:
            body["cardData"] = {"cardParamMap": self.card_data}
        if self.private_data:
            body["userPrivateData"] = {"cardParamMap": self.private_data}
        return body
