"""The digest benchmark still runs against today's schema (``python -m bench`` runs it).

Its history is written with raw ``INSERT``s for speed; when they listed values by position,
a column added to ``stories`` or ``events`` broke it, and ``python -m bench`` with it, with
nothing in the suite noticing. A tiny scale runs in about two seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_digest_benchmark_runs_on_the_current_schema(tmp_path: Path) -> None:
    out = tmp_path / "digest.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.digest_bench", "--scale", "0.0005", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["build_ms"] > 0 and figures["before"]["stories"] > 0
