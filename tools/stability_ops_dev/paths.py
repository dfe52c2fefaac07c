"""Where the repository is: the dev package is installed editable from tools/, so its files stay in the work tree."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The working copy as an ansible_collections tree (a link made by scripts/setup.sh).
COLLECTIONS_DIR = REPO_ROOT / ".collections"
