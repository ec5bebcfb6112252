"""Shared bits of the benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report(result: dict[str, Any], out: Path | None) -> int:
    """Print a benchmark's result as JSON, also to ``out`` when given; the exit code."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    return 0
