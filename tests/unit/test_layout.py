"""The house rules of issue 14 that a grep can hold: handlers get typed contexts, whose fields
the event guarantees, so no handler asserts them (see docs/architecture.md)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_handler_asserts_what_its_context_guarantees() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip().startswith("assert ctx.")
    ]
    assert offenders == []
