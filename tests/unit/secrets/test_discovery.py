"""secrets_discovery on trees built in tmp_path: the files ansible-core loads for a run,
found the way ansible-core 2.19 finds them (host_group_vars, inventory manager, vars_files,
include_vars, roles), and what is reported as unscanned."""

from __future__ import annotations

import os

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_discovery as sd
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
from stability_ops_dev.testing import secrets as lib


def write(root, rel, text="harmless: true\n", mode=None):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def rel(plan, root):
    return sorted(os.path.relpath(p, root) for p in plan.paths)


def discover(root, **kwargs):
    kwargs.setdefault("repository_root", str(root))
    return sd.discover(sd.Run(**kwargs))


# --------------------------------------------------------------------------- host_group_vars


def test_group_and_host_vars_as_the_vars_plugin_finds_them(tmp_path):
    inv = tmp_path / "inv"
    write(inv, "hosts.yml", "all:\n  hosts:\n    db1.example.com: {}\n")
    write(inv, "group_vars/all.yml")
    write(inv, "group_vars/web.yaml")
    write(inv, "group_vars/db.json", "{}\n")
    write(inv, "group_vars/production")  # no extension: loaded
    write(inv, "group_vars/all/nested/deeper.yml")
    write(inv, "group_vars/all/nested/noext")
    write(inv, "group_vars/all/ignored.txt")  # nested: only vars extensions or none
    write(inv, "group_vars/all/.hidden.yml")
    write(inv, "group_vars/all/backup.yml~")
    write(inv, "group_vars/all/conf.d/skipped.yml")  # a directory with an extension is not recursed
    write(inv, "group_vars/.hidden/x.yml")
    write(inv, "group_vars/README.md")  # top level, no entity of that name
    write(inv, "host_vars/db1.example.com")  # the host name, not an extension
    plan = discover(tmp_path, inventory_sources=[str(inv / "hosts.yml")],
                    entities=["all", "ungrouped", "db1.example.com"])
    assert rel(plan, inv) == sorted([
        "hosts.yml", "group_vars/all.yml", "group_vars/web.yaml", "group_vars/db.json", "group_vars/production",
        "group_vars/all/nested/deeper.yml", "group_vars/all/nested/noext", "host_vars/db1.example.com"])


def test_unknown_entities_read_every_top_level_file(tmp_path):
    write(tmp_path, "host_vars/db1.example.com")
    write(tmp_path, "host_vars/.hidden")
    plan = sd.Plan()
    sd.host_group_vars(tmp_path, plan, "test")
    assert rel(plan, tmp_path) == ["host_vars/db1.example.com"]


def test_symlinked_group_vars_all_directory_is_read(tmp_path):
    inv = tmp_path / "inv"
    write(tmp_path, "shared/all/main.yml")
    write(tmp_path, "shared/all/more/db.yml")
    (inv / "group_vars").mkdir(parents=True)
    (inv / "group_vars" / "all").symlink_to(tmp_path / "shared" / "all")
    write(inv, "hosts.ini", "web1\n")
    plan = discover(tmp_path, inventory_sources=[str(inv / "hosts.ini")])
    assert rel(plan, inv) == ["group_vars/all/main.yml", "group_vars/all/more/db.yml"]
    assert not plan.findings  # the target is inside the repository tree


def test_symlink_loop_is_a_finding_and_the_file_beside_it_is_read(tmp_path):
    write(tmp_path, "group_vars/all/main.yml")
    (tmp_path / "group_vars" / "all" / "loop").symlink_to(tmp_path / "group_vars" / "all")
    (tmp_path / "group_vars" / "self").symlink_to("self")
    plan = discover(tmp_path, playbooks=[str(write(tmp_path, "site.yml", "[]\n"))])
    assert rel(plan, tmp_path) == ["group_vars/all/main.yml"]
    assert {(os.path.relpath(f.path, tmp_path), f.rule) for f in plan.findings} == {
        ("group_vars/all/loop", "symlink-loop"), ("group_vars/self", "symlink-broken")}


