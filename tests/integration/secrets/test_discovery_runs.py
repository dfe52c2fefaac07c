"""The secrets preflight reads what ansible-core loads: real ``ansible-playbook`` runs of
``stability.ops.preflight_assertions`` from a user's repository, one layout per case, each
with a plaintext canary where ansible would load it. The run must fail before any host
task, name the file, and never print the canary (with ``-vvv`` too)."""

from __future__ import annotations

import os
import subprocess

import pytest
from stability_ops_dev.testing import secrets as lib

HOSTS_YML = """\
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  children:
    production:
      hosts:
        web1: {}
        db1.example.com: {}
"""
DEPLOY = """\
- name: Preflight
  ansible.builtin.import_playbook: stability.ops.preflight_assertions

- name: First host task
  hosts: all
  gather_facts: false
  vars_files:
    - secrets_plain.yml
  tasks:
    - name: Touch the marker
      ansible.builtin.file:
        path: "{{ playbook_dir }}/host-task-ran-{{ inventory_hostname }}"
        state: touch
        mode: "0600"
    - name: Load more vars
      ansible.builtin.include_vars: extra.yml
"""
PLAIN = f"db_password: {lib.SECRET}\n"


def write(root, rel, text, mode=None):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def playbook(repo, *args, inventory="inv/hosts.yml"):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_CALLBACKS_ENABLED",
                        "SOPS_AGE_KEY_FILE", "ANSIBLE_VAULT_PASSWORD_FILE")}
    env.update(ANSIBLE_NOCOLOR="1", PATH=f"{lib.VENV_BIN}:{env['PATH']}")
    proc = subprocess.run([str(lib.VENV_BIN / "ansible-playbook"), "-i", inventory, "deploy.yml", *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=180, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def user_repo(tmp_path):
    repo = lib.user_repository(tmp_path / "repo")
    write(repo, "deploy.yml", DEPLOY)
    write(repo, "inv/hosts.yml", HOSTS_YML)
    return repo


def ini_host_var(repo):
    write(repo, "inv/hosts.ini", f"[production]\nweb1 ansible_connection=local ansible_password={lib.SECRET}\n")
    return "inv/hosts.ini", "inv/hosts.ini"


def ini_group_var(repo):
    write(repo, "inv/hosts.ini", f"[production]\nweb1\n[production:vars]\nansible_become_pass={lib.SECRET}\n")
    return "inv/hosts.ini", "inv/hosts.ini"


def yaml_inventory(repo):
    write(repo, "inv/hosts.yml", HOSTS_YML.replace("web1: {}", f"web1: {{ansible_ssh_pass: {lib.SECRET}}}"))
    return "inv/hosts.yml", "inv/hosts.yml"


def host_vars_no_extension(repo):
    write(repo, "inv/host_vars/db1.example.com", PLAIN)
    return "inv/hosts.yml", "inv/host_vars/db1.example.com"


def playbook_adjacent_group_vars(repo):
    write(repo, "group_vars/production.yml", PLAIN)
    return "inv/hosts.yml", "group_vars/production.yml"


def vars_files_relative(repo):
    write(repo, "vars/secrets_plain.yml", PLAIN)
    return "inv/hosts.yml", "vars/secrets_plain.yml"


def include_vars_relative(repo):
    write(repo, "extra.yml", PLAIN)
    return "inv/hosts.yml", "extra.yml"


def symlinked_group_vars_all(repo):
    write(repo, "shared/all/main.yml", PLAIN)
    (repo / "inv" / "group_vars").mkdir(parents=True)
    (repo / "inv" / "group_vars" / "all").symlink_to(repo / "shared" / "all")
    return "inv/hosts.yml", "inv/group_vars/all/main.yml"


LAYOUTS = [ini_host_var, ini_group_var, yaml_inventory, host_vars_no_extension, playbook_adjacent_group_vars,
           vars_files_relative, include_vars_relative, symlinked_group_vars_all]


@pytest.mark.slow
@pytest.mark.parametrize("verbosity", [(), ("-vvv",)], ids=["default", "vvv"])
@pytest.mark.parametrize("layout", LAYOUTS, ids=[f.__name__ for f in LAYOUTS])
def test_a_canary_where_ansible_loads_it_stops_the_run(user_repo, layout, verbosity):
    inventory, shown = layout(user_repo)
    rc, out = playbook(user_repo, *verbosity, inventory=inventory)
    assert rc != 0, out
    assert f"  - {shown}: [" in out
    assert "TASK [Touch the marker]" not in out
    assert not list(user_repo.glob("host-task-ran-*"))
    assert lib.SECRET not in out


@pytest.mark.slow
def test_a_host_list_reads_playbook_adjacent_vars_and_says_it_loads_no_file(user_repo):
    write(user_repo, "group_vars/all.yml", PLAIN)
    rc, out = playbook(user_repo, "-e", '{"preflight_assertions_required_groups": []}', inventory="web1,")
    assert rc != 0
    assert "  - group_vars/all.yml: [plaintext-secret]" in out
    assert "web1,: host list: it names hosts only and loads no file" in out
    assert lib.SECRET not in out
    # and clean: it passes, but says what it did not read
    (user_repo / "group_vars" / "all.yml").write_text("harmless: true\n")
    rc, out = playbook(user_repo, "-e", '{"preflight_assertions_required_groups": []}', inventory="web1,")
    assert "Secrets preflight passed" in out, out
    assert "web1,: host list" in out


@pytest.mark.slow
def test_a_world_readable_vault_password_file_on_the_command_line_fails(user_repo, tmp_path):
    password = lib.write_password_file(tmp_path / "pw")
    password.chmod(0o644)
    rc, out = playbook(user_repo, "--vault-password-file", str(password))
    assert rc != 0
    assert "[key-file-permissions]" in out and "0644" in out
    assert lib.VAULT_PASSWORD not in out


@pytest.mark.slow
def test_relative_secrets_paths_resolve_in_the_users_repository(user_repo):
    write(user_repo, "files/credentials.yml", PLAIN)
    rc, out = playbook(user_repo, "-e", '{"preflight_assertions_secrets_paths": ["files/credentials.yml"]}')
    assert rc != 0
    assert "  - files/credentials.yml: [plaintext-secret]" in out
    assert lib.SECRET not in out


@pytest.mark.slow
def test_the_default_required_group_message_names_the_variable(user_repo):
    write(user_repo, "inv/hosts.yml", HOSTS_YML.replace("production:", "staging:"))
    rc, out = playbook(user_repo)
    assert rc != 0
    assert "lacks required group(s) or their hosts: production." in out
    assert "preflight_assertions_required_groups (default [production])" in out
    assert "group_vars/all or with -e" in out
