"""The whole hostile corpus through real ``ansible-playbook -vvv``: one run loops
``stability.ops.preflight_secrets`` over every case directory. Every expected
verdict must appear, and no canary (nor the vault password or an age private
key) anywhere in stdout, stderr or the report the run writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from stability_ops_dev.testing import secrets as lib

BUILD = lib.REPO_ROOT / "tests" / "unit" / "secrets" / "corpus" / "build.py"
# Options of the engine the action plugin does not expose: those cases are checked for leaks only.
ENGINE_ONLY = ("key_scan_roots", "file_time_budget")
# Cases the engine reports (tests/unit/secrets/test_preflight_corpus.py) but the action plugin's discovery
# (secrets_discovery) does not hand to it yet: a listed directory's symlink loops, dangling links and FIFOs.
DISCOVERY_GAPS = frozenset()


def engine_only(entry: dict) -> bool:
    return any(entry["run"].get(option) not in (None, []) for option in ENGINE_ONLY)


PLAYBOOK = """\
- name: Corpus
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Preflight one case
      stability.ops.preflight_secrets:
        paths: "{{ item.paths }}"
        decrypt: "{{ item.decrypt }}"
        repository_root: "{{ item.root }}"
        age_key_file: "{{ item.age_key_file }}"
        scan_tracked_files: "{{ item.scan_tracked_files }}"
        secret_key_ignore_regex: "{{ item.secret_key_ignore_regex | default(omit, true) }}"
      loop: "{{ corpus_cases }}"
      loop_control:
        label: "{{ item.id }}"
      register: corpus_results
      ignore_errors: true

    - name: Write the report
      ansible.builtin.copy:
        content: >-
          {{ corpus_results.results | map(attribute='violations', default=[])
             | zip(corpus_cases | map(attribute='id')) | to_json }}
        dest: "{{ report }}"
        mode: "0600"
"""


@pytest.mark.slow
def test_corpus_through_ansible_playbook_vvv(tmp_path):
    corpus = tmp_path / "corpus"
    built = subprocess.run([sys.executable, str(BUILD), str(corpus)], capture_output=True, text=True, timeout=600,
                           check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    manifest = json.loads((corpus / "manifest.json").read_text())
    items = []
    for entry in manifest["cases"]:
        run = entry["run"]
        items.append({"id": entry["id"], "root": entry["root"], "decrypt": run["decrypt"],
                      "paths": [os.path.join(entry["root"], p) for p in run["paths"]],
                      "age_key_file": run["age_key_file"], "scan_tracked_files": run["scan_tracked_files"],
                      "secret_key_ignore_regex": run["secret_key_ignore_regex"]})
    repo = lib.user_repository(tmp_path / "repo")
    (repo / "corpus.yml").write_text(PLAYBOOK)
    (repo / "cases.json").write_text(json.dumps({"corpus_cases": items, "report": str(tmp_path / "report.json"),
                                                "ansible_python_interpreter": sys.executable}))
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_STDOUT_CALLBACK", "SOPS_AGE_KEY_FILE")}
    env.update(ANSIBLE_NOCOLOR="1", PATH=f"{lib.VENV_BIN}:{env['PATH']}")
    proc = subprocess.run([str(lib.VENV_BIN / "ansible-playbook"), "-vvv", "-i", "localhost,", "corpus.yml",
                           "-e", "@cases.json", "--vault-id", f"lab@{manifest['password_file']}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert (tmp_path / "report.json").is_file(), output[-3000:]
    report = (tmp_path / "report.json").read_text()
    leaked = [c for c in manifest["canaries"] if c in output or c in report]
    assert not leaked, f"{len(leaked)} canaries printed"
    found = {case_id: {v["rule"] for v in violations} for violations, case_id in json.loads(report)}
    wrong = []
    for entry in manifest["cases"]:
        if engine_only(entry):
            continue
        expect, got = set(entry["expect"]), found[entry["id"]]
        if (expect and not expect <= got) or (not expect and got):
            wrong.append(f"{entry['id']}: expected {sorted(expect)}, got {sorted(got)}")
    gaps = [line for line in wrong if line.split(":", 1)[0] in DISCOVERY_GAPS]
    assert not [line for line in wrong if line not in gaps], "\n".join(wrong)
    for entry in manifest["cases"]:
        if entry["id"] not in DISCOVERY_GAPS and not engine_only(entry):
            for rule in entry["expect"]:
                assert f"[{rule}]" in output, (entry["id"], rule)
    if gaps:
        pytest.xfail("discovery does not pass these to the engine yet: " + "; ".join(gaps))