def test_symlink_leaving_the_tree_is_a_finding_and_still_read(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "all.yml")
    repo = tmp_path / "repo"
    (repo / "group_vars").mkdir(parents=True)
    (repo / "group_vars" / "all.yml").symlink_to(outside / "all.yml")
    plan = discover(repo, playbooks=[str(write(repo, "site.yml", "[]\n"))])
    assert rel(plan, repo) == ["group_vars/all.yml"]
    assert [f.rule for f in plan.findings] == ["symlink-outside-tree"]


# --------------------------------------------------------------------------- inventory sources


def test_ini_inventory_host_and_group_vars_are_parsed():
    hosts, groups, bad = sd.parse_ini_inventory(
        "# comment\n[web]\nweb1 ansible_host=10.0.0.1 ansible_password='two words'\n"
        "[web:vars]\nansible_become_pass = s3cr3t\n[prod:children]\nweb\n"
        "[db]\ndb1 broken='unbalanced\n")
    assert hosts == {"web1": {"ansible_host": "10.0.0.1", "ansible_password": "two words"}}
    assert groups == {"web": {"ansible_become_pass": "s3cr3t"}}
    assert bad == [9]


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("hosts.ini", "[web]\nweb1 ansible_password=x\n", "ini"),
    ("hosts", "[web]\nweb1 ansible_password=x\n", "ini"),
    ("hosts.yml", "all:\n  hosts:\n    web1:\n      ansible_ssh_pass: x\n", "file"),
    ("hosts.json", '{"all": {"hosts": {"web1": {}}}}\n', "file"),
    ("hosts.toml", "[web.hosts.web1]\nansible_password = 'x'\n", "toml"),
    ("aws_ec2.yml", "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n", "plugin"),
], ids=["ini", "ini-no-extension", "yaml", "json", "toml", "plugin-config"])
def test_inventory_file_formats(tmp_path, name, text, kind):
    source = write(tmp_path, name, text)
    plan = sd.Plan()
    sd.add_inventory_source(str(source), plan)
    if kind == "ini":
        assert [(v.origin, v.data) for v in plan.inventory_vars] == [("host web1", {"ansible_password": "x"})]
        assert plan.paths == [] and plan.unscanned == []
    elif kind == "toml":
        assert plan.inventory_vars[0].data == {"web": {"hosts": {"web1": {"ansible_password": "x"}}}}
    elif kind == "file":
        assert plan.paths == [str(source)] and not plan.inventory_vars
    else:  # its own keys are checked, the hosts the plugin returns are not
        assert plan.paths == [str(source)]
        assert [u.reason.split(":")[0] for u in plan.unscanned] == ["inventory plugin amazon.aws.aws_ec2"]


def test_inventory_script_and_host_list_are_reported_unscanned(tmp_path):
    script = write(tmp_path, "inventory.py", "#!/bin/sh\necho '{}'\n", mode=0o755)
    plan = discover(tmp_path, inventory_sources=["web1,db1", str(script), str(tmp_path / "nope.ini")])
    reasons = {u.source: u.reason.split(":")[0] for u in plan.unscanned}
    assert reasons == {"web1,db1": "host list", str(script): "inventory script",
                       str(tmp_path / "nope.ini"): "inventory source does not exist"}
    assert plan.paths == []


def test_inventory_directory_is_walked_as_the_inventory_manager_does(tmp_path):
    inv = tmp_path / "inv"
    write(inv, "01-hosts.ini", "[web]\nweb1 ansible_password=x\n")
    write(inv, "prod/hosts.yml", "all: {}\n")
    write(inv, "notes.md", "# hosts\n")
    write(inv, "old.retry", "web1\n")
    write(inv, ".hidden.ini", "web1 ansible_password=x\n")
    write(inv, "group_vars/all.yml")
    write(inv, "prod/group_vars/all.yml")  # only the source's own dir feeds host_group_vars
    (inv / "prod" / "again").symlink_to(inv)  # a loop in an inventory directory is a finding, not a hang
    plan = discover(tmp_path, inventory_sources=[str(inv)])
    assert rel(plan, inv) == ["group_vars/all.yml", "prod/hosts.yml"]
    assert [(os.path.relpath(f.path, inv), f.rule) for f in plan.findings] == [("prod/again", "symlink-loop")]
    assert [v.origin for v in plan.inventory_vars] == ["host web1"]


