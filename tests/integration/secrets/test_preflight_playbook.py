"""playbooks/preflight_assertions.yml through ansible-playbook, on a local-connection
inventory: a plaintext secrets file stops the run before any host task, naming the
file and the rule; good SOPS secrets pass and reach the hosts decrypted."""

from __future__ import annotations

import os
import subprocess

import pytest
from stability_ops_dev.testing import secrets as lib

PREFLIGHT = lib.REPO_ROOT / "playbooks" / "preflight_assertions.yml"
HOSTS = """\
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  children:
    production:
      children:
        web: {hosts: {web1: {}}}
        db: {hosts: {db1: {}}}
"""


def deploy_playbook(tmp_path):
    marker = tmp_path / "host-task-ran"
    playbook = tmp_path / "deploy.yml"
    playbook.write_text(f"""\
- name: Preflight
  ansible.builtin.import_playbook: {PREFLIGHT}

- name: First host task
  hosts: production
  gather_facts: false
  tasks:
    - name: Touch the marker
      ansible.builtin.file:
        path: "{marker}-{{{{ inventory_hostname }}}}"
        state: touch
        mode: "0600"
    - name: The secret arrives decrypted
      ansible.builtin.assert:
        that: stability_ops_db_password is not match('ENC\\\\[') and stability_ops_db_password | length > 0
      no_log: true
      when: stability_ops_db_password is defined
""")
    return playbook, marker


def run_playbook(playbook, inventory, key, *extra):
    env = {**os.environ, "ANSIBLE_CONFIG": str(lib.REPO_ROOT / "ansible.cfg"),
           # The health summary of a test run goes next to its inventory, not to .cache/reports.
           "STABILITY_OPS_SUMMARY_PATH": str(inventory / "health_summary.json"),
           "ANSIBLE_VARS_ENABLED": "ansible.builtin.host_group_vars,community.sops.sops",
           "SOPS_AGE_KEY_FILE": str(key.path), "PATH": f"{lib.VENV_BIN}:{os.environ['PATH']}",
           "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([str(lib.VENV_BIN / "ansible-playbook"), "-i", str(inventory / "hosts.yml"),
                           str(playbook), *extra], capture_output=True, text=True, env=env, cwd=lib.REPO_ROOT,
                          timeout=180, check=False)


@pytest.mark.slow
def test_plaintext_secrets_file_stops_before_any_host_task(inventory, keys, tmp_path):
    (inventory / "hosts.yml").write_text(HOSTS)
    (inventory / "group_vars" / "all" / "secrets.yml").write_text(f"stability_ops_db_password: {lib.SECRET}\n")
    playbook, _marker = deploy_playbook(tmp_path)
    result = run_playbook(playbook, inventory, keys[0])
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "group_vars/all/secrets.yml: [secrets-file-not-encrypted]" in out
    assert "group_vars/all/secrets.yml: [plaintext-secret]" in out
    assert "TASK [Touch the marker]" not in out
    assert not list(tmp_path.glob("host-task-ran-*"))
    assert lib.SECRET not in out


@pytest.mark.slow
def test_good_sops_secrets_pass_and_reach_hosts(inventory, keys, tmp_path):
    (inventory / "hosts.yml").write_text(HOSTS)
    secrets = inventory / "group_vars" / "all" / "secrets.sops.yml"
    secrets.write_text(lib.sops_encrypt(f"stability_ops_db_password: {lib.SECRET}\n", keys[0]))
    playbook, _marker = deploy_playbook(tmp_path)
    result = run_playbook(playbook, inventory, keys[0], "--check")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # the SOPS file and the YAML inventory itself (ansible loads both)
    assert "Secrets preflight passed: 2 file(s) checked" in out
    assert "TASK [The secret arrives decrypted]" in out
    assert lib.SECRET not in out
    # and for real (not check mode) the host tasks run after the preflight
    real = run_playbook(playbook, inventory, keys[0])
    assert real.returncode == 0, real.stdout + real.stderr
    assert sorted(p.name for p in tmp_path.glob("host-task-ran-*")) == ["host-task-ran-db1", "host-task-ran-web1"]


@pytest.mark.slow
def test_missing_required_group_fails_the_preflight(inventory, keys, tmp_path):
    (inventory / "hosts.yml").write_text(HOSTS.replace("db: {hosts: {db1: {}}}", "db: {hosts: {}}"))
    playbook, _marker = deploy_playbook(tmp_path)
    result = run_playbook(playbook, inventory, keys[0], "-e", '{"preflight_assertions_required_groups": ["web", "db"]}')
    assert result.returncode != 0
    assert "lacks required group(s) or their hosts: db." in result.stdout
    assert "preflight_assertions_required_groups (default [production])" in result.stdout
    assert "TASK [Touch the marker]" not in result.stdout


@pytest.mark.slow
def test_the_default_required_groups_are_production_only(inventory, keys, tmp_path):
    """web and db are no longer required: an inventory with production hosts only passes the group check."""
    (inventory / "hosts.yml").write_text(HOSTS.replace("web: {hosts: {web1: {}}}", "app: {hosts: {web1: {}}}")
                                         .replace("db: {hosts: {db1: {}}}", "cache: {hosts: {db1: {}}}"))
    playbook, _marker = deploy_playbook(tmp_path)
    result = run_playbook(playbook, inventory, keys[0], "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lacks required group(s)" not in result.stdout


@pytest.mark.parametrize(("bound", "value"), [("min", "99.0.0"), ("max", "2.19.0")], ids=["too-old", "untested-newer"])
def test_a_controller_outside_the_tested_range_fails_the_preflight(inventory, keys, tmp_path, bound, value):
    playbook, _marker = deploy_playbook(tmp_path)
    result = run_playbook(playbook, inventory, keys[0], "-e", f"preflight_assertions_{bound}_ansible_core={value}")
    assert result.returncode != 0
    assert "is not a tested controller" in result.stdout
    assert "tested: 2.19 and 2.21" in result.stdout
    assert "TASK [Touch the marker]" not in result.stdout


# Hosts behind a docker connection to containers that do not exist: should the
# preflight ever let the run through, no real machine is touched.
UNREACHABLE_HOSTS = """\
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
    production:
      children:
        web: {hosts: {web1: {ansible_host: stability-ops-no-such-container-web1}}}
        db: {hosts: {db1: {ansible_host: stability-ops-no-such-container-db1}}}
"""


@pytest.mark.slow
def test_production_deploy_stops_at_the_preflight_on_a_plaintext_secrets_file(inventory, keys, tmp_path):
    """The real entrypoint: the preflight fails first, naming file and rule; no role task starts."""
    (inventory / "hosts.yml").write_text(UNREACHABLE_HOSTS)
    (inventory / "group_vars" / "all" / "secrets.yml").write_text(f"stability_ops_db_password: {lib.SECRET}\n")
    result = run_playbook(lib.REPO_ROOT / "playbooks" / "production_deploy.yml", inventory, keys[0])
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "group_vars/all/secrets.yml: [secrets-file-not-encrypted]" in out
    assert "group_vars/all/secrets.yml: [plaintext-secret]" in out
    assert "TASK [stability.ops." not in out
    assert "PLAY [Core" not in out
    assert lib.SECRET not in out
    summary = (inventory / "health_summary.json").read_text()
    assert lib.SECRET not in summary
    assert '"status": "failed"' in summary
