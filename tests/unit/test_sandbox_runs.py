"""The sandbox as the README runs it, twice on one data folder: the second run acts on a
card the first delivered (a story withdrawn), and no delivery error reaches the log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(data: Path, script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--data", str(data)],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_a_second_sandbox_run_updates_the_cards_of_the_first(tmp_path: Path) -> None:
    # An admin lists the story for review: its review card is delivered in this run.
    first = _run(tmp_path, "/故事 第一次 | 第一次运行里的故事\n:admin boss\n/审核\n")
    assert "#1" in first and "[1] 通过" in first, first
    second = _run(tmp_path, "/故事 撤回 1\n@机器人 /活动\n")  # updates that card
    assert "撤回" in second, second
    # Addressed as the README writes it: DingTalk removes the robot's @ from the text.
    assert "暂时没有即将开始的活动" in second and "你好" not in second, second
    log = (tmp_path / "sandbox.log").read_text(encoding="utf-8")
    assert "cardNotExist" not in log and "ERROR" not in log, log[-2000:]
