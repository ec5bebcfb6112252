"""docs/cards.md documents every card kind, variable and button the bot uses."""

from __future__ import annotations

from pathlib import Path

from bot.cards import CATALOG

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cards.md").read_text(encoding="utf-8")


def test_every_card_kind_variable_and_verb_is_documented() -> None:
    for kind in CATALOG.values():
        assert f"## `{kind.kind}`" in DOC
        assert f"cards.{kind.config_key}" in DOC
        for variable in (*kind.variables, *kind.private_variables):
            assert f"`{variable}`" in DOC, variable
        for button in kind.buttons:
            assert f'"action": "{button.action}"' in DOC, button.action
