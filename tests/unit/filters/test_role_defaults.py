"""stability.ops.role_defaults: a role's defaults read from its defaults/main.yml (one source for shared values)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import roles

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["core_journald", "stability.ops.core_journald"], ids=["short", "fqcn"])
def test_the_defaults_file_as_written(name):
    expected = yaml.safe_load((REPO_ROOT / "roles/core_journald/defaults/main.yml").read_text())
    assert roles.role_defaults(name) == expected


def test_templates_are_returned_unrendered():
    defaults = roles.role_defaults("security_sshd")
    assert defaults["security_sshd_kex_algorithms"] == "{{ __security_sshd_kex_algorithms | default([]) }}"


def test_the_result_is_a_copy():
    roles.role_defaults("core_journald")["core_journald_system_max_use"] = "1T"
    assert roles.role_defaults("core_journald")["core_journald_system_max_use"] != "1T"


@pytest.mark.parametrize(
    ("name", "message"),
    [("../../etc", "is not a role name"), ("Core_Journald", "is not a role name"),
     ("no_such_role", "has no role no_such_role")],
    ids=["path-traversal", "not-a-role-name", "unknown-role"],
)
def test_anything_but_a_role_of_the_collection_is_a_filter_error(name, message):
    with pytest.raises(AnsibleFilterError, match=message):
        roles.role_defaults(name)


def test_the_roles_directory_is_the_collections(monkeypatch, tmp_path):
    (tmp_path / "demo" / "defaults").mkdir(parents=True)
    (tmp_path / "demo" / "defaults" / "main.yml").write_text("---\ndemo_size: 5M\n")
    monkeypatch.setattr(roles, "ROLES_DIR", tmp_path)
    assert roles.role_defaults("demo") == {"demo_size": "5M"}
    assert roles.ROLES_DIR != REPO_ROOT / "roles"


@pytest.mark.parametrize("name", ["security_sshd", "stability.ops.security_sshd"], ids=["short", "fqcn"])
def test_role_vars_reads_the_vars_file_as_written(name):
    expected = yaml.safe_load((REPO_ROOT / "roles/security_sshd/vars/main.yml").read_text())
    assert roles.role_vars(name) == expected
    assert roles.role_vars(name)["__security_sshd_service"] == "ssh"


def test_role_vars_refuses_what_is_not_a_role_of_the_collection():
    with pytest.raises(AnsibleFilterError, match=r"role_vars: stability\.ops has no role no_such_role with vars"):
        roles.role_vars("no_such_role")
    with pytest.raises(AnsibleFilterError, match=r"role_vars: '\.\./x' is not a role name"):
        roles.role_vars("../x")
