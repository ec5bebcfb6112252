"""The console script: a bad config is one line naming the key, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '[dingtalk]\nclient_id = "x"\nclient_secret = "y"\n[sender]\nconcurrency = -1\n',
            "sender.concurrency",
        ),
        ("[dingtalk]\n", "dingtalk.client_id and dingtalk.client_secret are required"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, needle: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body)
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_module_entry_point_reports_a_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "config file not found" in result.stderr and "Traceback" not in result.stderr
