"""The style gate is clean on the repository itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_repository_passes_the_style_gate():
    proc = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "enforce_style_guide.sh")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
