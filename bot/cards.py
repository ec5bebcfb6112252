"""The card catalogue: each card kind's variables and buttons, as an admin builds them.

One entry per kind is the only description of a card: handlers build their cards from it
(``CardKind.build`` refuses a data key the template has no variable for), the outbox records
its verbs (a click on another verb is refused as forged), the sender fills ``cardParamMap``
through it, the sandbox draws its buttons from it, and ``bot.cards_doc`` writes
``docs/cards.md`` from it (a test keeps the two in step).

Every button sends ``cardPrivateData.params`` as a ``ButtonData``: ``{"action": <verb>}``
and, optionally, ``"id": <entity id>``; every card's ``cardParamMap`` carries ``id`` and
``kind``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.replies import CardReply, CardUpdate, Target, ToCurrent

if TYPE_CHECKING:
    from bot.config import Settings

# 创建并投放卡片 / 更新卡片 (open.dingtalk.com/document/development/create-and-deliver-cards):
# cardParamMap "key：参数名（最长不超过100B）", "value: 参数值（最长不超过1KB）"; both are
# strings ("属性字段只支持 String 类型").
CARD_KEY_MAX_BYTES = 100
CARD_VALUE_MAX_BYTES = 1024
_CUT_MARK = "…"


def new_out_track_id(kind: str) -> str:
    """A fresh ``outTrackId``, unique forever (never derived from a row id).

    创建并投放卡片: "一个 outTrackId 唯一标识一张卡片…需要设置全新的 outTrackId，否则更改不会生效";
    a reused one is refused with ``param.cardAlreadyExist``. The official Python SDK
    (dingtalk-stream ``CardReplier.gen_card_id``) hashes sender, conversation, message and a
    ``uuid1``; the official card examples (open-dingtalk/dingtalk-card-examples, golang) use a
    bare uuid. A random uuid4 is unique across database resets and across deployments that
    share one app, which a row id is not.
    """
    return f"{kind[:20]}-{uuid.uuid4().hex}"


def cut_utf8(text: str, limit: int) -> str:
    """``text`` cut at a character boundary so its UTF-8 encoding fits ``limit`` bytes."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit].decode(errors="ignore")


def fit_value(value: str, more: str = "") -> str:
    """A card value within 1 KB; a longer one is cut and ends with ``more`` (how to see it all)."""
    if len(value.encode()) <= CARD_VALUE_MAX_BYTES:
        return value
    tail = f"{_CUT_MARK}\n{more}" if more else _CUT_MARK
    room = CARD_VALUE_MAX_BYTES - len(tail.encode())
    return cut_utf8(value, max(room, 0)).rstrip() + tail


def fit_card_data(data: dict[str, str], more: str = "") -> dict[str, str]:
    """``cardParamMap`` as the card platform accepts it: string values of at most 1 KB, keys of
    at most 100 bytes (a longer key is a bug in the catalogue: it raises)."""
    fitted: dict[str, str] = {}
    for key, value in data.items():
        if len(key.encode()) > CARD_KEY_MAX_BYTES:
            raise ValueError(f"card variable name longer than {CARD_KEY_MAX_BYTES} bytes: {key!r}")
        fitted[key] = fit_value(str(value), more)
    return fitted


@dataclass(frozen=True, slots=True)
class ButtonData:
    """What a button sends back (its 回传参数), typed; aiogram's ``CallbackData`` is the model:
    one class both packs the payload and reads it from a click.

    ``action`` is the verb, a constant in the template. ``id`` is the entity the button acts
    on; a template that sends only the verb gets the card's own entity (``bot.clicks``). A
    click may carry anything (a forged one too): ``unpack`` never raises, the handler checks.
    """

    action: str
    id: str = ""

    def pack(self) -> dict[str, str]:
        """The button's 回传参数."""
        return {"action": self.action, "id": self.id} if self.id else {"action": self.action}

    @classmethod
    def unpack(cls, params: Mapping[str, object]) -> ButtonData:
        """The payload of a click (an absent or non-text verb reads as empty)."""
        action = params.get("action")
        value = params.get("id")
        entity = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        return cls(action if isinstance(action, str) else "", entity)


@dataclass(frozen=True, slots=True)
class Button:
    """A card button: its label (as the admin writes it in the builder) and its verb."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class CardKind:
    """A card template the bot can fill: its variables, private variables and buttons."""

    kind: str
    config_key: str
    variables: tuple[str, ...]
    buttons: tuple[Button, ...]
    private_variables: tuple[str, ...] = ("message",)

    @property
    def verbs(self) -> tuple[str, ...]:
        """The verbs of the card's buttons (any other verb on this card is forged)."""
        return tuple(button.action for button in self.buttons)

    def check(self, data: Mapping[str, str]) -> None:
        """Refuse data the template has no variable for (a typo would be a blank field)."""
        unknown = sorted(set(data) - set(self.variables))
        if unknown:
            raise ValueError(f"card {self.kind!r} has no variable(s) {unknown}")

    def template_id(self, settings: Settings) -> str:
        """The template configured for this kind (empty: send the markdown fallback)."""
        return str(getattr(settings.cards, self.config_key))

    def build(
        self,
        settings: Settings,
        *,
        entity_id: str | int,
        title: str,
        data: dict[str, str],
        fallback_markdown: str,
        full_command: str = "",
        to: Target | None = None,
    ) -> CardReply:
        """A card of this kind (its markdown fallback where no template is configured)."""
        self.check(data)
        return CardReply(
            kind=self.kind,
            entity_id=str(entity_id),
            template_id=self.template_id(settings),
            title=title,
            data=data,
            fallback_markdown=fallback_markdown,
            full_command=full_command,
            to=to or ToCurrent(),
        )

    def update(self, out_track_id: str, data: dict[str, str]) -> CardUpdate:
        """New public data for a delivered card of this kind."""
        self.check(data)
        return CardUpdate(out_track_id=out_track_id, data=data)


CATALOG: dict[str, CardKind] = {
    kind.kind: kind
    for kind in (
        CardKind(
            "story",
            "story_template",
            ("id", "kind", "title", "body", "author", "likes", "genuine_likes", "picture"),
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
            (
                "id",
                "kind",
                "title",
                "starts",
                "place",
                "hours",
                "seats",
                "taken",
                "waitlist",
                "status",
                "joinable",
            ),
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
        CardKind("digest", "digest_template", ("id", "kind", "title", "content"), ()),
        CardKind(
            "forget",
            "generic_template",
            ("id", "kind", "title"),
            (Button("确认删除 / Confirm", "confirm"),),
        ),
    )
}


def verbs_of(kind: str) -> list[str]:
    """The verbs a delivered card of ``kind`` accepts (none known: judged by kind alone)."""
    entry = CATALOG.get(kind)
    return list(entry.verbs) if entry is not None else []


def card_param_map(reply: CardReply) -> dict[str, str]:
    """The ``cardParamMap`` the sender sends: the card's data, ``id`` and ``kind``, checked
    against the catalogue and fitted to the platform's limits."""
    entry = CATALOG.get(reply.kind)
    if entry is not None:
        entry.check(reply.data)
    return fit_card_data(
        {**reply.data, "id": reply.entity_id, "kind": reply.kind}, reply.full_command
    )
