"""Release facts live in vars/<distribution>-<major version>.yml, loaded the same way by every role.

Unit names, package names, paths and algorithm lists that differ between the
tested releases (Debian 12 bookworm, Debian 13 trixie) are in
``roles/<role>/vars/Debian-12.yml`` and ``Debian-13.yml``; tasks and handlers
stay release-neutral. The last test runs each role's ``tasks/release_vars.yml``
on the controller with faked distribution facts: the right file loads on each
release, and any other release fails with a message naming what is supported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())
# The releases the suite tests: galaxy platform name -> vars file.
TESTED = {"bookworm": "Debian-12.yml", "trixie": "Debian-13.yml"}
RELEASE_ROLES = sorted(r for r in ROLES if any((r / "vars").glob("Debian-*.yml")))
UNIT_MODULES = {"ansible.builtin.systemd_service", "ansible.builtin.systemd", "ansible.builtin.service"}


def _load(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_meta_platforms_are_the_tested_releases(role: Path):
    platforms = _load(role / "meta" / "main.yml")["galaxy_info"]["platforms"]
    assert platforms == [{"name": "Debian", "versions": list(TESTED)}]


def test_the_roles_with_release_differences_have_release_vars():
    assert [r.name for r in RELEASE_ROLES] == ["core_time", "security_auditd", "security_sshd"]


@pytest.mark.parametrize("role", RELEASE_ROLES, ids=[r.name for r in RELEASE_ROLES])
def test_release_vars_files_cover_the_tested_releases_with_the_same_private_keys(role: Path):
    files = sorted(p.name for p in (role / "vars").glob("*-*.yml"))
    assert files == sorted(TESTED.values())
    keys = {name: set(_load(role / "vars" / name)) for name in files}
    first = keys[files[0]]
    assert all(k == first for k in keys.values()), keys
    assert all(k.startswith(f"__{role.name}_") for k in first), first
    # Defined once: not also in vars/main.yml or defaults, where precedence would hide it.
    shadowed = first & (set(_load(role / "vars" / "main.yml") or {}) | set(_load(role / "defaults" / "main.yml") or {}))
    assert not shadowed


@pytest.mark.parametrize("role", RELEASE_ROLES, ids=[r.name for r in RELEASE_ROLES])
def test_release_vars_load_first_with_minimal_facts(role: Path):
    first = _load(role / "tasks" / "main.yml")[0]
    assert first["ansible.builtin.import_tasks"] == "release_vars.yml"
    # Always: any --tags may select a task that needs them, and --skip-tags of one
    # of the role's tags must not drop them for the others (a task with several
    # tags is skipped when any one of them is).
    assert first["tags"] == ["always"]
    setup, check, include = _load(role / "tasks" / "release_vars.yml")
    assert setup["ansible.builtin.setup"] == {"gather_subset": ["!all", "!min", "distribution"]}
    assert "is not defined" in setup["when"]
    assert "ansible.builtin.assert" in check
    assert include["ansible.builtin.include_vars"] == {"file": f"{{{{ __{role.name}_release_file }}}}"}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_handlers_name_units_by_the_tasks_variables(role: Path):
    handlers = _load(role / "handlers" / "main.yml") or []
    literal = [
        (h["name"], args["name"])
        for h in handlers
        for module, args in h.items()
        if module in UNIT_MODULES and isinstance(args, dict) and "name" in args and "{{" not in str(args["name"])
    ]
    assert not literal, f"handlers with a literal unit name (use the variable the tasks use): {literal}"


FAKE_FACTS_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}}, supports_check_mode=True)
module.exit_json(changed=False, ansible_facts=module.params["facts"])
'''


def _pretend(distribution: str, major: str, version: str) -> dict:
    facts = {"distribution": distribution, "distribution_major_version": major, "distribution_version": version}
    return {"name": f"Pretend to be {distribution} {version}", "fake_facts": {"facts": facts}}


def _load_release_vars(role: str) -> dict:
    return {
        "name": f"Load the release vars of {role}",
        "ansible.builtin.include_role": {"name": f"stability.ops.{role}", "tasks_from": "release_vars"},
    }


def _playbook(expected: dict) -> list:
    tasks = []
    for release, (major, version) in {"Debian-12.yml": ("12", "12.8"), "Debian-13.yml": ("13", "13.2")}.items():
        tasks.append(_pretend("Debian", major, version))
        for role, files in expected.items():
            tasks.append(_load_release_vars(role))
            that = [f"{name} == {json.dumps(value)}" for name, value in files[release].items()]
            tasks.append({"name": f"Assert {role} loaded {release}", "ansible.builtin.assert": {"that": that}})
    tasks.append(_pretend("Ubuntu", "24", "24.04"))
    for role in expected:
        that = [
            f"ansible_failed_result.msg is search('^{role} supports Debian 12, Debian 13 ')",
            "ansible_failed_result.msg is search('this host runs Ubuntu 24.04\\\\.$')",
        ]
        tasks.append({
            "name": f"Run {role} on an unsupported release",
            "block": [_load_release_vars(role), {"name": "Not reached", "ansible.builtin.fail": {"msg": "accepted"}}],
            "rescue": [{"name": "Assert the message", "ansible.builtin.assert": {
                "that": that, "fail_msg": "{{ ansible_failed_result.msg }}"}}],
        })
    return [{"name": "Release vars", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": tasks}]


def test_release_vars_load_per_release_and_refuse_other_releases(tmp_path: Path):
    expected = {r.name: {f: _load(r / "vars" / f) for f in TESTED.values()} for r in RELEASE_ROLES}
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "fake_facts.py").write_text(FAKE_FACTS_MODULE)
    playbook = tmp_path / "release_vars.yml"
    playbook.write_text(yaml.safe_dump(_playbook(expected), sort_keys=False))
    # A configuration of its own: the working copy as the collection, no
    # callbacks (the repository's would write the health summary).
    config = tmp_path / "ansible.cfg"
    config.write_text(
        "[defaults]\n"
        f"collections_path = {REPO_ROOT / '.collections'}\n"
        f"library = {tmp_path / 'library'}\n"
        f"local_tmp = {tmp_path / 'tmp'}\n"
        f"interpreter_python = {sys.executable}\n"
        "localhost_warning = false\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout
    assert f"rescued={len(expected)}" in result.stdout
