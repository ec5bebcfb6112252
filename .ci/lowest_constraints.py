"""Print pip constraints pinning every declared dependency to the lowest version it allows.

CI's second lane installs with these (``pip install -c``) and runs the suite, so each range
in pyproject.toml is one that was tested at both ends.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def lowest(requirement: str) -> str | None:
    """``name==min`` for a requirement with a lower bound (``>=`` or ``==``), else None."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    if not match:
        return None
    name, spec = match.group(1), match.group(3)
    for clause in spec.split(","):
        clause = clause.strip()
        if clause.startswith(">=") or clause.startswith("=="):
            return f"{name}=={clause[2:].strip()}"
    return None


def main() -> int:
    project = tomllib.loads(
        Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text()
    )["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    for line in sorted({pin for r in requirements if (pin := lowest(r))}):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
