"""Integration material: real age keys, a vault password and a small inventory."""

from __future__ import annotations

import pytest
from stability_ops_dev.testing import secrets as lib


@pytest.fixture
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    return lib.make_age_key(directory, "one.txt"), lib.make_age_key(directory, "two.txt")


@pytest.fixture
def inventory(tmp_path, keys):
    """An inventory directory with a .sops.yaml for the first key."""
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / ".sops.yaml").write_text(lib.sops_config_text(keys[0].public, path_regex=r"\.sops\.ya?ml$"))
    return inv


@pytest.fixture
def repo(tmp_path):
    """The user's own repository (the working directory of ansible-playbook); the inventory is its inv/."""
    return lib.user_repository(tmp_path)
