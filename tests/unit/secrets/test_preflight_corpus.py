"""The hostile corpus (tests/unit/secrets/corpus/build.py): every case is a real
repository built with real sops, age, gpg and ansible-core's vault, with its
expected verdict. The preflight must give exactly that verdict, and no canary
of any case may appear in any message, result or exception, nor in a file the
preflight writes (it writes none)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultSecret
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
from corpus import build
from stability_ops_dev.testing import secrets as lib

CASES = build.build_cases()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Build every case once per session: (material, entries by id, every canary)."""
    outdir = tmp_path_factory.mktemp("corpus")
    material, entries = build.build_corpus(outdir / "cases", outdir / "material")
    return material, {e["id"]: e for e in entries}, build.all_canaries(material, entries)


def tree(root: Path) -> set[str]:
    found = set()
    for directory, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d != ".git"]
        found |= {str(Path(directory, n).relative_to(root)) for n in names + dirs}
    return found


def run_entry(material, entry: dict) -> dict:
    run = dict(entry["run"])
    budget = run.pop("file_time_budget")
    opts = sp.Options(base_dir=entry["root"], tree_roots=[entry["root"]], repository_root=entry["root"],
                      vault_secrets=[("default", VaultSecret(material.password.encode())),
                                     ("lab", VaultSecret(material.password.encode()))],
                      sops_binary=lib.SOPS, **run)
    if budget is not None:
        opts.file_time_budget = budget
    return sp.run(opts)


def test_corpus_is_large_unique_and_covers_every_rule():
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if not c.expect) >= 15, "good files must pass too"
    # internal-error is the per-file safety net: no known input reaches it (test_preflight_rules checks its text).
    uncovered = set(sp.RULES) - {rule for c in CASES for rule in c.expect} - {"internal-error"}
    assert not uncovered, f"rules without a corpus case: {sorted(uncovered)}"
    assert {rule for c in CASES for rule in c.expect} <= set(sp.RULES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_gets_its_verdict_and_leaks_nothing(case, corpus):
    material, entries, canaries = corpus
    entry = entries[case.id]
    before = tree(Path(entry["root"]))
    result = run_entry(material, entry)
    found = sorted({v["rule"] for v in result["violations"]})
    assert found == sorted(case.expect), result["msg"]
    assert result["failed"] is bool(case.expect)
    for rule in case.expect:
        assert f"[{rule}]" in result["msg"]
    dumped = json.dumps(result)
    leaked = [value for value in canaries if value in dumped]
    assert not leaked, f"canary in the result of {case.id}"
    assert tree(Path(entry["root"])) == before, "the preflight must not write files"


def test_every_file_is_reported_even_after_a_loop_and_a_crash(corpus):
    """The symlink loop and the deep nesting do not stop the files beside them."""
    material, entries = corpus[:2]
    result = run_entry(material, entries["symlink-loop-beside-plaintext"])
    by_file = {Path(f["path"]).name: {v["rule"] for v in f["violations"]} for f in result["files"]}
    assert by_file == {"a.yml": {"symlink-loop"}, "b.yml": {"symlink-loop"}, "main.yml": {"plaintext-secret"}}


def test_alias_bomb_is_fast(corpus):
    import time

    material, entries = corpus[:2]
    start = time.monotonic()
    result = run_entry(material, entries["alias-bomb-484-bytes"])
    assert time.monotonic() - start < 5
    assert Path(entries["alias-bomb-484-bytes"]["root"], build.GV, "main.yml").stat().st_size <= 484
    assert result["summary"]["rules"] == {"yaml-alias-expansion": 1}


def test_sops_hint_about_the_key_is_kept(corpus):
    """sops' reason survives the redaction: the missing key names SOPS_AGE_KEY_FILE."""
    material, entries = corpus[:2]
    result = run_entry(material, entries["sops-missing-key-file"])
    detail = next(v["detail"] for v in result["violations"] if v["rule"] == "sops-decrypt-failed")
    assert "SOPS_AGE_KEY_FILE" in detail and "Group 0" in detail


def test_plaintext_added_to_sops_is_named_without_its_value(corpus):
    material, entries, canaries = corpus
    result = run_entry(material, entries["sops-plaintext-added-by-hand"])
    detail = next(v["detail"] for v in result["violations"] if v["rule"] == "sops-decrypt-failed")
    assert "not valid SOPS data" in detail
    assert not [c for c in canaries if c in detail]
