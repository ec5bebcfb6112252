"""docs/cards.md is what bot/cards.py says: every card kind, variable and button."""

from __future__ import annotations

from pathlib import Path

from bot.cards import CATALOG
from bot.cards_doc import render_markdown

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cards.md").read_text(encoding="utf-8")


def test_docs_match_the_catalog() -> None:
    assert render_markdown() == DOC, "regenerate: python -m bot.cards_doc > docs/cards.md"


def test_every_kind_has_its_buttons_documented() -> None:
    for kind in CATALOG.values():
        assert f"## `{kind.kind}`" in DOC
        for button in kind.buttons:
            assert f'"action": "{button.action}"' in DOC, button.action
