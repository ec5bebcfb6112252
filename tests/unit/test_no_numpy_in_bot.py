"""numpy stays out of the bot's own process (issue 15: about 11 MB resident of the 120 MB
budget): the honest-likes scorer, its only user, runs in the re-scoring's worker process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A fresh interpreter: this one has imported whatever the other tests needed.
IMPORTS = """
import sys
import bot.app
import handlers
from handlers import default_routers
default_routers()  # every feature's commands, clicks and jobs, as the bot registers them
print("numpy" in sys.modules)
"""

# A whole re-scoring as the bot runs it: the worker process scores, the bot's process takes
# its answer and writes it.
RESCORE = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from sqlalchemy import insert
from bench.report import job_context
from bot.clock import ManualClock
from bot.config import load_settings
from domain.likes import rescore
from storage.db import Database
from storage.models import Like, Story

async def main(path):
    settings = load_settings(None, storage={"url": f"sqlite:///{path}"})
    db = Database(settings.storage.url)
    await db.migrate()
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    async with db.transaction() as session:
        await session.execute(insert(Story).values(
            id=1, conversation_id="g", author_staff_id="a", title="t", body="b",
            status="approved", created_at=at))
        await session.execute(insert(Like), [
            {"story_id": 1, "conversation_id": "g", "staff_id": f"m{i}",
             "created_at": at + timedelta(seconds=i), "weight": 1.0, "reasons": ""}
            for i in range(10)])
    async with db.transaction() as session:
        evidence = await rescore(job_context(settings, ManualClock(), session), "g")
    await db.dispose()
    print(len(evidence.bursts), "numpy" in sys.modules)

asyncio.run(main(sys.argv[1]))
"""


def test_the_bot_process_does_not_import_numpy() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", IMPORTS], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert loaded == ["False"]


def test_a_rescoring_leaves_numpy_to_its_worker_process(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", RESCORE, str(tmp_path / "bot.sqlite3")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert out == ["1", "False"]  # one burst found (by the worker), no numpy here
