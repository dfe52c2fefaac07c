"""security_sshd's moduli filter: module_utils/ssh_moduli.py and the module around it, on a real-format file."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stability.ops.plugins.module_utils import ssh_moduli
from ansible_collections.stability.ops.plugins.modules import ssh_moduli as module

# moduli(5) lines: time type tests tries size(bits - 1) generator modulus.
HEADER = "# $OpenBSD: moduli,v 1.33 2023/03/09 $\n# Time Type Tests Tries Size Generator Modulus\n"
SMALL = "20230315000000 2 6 100 2047 2 C0FFEE\n"
MEDIUM = "20230315000001 2 6 100 3071 5 DECAF\n"
LARGE = "20230315000002 2 6 100 4095 2 FACADE\n"


def _run(capsys, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("line", "bits"),
    [
        (SMALL, 2048),
        (MEDIUM, 3072),
        (LARGE, 4096),
        ("# 1 2 3 4 5 6 7\n", None),
        ("\n", None),
        ("a b c d x f g\n", None),
    ],
    ids=["2048", "3072", "4096", "comment", "blank", "not-a-number"],
)
def test_group_size_is_the_size_field_plus_one(line, bits):
    assert ssh_moduli.group_bits(line) == bits


def test_filter_keeps_comments_and_groups_at_the_limit():
    kept, removed, groups = ssh_moduli.filter_moduli(HEADER + SMALL + MEDIUM + LARGE, 3072)
    assert (kept, removed, groups) == (HEADER + MEDIUM + LARGE, 1, 2)


def test_module_rewrites_only_when_a_group_is_removed(tmp_path, capsys):
    moduli = tmp_path / "moduli"
    moduli.write_text(HEADER + SMALL + LARGE)
    moduli.chmod(0o640)
    result = _run(capsys, {"path": str(moduli)})
    assert (result["changed"], result["removed"], result["kept"]) == (True, 1, 1)
    assert moduli.read_text() == HEADER + LARGE
    assert moduli.stat().st_mode & 0o777 == 0o640
    assert _run(capsys, {"path": str(moduli)})["changed"] is False
    assert [path.name for path in tmp_path.iterdir()] == ["moduli"]


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    moduli = tmp_path / "moduli"
    moduli.write_text(HEADER + SMALL + SMALL + LARGE)
    result = _run(capsys, {"path": str(moduli)}, check_mode=True, diff=True)
    assert (result["changed"], result["removed"]) == (True, 2)
    assert "2 under 3072 bits removed" in result["diff"]["after"]
    assert moduli.read_text() == HEADER + SMALL + SMALL + LARGE


def test_no_group_left_fails_and_changes_nothing(tmp_path, capsys):
    moduli = tmp_path / "moduli"
    moduli.write_text(HEADER + SMALL)
    result = _run(capsys, {"path": str(moduli), "min_bits": 4096})
    assert result["failed"] is True
    assert "no Diffie-Hellman group of 4096 bits" in result["msg"]
    assert moduli.read_text() == HEADER + SMALL
