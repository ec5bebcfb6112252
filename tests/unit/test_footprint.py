"""What the bot's own process keeps resident (issue 15: peak RSS ≤ 120 MB under the mix)."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
from pathlib import Path

from storage.db import Database

# A fresh interpreter: this one has imported whatever the other tests needed.
LOADED = """
import re, sys
import bot.app
import handlers
from handlers import default_routers
default_routers()  # every feature's commands, clicks and jobs, as the bot registers them
from domain.skill_match import keywords
keywords("短视频剪辑")  # the tokenizer, as the first skill post uses it
print(" ".join(sorted(sys.modules)))
status = open("/proc/self/status").read()
print(int(re.search(r"VmRSS:\\s+(\\d+)", status).group(1)) / 1024)
"""


@functools.cache
def _run() -> tuple[frozenset[str], float]:
    out = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    return frozenset(out[0].split()), float(out[1])


def _loaded() -> tuple[set[str], float]:
    """Top-level packages and modules loaded (``rjieba.rjieba`` and ``rjieba`` apart), and
    the resident MB, in a fresh interpreter that imported the bot and its handlers."""
    modules, resident = _run()
    return set(modules) | {m.split(".")[0] for m in modules if m != "rjieba.rjieba"}, resident


def test_the_bot_process_does_not_import_matplotlib() -> None:
    # The likes chart is drawn in a worker process (domain/likes_chart.py); imported with the
    # handlers, matplotlib and its dependencies cost the bot's process 28 MB it never used.
    loaded, _ = _loaded()
    assert "handlers" in loaded
    heavy = {"matplotlib", "PIL", "pyparsing", "fontTools", "kiwisolver"} & loaded
    assert not heavy, heavy


def test_the_bot_process_does_not_build_rjiebas_default_dictionary() -> None:
    # ``import rjieba`` builds jieba-rs's whole dictionary (349,046 words, 33 MB resident);
    # domain.skill_match loads the subset it needs into rjieba's Jieba class instead.
    loaded, _ = _loaded()
    assert "rjieba.rjieba" in loaded  # the tokenizer is there...
    assert "rjieba" not in loaded  # ...but not the package, whose import builds the default


def test_the_bot_process_does_not_import_alembic() -> None:
    # Alembic (about 11 MB with Mako) is for migrating; bot.checks and storage.migrate
    # import it only where they use it.
    loaded, _ = _loaded()
    assert not {"alembic", "mako"} & loaded


def test_the_imports_stay_well_under_the_memory_target() -> None:
    # Resident after importing everything the bot runs with: 137 MB before the dictionary
    # subset and the lazy Alembic; the mix adds 20-25 MB to what is resident at start.
    _, resident_mb = _loaded()
    assert resident_mb < 120, resident_mb


START = """
import asyncio, sys
from storage.db import Database

async def main(url):
    db = Database(url)
    await db.migrate()  # what Application.start does
    await db.dispose()

asyncio.run(main(sys.argv[1]))
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_a_start_on_a_migrated_schema_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"

    async def migrate() -> None:  # the release step (`community-bot migrate`), here
        db = Database(url)
        await db.migrate()
        await db.dispose()

    asyncio.run(migrate())
    out = subprocess.run(
        [sys.executable, "-c", START, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert "storage" in out
    assert "alembic" not in out
