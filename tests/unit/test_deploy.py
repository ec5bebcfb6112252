"""The deployment files agree with the bot: stop timeouts, health checks, non-root users."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import OpsConfig

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "community-bot.service"


def unit_values(key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", UNIT.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_the_systemd_unit_restarts_on_failure_as_a_user_and_waits_for_the_shutdown() -> None:
    assert unit_values("Restart") == ["on-failure"]
    assert unit_values("User") == ["community-bot"]
    assert unit_values("EnvironmentFile")
    assert unit_values("NoNewPrivileges") == ["yes"] and unit_values("ProtectSystem") == ["strict"]
    [stop] = unit_values("TimeoutStopSec")
    assert float(stop) > OpsConfig().shutdown_timeout
    assert any("community-bot migrate" in line for line in unit_values("ExecStartPre"))


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine")
    # verify checks that ExecStart exists: point it at this venv's console script.
    script = Path(sys.executable).with_name("community-bot")
    if not script.exists():
        pytest.skip("the community-bot console script is not installed in this venv")
    copy = (
        Path(
            subprocess.run(
                ["mktemp", "-d"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        / "community-bot.service"
    )
    copy.write_text(
        UNIT.read_text(encoding="utf-8").replace(
            "/opt/community-bot/bin/community-bot", str(script)
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_image_is_multi_stage_non_root_with_a_readiness_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) == 2
    assert re.search(r"^USER bot$", text, flags=re.MULTILINE)
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert "pip install --no-cache-dir '.[postgres]'" in text  # the tests' install step
    assert "VOLUME" in text and "STOPSIGNAL SIGTERM" in text


def test_the_image_copies_every_package_the_wheel_installs() -> None:
    # domain/ was once missing here: pip built a wheel without it and the image could not
    # import the handlers. The packages are pyproject.toml's setuptools include list.
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in include:
        package = pattern.rstrip("*")
        assert re.search(rf"^COPY {package} \./{package}$", text, flags=re.MULTILINE), package


def test_compose_runs_two_replicas_on_postgresql_with_secret_files() -> None:
    text = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert re.search(r"replicas: 2\b", text) and "image: postgres:15" in text
    grace = re.search(r"stop_grace_period: (\d+)s", text)
    assert grace is not None and float(grace.group(1)) > OpsConfig().shutdown_timeout
    assert "community_bot_dingtalk__client_secret" in text
    assert "community_bot_storage__url" in text
