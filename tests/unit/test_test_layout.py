"""The test tree's own rule: without __init__.py files, pytest imports every test module by its basename, so two
modules of the same name anywhere under tests/ fail the collection of one of them (which one depends on how xdist
spreads the files)."""

from __future__ import annotations

from collections import Counter

from stability_ops_dev.paths import REPO_ROOT


def test_test_module_basenames_are_unique():
    names = Counter(path.name for path in (REPO_ROOT / "tests").rglob("test_*.py")
                    if "fixtures" not in path.relative_to(REPO_ROOT / "tests").parts)
    assert [name for name, count in names.items() if count > 1] == []
