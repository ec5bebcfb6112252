"""The card catalogue is the one description of a card: builders, clicks and the sender use it."""

from __future__ import annotations

import pytest

from bot.cards import CATALOG, ButtonData, card_param_map, verbs_of
from bot.config import Settings
from bot.events import CardClick


def test_a_card_is_built_from_its_entry_and_refuses_an_unknown_variable() -> None:
    settings = Settings()
    settings.cards.story_template = "tpl-story"
    card = CATALOG["story"].build(
        settings, entity_id=7, title="t", data={"title": "t"}, fallback_markdown="t"
    )
    assert (card.kind, card.entity_id, card.template_id) == ("story", "7", "tpl-story")
    assert card_param_map(card) == {"title": "t", "id": "7", "kind": "story"}
    with pytest.raises(ValueError, match="tilte"):
        CATALOG["story"].build(
            settings, entity_id=7, title="t", data={"tilte": "t"}, fallback_markdown="t"
        )
    with pytest.raises(ValueError, match="stauts"):
        CATALOG["swap"].update("track", {"stauts": "x"})


def test_the_recorded_verbs_are_the_entrys_buttons() -> None:
    assert verbs_of("swap") == ["accept", "decline", "confirm"]
    assert verbs_of("forget") == ["confirm"]
    assert verbs_of("unknown") == []
    # One label for the forget card's button, wherever it is shown.
    assert [b.label for b in CATALOG["forget"].buttons] == ["确认删除 / Confirm"]


def test_button_data_packs_and_reads_a_click() -> None:
    assert ButtonData("like", "3").pack() == {"action": "like", "id": "3"}
    assert ButtonData("like").pack() == {"action": "like"}
    assert ButtonData.unpack({"action": "join", "id": 12}) == ButtonData("join", "12")
    # A forged or broken payload reads as empty, never raises: the handler refuses it.
    assert ButtonData.unpack({"action": ["x"], "id": True}) == ButtonData("", "")
    click = CardClick.from_data(
        {
            "outTrackId": "t",
            "userId": "u",
            "content": '{"cardPrivateData": {"params": {"action": "leave", "id": "5"}}}',
        }
    )
    assert click.button == ButtonData("leave", "5")
    assert (click.action, click.entity_id) == ("leave", "5")
