"""Shared bits of the benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.commands import CommandTable
from bot.config import Settings
from bot.context import JobContext
from bot.router import Router


def report(result: dict[str, Any], out: Path | None) -> int:
    """Print a benchmark's result as JSON, also to ``out`` when given; the exit code."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    return 0


def job_context(settings: Settings, clock: Clock, session: AsyncSession) -> JobContext:
    """A job context with no commands, for timing what a scheduled job runs."""
    return JobContext.create(
        settings=settings,
        clock=clock,
        session=session,
        commands=CommandTable(Router("bench")),
        job_id="bench",
        key="bench",
    )