# --------------------------------------------------------------------------- playbooks


PLAYBOOK = """\
- name: Imported
  ansible.builtin.import_playbook: sub/other.yml
- name: Play
  hosts: all
  vars_files:
    - plain.yml
    - ["missing.yml", "vars/fallback.yml"]
    - "{{ playbook_dir }}/static_by_playbook_dir.yml"
    - "{{ env }}/secrets.yml"
  roles:
    - app
    - role: tools
  tasks:
    - name: Relative include_vars
      ansible.builtin.include_vars: extra.yml
    - name: Directory include_vars
      ansible.builtin.include_vars:
        dir: vars/more
    - name: Block
      block:
        - name: In a block
          include_vars:
            file: inblock.yml
    - name: Tasks file
      ansible.builtin.import_tasks: tasks/more.yml
"""


def test_playbook_vars_files_include_vars_and_roles(tmp_path):
    write(tmp_path, "site.yml", PLAYBOOK)
    write(tmp_path, "sub/other.yml", "- hosts: all\n  vars_files: [sub_vars.yml]\n")
    write(tmp_path, "sub/sub_vars.yml")
    write(tmp_path, "sub/group_vars/all.yml")  # adjacent to the imported playbook
    write(tmp_path, "plain.yml")
    write(tmp_path, "vars/fallback.yml")
    write(tmp_path, "static_by_playbook_dir.yml")
    write(tmp_path, "vars/extra.yml")  # include_vars looks in vars/ first
    write(tmp_path, "vars/more/a.yml")
    write(tmp_path, "vars/more/b.json", "{}\n")
    write(tmp_path, "vars/more/c.txt")
    (tmp_path / "vars" / "more" / "loop").symlink_to(tmp_path / "vars" / "more")
    write(tmp_path, "inblock.yml")
    write(tmp_path, "tasks/more.yml", "- ansible.builtin.include_vars: from_tasks_file.yml\n")
    write(tmp_path, "from_tasks_file.yml")
    write(tmp_path, "roles/app/defaults/main.yml")
    write(tmp_path, "roles/app/vars/main/a.yml")  # vars/main as a directory
    write(tmp_path, "roles/app/tasks/main.yml", "- ansible.builtin.include_vars: role_extra.yml\n")
    write(tmp_path, "roles/app/vars/role_extra.yml")
    write(tmp_path, "roles/tools/vars/main.yaml")
    write(tmp_path, "group_vars/all.yml")
    plan = discover(tmp_path, playbooks=[str(tmp_path / "site.yml")])
    assert rel(plan, tmp_path) == sorted([
        "group_vars/all.yml", "sub/group_vars/all.yml", "sub/sub_vars.yml", "plain.yml", "vars/fallback.yml",
        "static_by_playbook_dir.yml", "vars/extra.yml", "vars/more/a.yml", "vars/more/b.json", "inblock.yml",
        "from_tasks_file.yml", "roles/app/defaults/main.yml", "roles/app/vars/main/a.yml",
        "roles/app/vars/role_extra.yml", "roles/tools/vars/main.yaml"])
    assert [(u.source, u.reason.split(":")[0]) for u in plan.unscanned] == [
        ("{{ env }}/secrets.yml", f"templated vars_files entry of {tmp_path / 'site.yml'}")]
    assert [(os.path.relpath(f.path, tmp_path), f.rule) for f in plan.findings] == [("vars/more/loop", "symlink-loop")]


def test_collection_playbooks_and_roles_resolve_through_the_callbacks(tmp_path):
    write(tmp_path, "site.yml", "- ansible.builtin.import_playbook: ns.coll.pb\n"
                                "- hosts: all\n  roles: [ns.coll.role]\n")
    write(tmp_path, "coll/pb.yml", "- hosts: all\n  vars_files: [pbvars.yml]\n")
    write(tmp_path, "coll/pbvars.yml")
    write(tmp_path, "coll/role/vars/main.yml")
    plan = discover(tmp_path, playbooks=[str(tmp_path / "site.yml")],
                    resolve_playbook={"ns.coll.pb": str(tmp_path / "coll/pb.yml")}.get,
                    resolve_role={"ns.coll.role": str(tmp_path / "coll/role")}.get)
    assert rel(plan, tmp_path) == ["coll/pbvars.yml", "coll/role/vars/main.yml"]


