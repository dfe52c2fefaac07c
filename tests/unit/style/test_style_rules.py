"""Every content rule: positive, negative, multiline and per-line ignored cases.

Each case is a one-file mini repository checked by the real gate; the expected
list is the complete report, so a false positive of any rule fails the case.
"""

from __future__ import annotations

import pytest
from conftest import IGNORE

TASKS = "roles/r/tasks/main.yml"
PLAYBOOK = "playbooks/play.yml"

CASES = [
    # fqcn ------------------------------------------------------------------
    (
        "fqcn-positive",
        TASKS,
        """
        - name: Copy the file
          copy:
            src: a
            dest: /b
        - name: Flush handlers
          meta: flush_handlers
        """,
        [(2, "fqcn"), (6, "fqcn")],
    ),
    (
        "fqcn-negative-data-keys",
        TASKS,
        """
        - name: Create users
          ansible.builtin.user:
            name: "{{ item.name }}"
            shell: "{{ item.shell }}"
            group: users
          loop:
            - name: alice
              shell: /bin/bash
              command: /usr/bin/true
          vars:
            template:
              src: x.j2
        - name: Include vars
          ansible.builtin.include_vars:
            file: x.yml
        """,
        [],
    ),
    (
        "fqcn-multiline-nested-block",
        PLAYBOOK,
        """
        - name: Play
          hosts: all
          tasks:
            - name: Group
              block:
                - name: Restart
                  when:
                    - a
                    - b
                  service:
                    name: chrony
                    state: restarted
              rescue:
                - name: Report
                  ansible.builtin.debug:
                    msg: failed
        """,
        [(10, "fqcn")],
    ),
    (
        "fqcn-python-execute-module",
        "plugins/action/probe.py",
        """
        def run(self):
            return self._execute_module(
                module_name="stat",
                module_args={},
            )
        """,
        [(2, "fqcn")],
    ),
    (
        "fqcn-ignored",
        TASKS,
        f"""
        - name: Copy the file
          copy:  {IGNORE} fqcn
            src: a
            dest: /b
        """,
        [],
    ),
    # truthy ----------------------------------------------------------------
    (
        "truthy-positive",
        TASKS,
        """
        - name: Install
          ansible.builtin.apt:
            name: chrony
            update_cache: yes
          become: True
          tags: [a]
        """,
        [(4, "truthy"), (5, "truthy")],
    ),
    (
        "truthy-negative",
        ".github/workflows/ci.yml",
        """
        on:
          push:
        jobs:
          test:
            continue-on-error: false
            env:
              ANSWER: "yes"
            steps:
              - run: |
                  echo yes
                  enabled: no
        """,
        [],
    ),
    (
        "truthy-multiline-flow-and-list",
        "extensions/molecule/r/molecule.yml",
        """
        platforms:
          - name: r
            options: {privileged: no, init: true}
        flags:
          - on
        """,
        [(3, "truthy"), (5, "truthy")],
    ),
    (
        "truthy-ignored",
        "extensions/molecule/r/molecule.yml",
        f"""
        legacy_option: yes  {IGNORE} truthy
        """,
        [],
    ),
    # no-changed-when -------------------------------------------------------
    (
        "no-changed-when-positive",
        TASKS,
        """
        - name: Reload
          ansible.builtin.command: systemctl daemon-reload
        - name: Probe
          ansible.builtin.shell:
            cmd: cat /etc/hostname
          register: __r_probe
        """,
        [(1, "no-changed-when"), (3, "no-changed-when")],
    ),
    (
        "no-changed-when-negative",
        TASKS,
        """
        - name: Probe
          ansible.builtin.command:
            argv: [chronyc, tracking]
          register: __r_tracking
          check_mode: false
          changed_when: false
        - name: Build
          ansible.builtin.command:
            cmd: make
            creates: /opt/built
        - name: Legacy free form
          ansible.builtin.shell: make install removes=/opt/stamp
        - name: Not a command
          ansible.builtin.debug:
            msg: changed_when is just a word here
        """,
        [],
    ),
    (
        "no-changed-when-multiline-block",
        TASKS,
        """
        - name: Group
          block:
            - name: Inner with changed_when
              ansible.builtin.command: /bin/true
              changed_when: false
            - name: Inner without
              ansible.builtin.command: /bin/true
          rescue:
            - name: Rescue without
              ansible.builtin.raw: /bin/true
          changed_when: false
        """,
        [(6, "no-changed-when"), (9, "no-changed-when")],
    ),
    (
        "no-changed-when-ignored",
        TASKS,
        f"""
        {IGNORE} no-changed-when
        - name: Reload
          ansible.builtin.command: systemctl daemon-reload
        """,
        [],
    ),
    # ignore-errors ---------------------------------------------------------
    (
        "ignore-errors-positive",
        TASKS,
        """
        - name: Stop
          ansible.builtin.systemd_service:
            name: x
            state: stopped
          ignore_errors: true
        - name: Probe
          ansible.builtin.stat:
            path: /x
          ignore_errors: "{{ ansible_check_mode }}"
        """,
        [(5, "ignore-errors"), (9, "ignore-errors")],
    ),
    (
        "ignore-errors-negative",
        TASKS,
        """
        - name: Stop
          ansible.builtin.systemd_service:
            name: x
            state: stopped
          ignore_errors: false
          failed_when: false
        """,
        [],
    ),
    (
        "ignore-errors-multiline-play",
        PLAYBOOK,
        """
        - name: Play
          hosts: all
          tasks:
            - name: Group
              block:
                - name: Inner
                  ansible.builtin.ping:
                  ignore_errors: true
        """,
        [(8, "ignore-errors")],
    ),
    (
        "ignore-errors-ignored",
        TASKS,
        f"""
        - name: Stop
          ansible.builtin.systemd_service:
            name: x
            state: stopped
          ignore_errors: true  {IGNORE} ignore-errors
        """,
        [],
    ),
    # name-missing ----------------------------------------------------------
    (
        "name-missing-positive",
        TASKS,
        """
        - ansible.builtin.debug:
            msg: hi
        - ansible.builtin.import_tasks: other.yml
        """,
        [(1, "name-missing"), (3, "name-missing")],
    ),
    (
        "name-missing-negative",
        PLAYBOOK,
        """
        - ansible.builtin.import_playbook: other.yml
        - name: Play
          hosts: all
          vars:
            users:
              - uid: 1000
          roles:
            - role: example.mini.r
          tasks:
            - name: Import
              ansible.builtin.import_tasks: other.yml
              tags:
                - a
          handlers:
            - name: Restart x
              ansible.builtin.systemd_service:
                name: x
                state: restarted
              listen: restart x
        """,
        [],
    ),
    (
        "name-missing-multiline-play-handler-block",
        PLAYBOOK,
        """
        - hosts: all
          tasks:
            - name: Group
              block:
                - ansible.builtin.ping:
          handlers:
            - ansible.builtin.ping:
        """,
        [(1, "name-missing"), (5, "name-missing"), (7, "name-missing")],
    ),
    (
        "name-missing-not-task-files",
        "roles/r/meta/argument_specs.yml",
        """
        argument_specs:
          main:
            options:
              r_list:
                type: list
                default:
                  - a
        """,
        [],
    ),
    (
        "name-missing-ignored",
        TASKS,
        f"""
        - ansible.builtin.ping:  {IGNORE} name-missing
        """,
        [],
    ),
    # plaintext-secret -------------------------------------------------------
    (
        "plaintext-secret-positive",
        "inventories/lab/group_vars/all/main.yml",
        """
        db_password: hunter2
        app:
          api_token: "0123456789abcdef"
        """,
        [(1, "plaintext-secret"), (3, "plaintext-secret")],
    ),
    (
        "plaintext-secret-negative",
        "roles/r/defaults/main.yml",
        """
        core_users_password_hash: ""
        r_password: "{{ vault_r_password }}"
        r_token: "{{ lookup('community.sops.sops', 'secrets.sops.yml') }}"
        r_vaulted_secret: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          3132
        r_sops_password: ENC[AES256_GCM,data:abc,type:str]
        r_password_file: /etc/r/password
        r_secret: null
        r_no_log_token: false
        r_user:
          update_password: always
          generate_ssh_key: true
        """,
        [],
    ),
    (
        "plaintext-secret-multiline-jinja-python",
        "roles/r/templates/r.conf.j2",
        """
        {{ ansible_managed | comment }}
        [db]
        password = {{ r_password }}
        user = r
        password = hunter2
        """,
        [(5, "plaintext-secret")],
    ),
    (
        "plaintext-secret-python",
        "plugins/module_utils/r.py",
        """
        DEFAULT_TOKEN = "s3cr3t-value"
        password = "{{ x }}"
        params = {"api_key": "abcd1234efgh"}
        """,
        [(1, "plaintext-secret"), (3, "plaintext-secret")],
    ),
    (
        "plaintext-secret-ignored",
        "inventories/lab/group_vars/all/main.yml",
        f"""
        {IGNORE} plaintext-secret
        db_password: not-a-real-one
        """,
        [],
    ),
    # become-reason ---------------------------------------------------------
    (
        "become-reason-positive",
        PLAYBOOK,
        """
        - name: Play
          hosts: all
          become: true
          tasks: []
        """,
        [(3, "become-reason")],
    ),
    (
        "become-reason-negative",
        PLAYBOOK,
        """
        - name: Same line
          hosts: all
          become: true  # apt and systemd need root
        - name: Line above
          hosts: all
          # chrony's configuration lives under /etc
          become: true
        - name: Task level
          hosts: all
          become: false
          tasks:
            - name: Needs root
              ansible.builtin.ping:
              become: true
        """,
        [],
    ),
    (
        "become-reason-multiline-second-play",
        PLAYBOOK,
        """
        - name: First
          hosts: all
          # needs root
          become: true

        - name: Second
          hosts: all
          gather_facts: false
          vars:
            x: 1
          become: yes
        """,
        [(11, "become-reason"), (11, "truthy")],
    ),
    # reference-only --------------------------------------------------------
    (
        "reference-only-positive",
        "playbooks/branch_templates/new.yml",
        """
        - name: New template
          hosts: staging
          tasks: []
        """,
        [(1, "reference-only-guard"), (1, "reference-only-label"), (2, "reference-only-hosts")],
    ),
    (
        "reference-only-negative",
        "playbooks/branch_templates/good.yml",
        """
        ---
        # Template for something.
        # REFERENCE ONLY: never deploys production (see playbooks/production_deploy.yml).

        - name: Refuse to run against production
          ansible.builtin.import_playbook: ../guards/reference_only_guard.yml

        - name: Good template
          hosts: "{{ good_hosts | default('staging') }}:!production"
          tasks: []
        """,
        [],
    ),
    (
        "reference-only-multiline-site-and-readme",
        "playbooks/site.yml",
        """
        # REFERENCE ONLY
        - ansible.builtin.import_playbook: guards/reference_only_guard.yml
        - name: First
          hosts: all:!production
        - name: Second
          hosts:
            - web
        """,
        [(6, "reference-only-hosts")],
    ),
    (
        "reference-only-other-files",
        "playbooks/branch_templates/README.md",
        """
        # Branch templates (REFERENCE ONLY)
        """,
        [],
    ),
    (
        "reference-only-label-missing-on-any-file",
        "playbooks/branch_templates/notes.md",
        """
        Some notes.
        """,
        [(1, "reference-only-label")],
    ),
    # template-header -------------------------------------------------------
    (
        "template-header-positive",
        "roles/r/templates/etc/r.conf.j2",
        """
        [main]
        a = {{ r_a }}
        """,
        [(1, "template-header")],
    ),
    (
        "template-header-negative",
        "roles/r/templates/etc/r.conf.j2",
        """
        {{ ansible_managed | comment }}
        [main]
        """,
        [],
    ),
    (
        "template-header-ignored",
        "roles/r/templates/etc/r.json.j2",
        f"""
        {{# {IGNORE} template-header #}}
        {{"a": 1}}
        """,
        [],
    ),
    # whitespace ------------------------------------------------------------
    (
        "trailing-whitespace-positive",
        TASKS,
        "- name: Ping  \n  ansible.builtin.ping:\t\n",
        [(1, "trailing-whitespace"), (2, "tab"), (2, "trailing-whitespace")],
    ),
    ("trailing-whitespace-negative-markdown", "docs/notes.md", "line with a break  \nnext\n", []),
    ("tab-multiline-python", "plugins/module_utils/r.py", "def f():\n\treturn 1\n", [(2, "tab")]),
    ("trailing-whitespace-ignored", "scripts/run.sh", f"echo hi   {IGNORE} trailing-whitespace  \n", []),
]


@pytest.mark.parametrize(("path", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(repo, path, text, expected):
    repo.write(path, text)
    result = repo.check()
    assert result.findings == [(path, line, rule) for line, rule in sorted(expected)], result.stdout
    assert result.returncode == (1 if expected else 0), result.stderr


def test_secret_values_never_reach_the_report(repo):
    repo.write("inventories/lab/group_vars/all/main.yml", "db_password: hunter2\n")
    result = repo.check()
    assert result.findings == [("inventories/lab/group_vars/all/main.yml", 1, "plaintext-secret")]
    assert "hunter2" not in result.stdout + result.stderr


def test_fqcn_names_the_module(repo):
    repo.write(TASKS, "- name: Ping\n  ping:\n")
    assert "(`ping`)" in repo.check().stdout
