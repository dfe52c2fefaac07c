"""Shared pytest set-up: make the working copy importable as the collection.

Ansible's collection loader resolves ``ansible_collections.stability.ops`` from
``.collections/ansible_collections/stability/ops``, a link to the repository
root, so unit tests import exactly the code that ships.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / ".collections"


def _ensure_collection_link() -> None:
    link = COLLECTIONS_DIR / "ansible_collections" / "stability" / "ops"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("../../..", link)


_ensure_collection_link()

# ansible-core's collection loader resolves ansible_collections.* imports from
# that path (no sys.path entry needed), relative collection imports included.
from ansible.utils.collection_loader._collection_finder import (  # noqa: E402
    _AnsibleCollectionFinder,
)


def _install_collection_finder() -> None:
    _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR)])._install()


_install_collection_finder()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """pytest-ansible installs its own finder (from ANSIBLE_COLLECTIONS_PATH) at configure time: ours comes last."""
    _install_collection_finder()
