"""Secrets from files (Docker secrets, systemd credentials) as well as the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings


def test_a_secret_file_fills_the_key_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "community_bot_dingtalk__client_secret").write_text("from-a-file\n")
    (secrets / "postgres_password").write_text("not ours")  # other files are left alone
    config = tmp_path / "config.toml"
    config.write_text('[dingtalk]\nclient_id = "app"\nclient_secret = "from-config"\n')
    monkeypatch.setenv("COMMUNITY_BOT_SECRETS_DIR", str(secrets))
    monkeypatch.delenv("COMMUNITY_BOT_DINGTALK__CLIENT_SECRET", raising=False)

    settings = load_settings(config)
    assert settings.dingtalk.client_secret.get_secret_value() == "from-a-file"
    assert settings.dingtalk.client_id == "app"  # the rest of the section still comes through

    monkeypatch.setenv("COMMUNITY_BOT_DINGTALK__CLIENT_SECRET", "from-env")
    assert load_settings(config).dingtalk.client_secret.get_secret_value() == "from-env"


def test_systemd_credentials_directory_is_read_and_a_missing_one_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMMUNITY_BOT_SECRETS_DIR", raising=False)
    monkeypatch.delenv("COMMUNITY_BOT_DINGTALK__CLIENT_SECRET", raising=False)
    (tmp_path / "community_bot_dingtalk__client_secret").write_text("from-systemd")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert load_settings(None).dingtalk.client_secret.get_secret_value() == "from-systemd"
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "nowhere"))
    assert load_settings(None).dingtalk.client_secret.get_secret_value() == ""