def test_inventory_dir_is_known_with_one_inventory_directory(tmp_path):
    write(tmp_path, "site.yml", '- hosts: all\n  vars_files: ["{{ inventory_dir }}/secrets.yml"]\n')
    write(tmp_path, "inv/hosts.ini", "web1\n")
    write(tmp_path, "inv/secrets.yml")
    one = discover(tmp_path, playbooks=[str(tmp_path / "site.yml")],
                   inventory_sources=[str(tmp_path / "inv/hosts.ini")])
    assert rel(one, tmp_path) == ["inv/secrets.yml"]
    two = discover(tmp_path, playbooks=[str(tmp_path / "site.yml")],
                   inventory_sources=[str(tmp_path / "inv/hosts.ini"), str(write(tmp_path, "inv2/hosts", "db1\n"))])
    assert "inv/secrets.yml" not in rel(two, tmp_path)
    assert [u.source for u in two.unscanned] == ["{{ inventory_dir }}/secrets.yml"]


def test_a_playbook_that_imports_itself_terminates(tmp_path):
    write(tmp_path, "site.yml", "- import_playbook: site.yml\n- hosts: all\n  vars_files: [v.yml]\n")
    write(tmp_path, "v.yml")
    plan = discover(tmp_path, playbooks=[str(tmp_path / "site.yml")])
    assert rel(plan, tmp_path) == ["v.yml"]


# --------------------------------------------------------------------------- explicit paths


def test_relative_secrets_paths_resolve_against_the_playbook_dir_then_the_inventory(tmp_path):
    write(tmp_path, "pb/site.yml", "[]\n")
    write(tmp_path, "pb/files/creds.yml")
    write(tmp_path, "inv/hosts.ini", "web1\n")
    write(tmp_path, "inv/extra/secret.yml")
    plan = discover(tmp_path, playbooks=[str(tmp_path / "pb/site.yml")],
                    inventory_sources=[str(tmp_path / "inv/hosts.ini")],
                    extra_paths=["files/creds.yml", "extra", "nowhere.yml", "glob*.yml"])
    assert rel(plan, tmp_path) == ["inv/extra/secret.yml", "pb/files/creds.yml"]
    assert [(f.path, f.rule) for f in plan.findings] == [("nowhere.yml", "path-not-found")]
    assert [u.source for u in plan.unscanned] == ["glob*.yml"]


def test_vault_password_files_of_the_command_line_and_config(tmp_path):
    cli_ids = ["lab@" + str(tmp_path / "b"), "prompt", "x@prompt"]
    files = sd.vault_password_files(cli_files=[str(tmp_path / "a")], cli_ids=cli_ids,
                                    config_file=str(tmp_path / "c"), config_ids=[str(tmp_path / "d")])
    assert files == [str(tmp_path / n) for n in "acbd"]


# --------------------------------------------------------------------------- with the rules


def test_check_reports_inventory_vars_layout_findings_and_unscanned_sources(tmp_path):
    inv = tmp_path / "inv"
    write(inv, "hosts.ini", f"[production]\nweb1 ansible_password={lib.SECRET}\n")
    write(inv, "host_vars/web1", f"db_password: {lib.SECRET}\n")
    write(inv, "group_vars/all/ok.yml")
    (inv / "group_vars" / "all" / "loop").symlink_to(inv / "group_vars")
    plan = discover(tmp_path, inventory_sources=[str(inv / "hosts.ini"), "web2,"], entities=["web1", "all"])
    report = sd.check(plan, sp.Options(base_dir=str(tmp_path), repository_root=str(tmp_path),
                                       tree_roots=plan.tree_roots, scan_tracked_files=False))
    assert report["failed"]
    assert {(v["path"], v["rule"]) for v in report["violations"]} >= {
        ("inv/hosts.ini", "connection-password"), ("inv/host_vars/web1", "plaintext-secret"),
        ("inv/group_vars/all/loop", "symlink-loop")}
    assert report["unscanned"][0]["source"] == "web2,"
    assert "Not scanned (1):" in report["msg"] and "web2,: host list" in report["msg"]
    assert lib.SECRET not in str(report)


