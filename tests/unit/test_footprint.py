"""What the bot's own process keeps resident (issue 15: peak RSS ≤ 120 MB under the mix)."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter: this one has imported whatever the other tests needed.
LOADED = """
import sys
import bot.app
import handlers
from handlers import default_routers
default_routers()  # every feature's commands, clicks and jobs, as the bot registers them
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_the_bot_process_does_not_import_matplotlib() -> None:
    # The likes chart is drawn in a worker process (domain/likes_chart.py); imported with the
    # handlers, matplotlib and its dependencies cost the bot's process 28 MB it never used.
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert "handlers" in loaded
    heavy = {"matplotlib", "PIL", "pyparsing", "fontTools", "kiwisolver"} & set(loaded)
    assert not heavy, heavy
