"""The idempotence_recorder callback on real ansible-playbook runs (local connection, no container)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = "recorder-secret-5b1e0c"

PLAYBOOK = f"""
- name: Recorder probe
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    out: "{{{{ playbook_dir }}}}/out"
  roles:
    - role: demo
  tasks:
    - name: Write a plain file
      ansible.builtin.copy:
        content: "plain {{{{ 1000000 | random }}}}\\n"
        dest: "{{{{ out }}}}/plain.txt"
        mode: "0644"
    - name: Write a secret file
      ansible.builtin.copy:
        content: "token={SECRET} {{{{ 1000000 | random }}}}\\n"
        dest: "{{{{ out }}}}/secret.txt"
        mode: "0600"
      no_log: true
    - name: Only read
      ansible.builtin.command: "true"
      changed_when: false
    - name: Fail in check mode only
      ansible.builtin.fail:
        msg: refused in check mode
      when: ansible_check_mode
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "out").mkdir()
    role = tmp_path / "roles" / "demo"
    (role / "tasks").mkdir(parents=True)
    (role / "handlers").mkdir()
    (role / "tasks" / "main.yml").write_text(
        "- name: Touch the marker\n"
        "  ansible.builtin.copy:\n"
        '    content: "{{ 1000000 | random }}\\n"\n'
        '    dest: "{{ playbook_dir }}/out/marker"\n'
        '    mode: "0644"\n'
        "  notify: Demo handler\n"
    )
    (role / "handlers" / "main.yml").write_text(
        '- name: Demo handler\n  ansible.builtin.command: "true"\n  changed_when: true\n'
    )
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    return tmp_path


def _play(project, records, *extra, rc=0):
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": str(REPO_ROOT / "tools" / "stability_ops_dev" / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "idempotence_recorder",
        "ANSIBLE_DIFF_ALWAYS": "true",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "STABILITY_OPS_IDEMPOTENCE_RECORD_DIR": str(records),
    }
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run(
        [str(ansible_playbook), "site.yml", *extra],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == rc, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_recorder_writes_changed_tasks_with_diffs_and_hides_no_log(project):
    records = project / "records"
    output = _play(project, records)
    _play(project, records, "--check", rc=2)
    files = sorted(records.iterdir())
    assert len(files) == 2
    first, check = (json.loads(path.read_text()) for path in files)

    assert first["playbook"] == str(project / "site.yml")
    assert (first["check_mode"], check["check_mode"]) == (False, True)
    assert first["finished"] >= first["started"]
    assert first["stats"]["localhost"]["changed"] == 4
    tasks = {entry["task"]: entry for entry in first["tasks"]}
    assert set(tasks) == {"Touch the marker", "Demo handler", "Write a plain file", "Write a secret file"}
    assert tasks["Touch the marker"]["role"] == "demo"
    assert tasks["Demo handler"]["handler"] is True
    assert tasks["Write a plain file"]["role"] == ""
    assert "+plain " in tasks["Write a plain file"]["diff"]
    assert tasks["Write a secret file"] == {
        "host": "localhost",
        "role": "",
        "task": "Write a secret file",
        "action": "ansible.builtin.copy",
        "status": "changed",
        "handler": False,
        "no_log": True,
    }
    assert check["stats"]["localhost"]["failed"] == 1
    failed = [entry for entry in check["tasks"] if entry["status"] == "failed"]
    assert [(e["task"], e["msg"]) for e in failed] == [("Fail in check mode only", "refused in check mode")]
    assert SECRET not in records.joinpath(files[0].name).read_text()
    assert SECRET not in output, "the default callback must not show the no_log diff either"
