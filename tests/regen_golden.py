"""Regenerate the golden files of the caption and chapter-marker writers.

    python tests/regen_golden.py

runs the golden tests with RECAST_REGEN_GOLDEN=1, which makes `assert_golden`
(tests/golden_files.py) write the file instead of
comparing with it. Review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def main() -> int:
    env = dict(os.environ, RECAST_REGEN_GOLDEN="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-k", "golden",
           str(TESTS / "test_captions.py"), str(TESTS / "test_markers.py")]
    return subprocess.call(cmd, env=env, cwd=TESTS.parent)


if __name__ == "__main__":
    sys.exit(main())
