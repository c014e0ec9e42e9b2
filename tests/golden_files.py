"""Golden files for the writers: compare, or rewrite with RECAST_REGEN_GOLDEN=1
(`python tests/regen_golden.py`)."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Compare `text` with tests/golden/<name>; RECAST_REGEN_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("RECAST_REGEN_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"{path} is missing: run python tests/regen_golden.py"
    assert path.read_bytes().decode("utf-8") == text
