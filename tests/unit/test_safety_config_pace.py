"""Member-text neutralising, configuration errors, the pace and backoff."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import safety
from bot.backoff import jittered
from bot.config import ConfigError, load_settings
from bot.replies import TextReply
from bot.sender import Pace, as_message, webhook_body


def test_plain_breaks_mentions_and_links() -> None:
    out = safety.plain("hi @all and ＠张三 see https://x.example")
    assert "@all" not in out and "＠张三" not in out and "https://" not in out
    assert "all" in out and "x.example" in out


def test_md_escapes_markup() -> None:
    out = safety.md("[click](http://evil) **bold** # title")
    assert "[click](" not in out and "**bold**" not in out
    assert "\\[click\\]" in out


def test_clean_drops_controls_and_bidi_overrides() -> None:
    assert safety.clean("a\u202eb\x00c\nd\te") == "abc\nd\te"


@given(st.text())
def test_plain_never_leaves_a_mention(text: str) -> None:
    out = safety.plain(text)
    for i, ch in enumerate(out):
        if ch in "@＠":
            assert out[i + 1 : i + 2] == "\u200b"


def test_config_loads_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[dingtalk]\nclient_id = "abc"\nclient_secret = "s3cr3t"\n[admins]\nstaff_ids = ["u1"]\n'
    )
    monkeypatch.setenv("COMMUNITY_BOT_BOT__TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("DINGTALK_OPENAPI_ENDPOINT", "http://127.0.0.1:9/")
    settings = load_settings(path)
    assert settings.dingtalk.effective_robot_code == "abc"
    assert settings.bot.timezone == "Europe/Berlin"
    assert settings.dingtalk.openapi_endpoint == "http://127.0.0.1:9"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[bot]\ntimezone = "Mars/Base"\n', "bot.timezone"),
        ("[sender]\nconcurrency = 0\n", "sender.concurrency"),
        ('[dingtalk]\nclinet_id = "x"\n', "dingtalk.clinet_id: unknown key"),
        ("[dingtalk\n", "not valid TOML"),
        ('[dingtalk]\nopenapi_endpoint = "ftp://x"\n', "dingtalk.openapi_endpoint"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_pace_allows_a_burst_then_spaces_posts() -> None:
    pace = Pace(per_minute=20, burst=3)
    assert [pace.take("g", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = pace.take("g", now=0.0)
    assert wait == pytest.approx(3.0)
    assert pace.take("other", now=0.0) == 0.0  # per group
    assert pace.take("g", now=3.0) == 0.0


def test_backoff_grows_and_is_capped() -> None:
    assert 0.25 <= jittered(1, initial=0.5, cap=30) <= 0.5
    assert 2.0 <= jittered(4, initial=0.5, cap=30) <= 4.0
    assert 15 <= jittered(30, initial=0.5, cap=30) <= 30


def test_mentions_go_only_into_session_webhook_bodies() -> None:
    # groupMessages/send and batchSend have no @ (dingtalk-stream-sdk-go #19): the message
    # itself carries none; the session webhook gets atUserIds and the "@id" text both.
    key, param, at = as_message(TextReply(content="上车", at_staff_ids=["u1"]))
    assert key == "sampleText" and param["content"] == "上车" and at == ["u1"]
    body = webhook_body(key, param, at)
    assert body["text"]["content"] == "上车 @u1" and body["at"]["atUserIds"] == ["u1"]
