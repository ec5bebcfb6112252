"""Story arguments accept the Chinese the help shows and English, in any width or case."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from handlers.stories.commands import SCOPES, SWITCHES, fold_choice
from handlers.stories.texts import T


@pytest.mark.parametrize(("words", "bad"), [(SCOPES, T.bad_scope), (SWITCHES, T.bad_switch)])
def test_every_chinese_and_english_form_is_understood(words: dict[str, str], bad: object) -> None:
    assert {"week", "all"} <= set(SCOPES.values()) and {"本周", "全部"} <= set(SCOPES)
    assert {"开", "关", "on", "off"} <= set(SWITCHES)
    for word, meaning in words.items():
        for form in (word, word.upper(), f"  {word} ", unicodedata.normalize("NFKC", word)):
            assert fold_choice(form, words, T.bad_scope) == meaning


@given(st.sampled_from(sorted(SCOPES)), st.sampled_from(["", " ", "\u3000"]), st.booleans())
def test_scope_words_survive_spacing_and_full_width(word: str, pad: str, wide: bool) -> None:
    typed = word.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}) if wide else word
    assert fold_choice(pad + typed + pad, SCOPES, T.bad_scope) == SCOPES[word]


@given(st.text(max_size=12))
def test_anything_else_gets_the_right_form(text: str) -> None:
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    if key in SCOPES:
        return
    with pytest.raises(UserError):
        fold_choice(text, SCOPES, T.bad_scope)
