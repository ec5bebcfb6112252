"""The Chinese dictionary is loaded with the handlers, never by the first skill post."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter, because this one has long since warmed whatever it imported.
FIRST_POST = """
import time
import handlers  # what the bot imports before it connects
from domain.skill_match import keywords
started = time.process_time()
words = keywords("短视频剪辑")
print(time.process_time() - started, sorted(words))
"""


def test_the_first_skill_post_does_not_load_a_dictionary() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_POST], capture_output=True, text=True, check=True
    ).stdout.split(" ", 1)
    # Loading jieba's dictionary here took about 0.9 s of CPU on the event loop, with no
    # pings and no acks meanwhile; tokenising one skill takes microseconds.
    assert float(out[0]) < 0.02, out
    assert "视频" in out[1] and "剪辑" in out[1]
