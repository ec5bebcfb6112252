"""richText parsing: whatever the fragments hold, reading them never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.events import BotMessage

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_fragment = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=30)}),
    st.fixed_dictionaries(
        {"type": st.just("picture"), "downloadCode": st.text(max_size=10)},
        optional={"pictureDownloadCode": st.text(max_size=10)},
    ),
    _json,
)


def _message(content: Any, **extra: Any) -> BotMessage:
    return BotMessage.model_validate(
        {"msgId": "m1", "conversationId": "c1", "msgtype": "richText", "content": content, **extra}
    )


@given(st.lists(_fragment, max_size=6))
def test_any_fragments_read_without_error(fragments: list[Any]) -> None:
    message = _message({"richText": fragments})
    text = message.plain_text
    assert text is None or text == text.strip()
    assert all(isinstance(code, str) and code for code in message.pictures)


def test_the_robot_first_in_at_users_drops_its_name_even_without_a_command() -> None:
    robot = {"chatbotUserId": "$:LWCP_v1:$r", "atUsers": [{"dingtalkId": "$:LWCP_v1:$r"}]}
    assert _message({"richText": [{"text": "@助手"}, {"text": "大家好"}]}, **robot).plain_text == (
        "大家好"
    )
    other = {"chatbotUserId": "$:LWCP_v1:$r", "atUsers": [{"dingtalkId": "$:LWCP_v1:$x"}]}
    assert _message({"richText": [{"text": "@张三 大家好"}]}, **other).plain_text == "@张三 大家好"
    assert _message({"richText": [{"text": "@助手／帮助"}]}).plain_text == "／帮助"
    assert _message({"richText": "not a list"}).plain_text is None