def test_a_host_list_alone_never_passes_silently(tmp_path):
    report = sd.check(discover(tmp_path, inventory_sources=["web1,"]),
                      sp.Options(base_dir=str(tmp_path), scan_tracked_files=False))
    assert "No file that this run loads was found to check" in report["msg"]
    assert "web1,: host list: it names hosts only and loads no file" in report["msg"]


def test_tree_files_skip_virtualenvs_and_tool_caches_but_not_untracked_or_hidden_files(tmp_path):
    write(tmp_path, "inv/keys.txt", "anything\n")
    write(tmp_path, "inv/.hidden.key", "anything\n")
    write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "env/lib/site.py", "x = 1\n")
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, "node_modules/a.js", "x\n")
    (tmp_path / "link").symlink_to(tmp_path / "inv")
    assert [os.path.relpath(p, tmp_path) for p in sd.tree_files([str(tmp_path)])] == [
        "inv/.hidden.key", "inv/keys.txt"]
    plan = sd.Plan()
    assert len(sd.tree_files([str(tmp_path)], limit=1, plan=plan)) == 1
    assert plan.unscanned[0].reason.startswith("tree walk stopped after 1 files")


def test_an_untracked_age_key_in_the_inventory_is_found_by_the_tree_scan(tmp_path):
    key = lib.make_age_key(tmp_path / "inv", "keys")  # no extension, not a vars file, not in git
    write(tmp_path, "inv/hosts.ini", "web1\n")
    plan = discover(tmp_path, inventory_sources=[str(tmp_path / "inv/hosts.ini")])
    report = sd.check(plan, sp.Options(base_dir=str(tmp_path), repository_root=str(tmp_path),
                                       tree_roots=plan.tree_roots))
    assert [(v["path"], v["rule"]) for v in report["violations"]] == [("inv/keys", "age-private-key")]
    assert key.private_text not in str(report)
    without = sd.check(plan, sp.Options(base_dir=str(tmp_path), repository_root=str(tmp_path),
                                        tree_roots=plan.tree_roots, scan_tracked_files=False))
    assert not without["failed"]


@pytest.mark.parametrize("args", ["extra.yml", "file=extra.yml name=x", {"file": "extra.yml"},
                                  {"_raw_params": "extra.yml"}],
                         ids=["free-form", "key-value", "file", "raw-params"])
def test_include_vars_argument_forms(tmp_path, args):
    plan = sd.Plan()
    write(tmp_path, "vars/extra.yml")
    walker = sd._Walker(sd.Run(base_dir=str(tmp_path)), plan, playbook_dirs=[str(tmp_path)])
    walker.tasks([{"ansible.builtin.include_vars": args}], str(tmp_path / "site.yml"), [str(tmp_path)], None, 0)
    assert rel(plan, tmp_path) == ["vars/extra.yml"]


def test_a_templated_free_form_include_vars_is_named_whole(tmp_path):
    plan = sd.Plan()
    walker = sd._Walker(sd.Run(base_dir=str(tmp_path)), plan, playbook_dirs=[str(tmp_path)])
    walker.tasks([{"include_vars": "{{ ansible_os_family }}.yml"}], "site.yml", [str(tmp_path)], None, 0)
    assert [u.source for u in plan.unscanned] == ["{{ ansible_os_family }}.yml"]


def test_key_scan_reads_ignored_files_of_the_inventory_but_not_of_the_rest_of_the_repository(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "keys.txt\n.cache/\n")
    write(tmp_path, "inv/hosts.ini", "web1\n")
    write(tmp_path, "inv/keys.txt")  # ignored by git, inside the inventory: scanned
    write(tmp_path, ".cache/rootfs/etc/ssh/ssh_host_ed25519_key")  # ignored, outside: not scanned
    write(tmp_path, "docs/untracked.md")  # untracked, not ignored: scanned
    plan = discover(tmp_path, inventory_sources=[str(tmp_path / "inv/hosts.ini")])
    assert sorted(os.path.relpath(p, tmp_path) for p in sd.scan_files(plan)) == [
        ".gitignore", "docs/untracked.md", "inv/hosts.ini", "inv/keys.txt"]
