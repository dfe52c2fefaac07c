"""The host_state snapshot (module_utils/host_state.py) on real files, its parsers on real command output,
and the host_state_changes filter that compares two snapshots."""

from __future__ import annotations

import copy
import grp
import hashlib
import os
import pwd
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter import host_state as filter_plugin
from ansible_collections.stability.ops.plugins.module_utils import host_state
from ansible_collections.stability.ops.plugins.modules import host_state as module

# Captured from a Debian 13 lab host (scripts/lab.sh), trimmed.
UNIT_FILES = """\
apt-daily.service                            static          -
auditd.service                               enabled         enabled
autovt@.service                              alias           -
chrony.service                               enabled         enabled
nftables.service                             disabled        enabled
ssh.socket                                   disabled        enabled
systemd-timedated.service                    static          -
"""
UNITS = """\
apt-daily.service                           loaded    inactive dead      Daily apt download activities
audit-rules.service                         loaded    failed   failed    Load Audit Rules
chrony.service                              loaded    active   running   chrony, an NTP client/server
connman.service                             not-found inactive dead      connman.service
\u25cf nftables.service                          loaded    failed   failed    nftables
session-1.scope                             loaded    active   running   Session 1
systemd-timedated.service                   loaded    active   running   Time & Date Service
"""
PACKAGES = "acl\t2.3.2-2+b1\tinstalled\nchrony\t4.6.1-1\tinstalled\nntp\t1:4.2.8p15\tconfig-files\n" \
           "ghost\t\tnot-installed\nlibc6:amd64\t2.41-12\tinstalled\n"


def _owner(path: Path) -> str:
    st = path.lstat()
    return f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small managed tree: a config file, a sub-directory, a symlink to a directory, a fifo."""
    root = tmp_path / "etc"
    (root / "chrony").mkdir(parents=True)
    (root / "chrony" / "chrony.conf").write_text("server 127.0.0.1 iburst\n")
    (root / "chrony").chmod(0o755)
    (root / "chrony" / "chrony.conf").chmod(0o640)
    (root / "localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (root / "linked").symlink_to(root / "chrony")
    os.mkfifo(root / "initctl", 0o600)
    return root


def test_files_are_recorded_with_type_mode_owner_and_digest(tree: Path):
    files = host_state.snapshot_files([str(tree)])
    conf = tree / "chrony" / "chrony.conf"
    digest = hashlib.sha256(b"server 127.0.0.1 iburst\n").hexdigest()
    assert files == {
        str(tree): f"directory {tree.stat().st_mode & 0o7777:04o} {_owner(tree)}",
        str(tree / "chrony"): f"directory 0755 {_owner(tree / 'chrony')}",
        str(conf): f"file 0640 {_owner(conf)} sha256:{digest}",
        str(tree / "localtime"): "symlink -> /usr/share/zoneinfo/Etc/UTC",
        # A symlink to a directory is recorded, never followed: chrony.conf is listed once.
        str(tree / "linked"): f"symlink -> {tree / 'chrony'}",
        str(tree / "initctl"): f"fifo 0600 {_owner(tree / 'initctl')}",
    }
    assert "server 127.0.0.1" not in repr(files)


def test_a_file_that_cannot_be_read_is_recorded_as_unreadable(tmp_path: Path):
    gone = tmp_path / "rotated.conf"
    gone.write_text("x")
    st = gone.lstat()
    gone.unlink()  # replaced between the directory listing and the read, as a log rotation does
    assert host_state.file_record(str(gone), st).endswith(" unreadable")


def test_paths_expand_globs_skip_missing_trees_and_list_each_path_once(tmp_path: Path):
    for user in ("alice", "bob"):
        (tmp_path / "home" / user / ".ssh").mkdir(parents=True)
        (tmp_path / "home" / user / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA\n")
    (tmp_path / "home" / "carol").mkdir()
    paths = [str(tmp_path / "home" / "*" / ".ssh"), str(tmp_path / "missing"), str(tmp_path / "home" / "bob")]
    files = host_state.snapshot_files(paths)
    assert sorted(files) == sorted(str(tmp_path / "home" / p) for p in (
        "alice/.ssh", "alice/.ssh/authorized_keys", "bob", "bob/.ssh", "bob/.ssh/authorized_keys"))


def test_excluded_paths_are_left_out_and_excluded_directories_not_entered(tree: Path):
    files = host_state.snapshot_files([str(tree)], exclude=["*/chrony", "*.fifo", str(tree / "initctl")])
    assert sorted(files) == [str(tree), str(tree / "linked"), str(tree / "localtime")]


def test_the_walk_lists_a_mount_point_but_does_not_enter_it():
    root = os.lstat("/dev")
    mounts = [path for path in ("/dev/pts", "/dev/shm", "/dev/mqueue")
              if os.path.isdir(path) and os.lstat(path).st_dev != root.st_dev]
    if not mounts:
        pytest.skip("no file system is mounted under /dev here")
    listed = dict(host_state.walk("/dev"))
    for mount in mounts:
        assert mount in listed
        assert not [path for path in listed if path.startswith(mount + "/")], f"{mount} was entered"


def test_unit_files_and_units_parse_from_systemctl_output():
    unit_files = host_state.parse_unit_files(UNIT_FILES)
    assert unit_files["chrony.service"] == "enabled"
    assert unit_files["ssh.socket"] == "disabled"
    units = host_state.parse_units(UNITS)
    assert units["nftables.service"] == "failed/failed"  # the failed-unit bullet is not a unit name
    assert units["connman.service"] == "inactive/dead"


def test_only_the_activity_of_units_an_administrator_enables_or_disables_is_kept():
    # static, alias and transient units (systemd-timedated, a session scope) and units without a unit file
    # (connman.service is not-found) start and stop on demand: their activity says nothing about a run.
    kept = host_state.drop_on_demand(host_state.parse_units(UNITS), host_state.parse_unit_files(UNIT_FILES))
    assert kept == {"chrony.service": "active/running", "nftables.service": "failed/failed"}


def test_packages_keep_their_version_and_a_status_other_than_installed():
    assert host_state.parse_packages(PACKAGES) == {
        "acl": "2.3.2-2+b1", "chrony": "4.6.1-1", "ntp": "1:4.2.8p15 (config-files)", "libc6:amd64": "2.41-12"}


class Commands:
    """The outputs a Debian host gives for the snapshot's commands, and the argv lists it was asked."""

    def __init__(self, failing: str = "", missing: tuple[str, ...] = ()):
        self.failing, self.missing, self.asked = failing, missing, []

    def get_bin_path(self, name: str) -> str | None:
        return None if name in self.missing else f"/usr/bin/{name}"

    def run_command(self, argv: list[str]) -> tuple[int, str, str]:
        self.asked.append(argv)
        tool = Path(argv[0]).name
        if tool == self.failing:
            return 1, "", "netlink: Error: cache initialization failed: Operation not permitted\nmore\n"
        if tool == "systemctl":
            return 0, UNIT_FILES if "list-unit-files" in argv else UNITS, ""
        if tool == "dpkg-query":
            return 0, PACKAGES, ""
        return 0, "table inet filter {\n}\n", ""


def test_collect_runs_each_tool_once_with_an_argv_list(tree: Path):
    commands = Commands()
    state = host_state.collect(commands.run_command, commands.get_bin_path, paths=[str(tree)], systemd_booted=True)
    assert commands.asked == [
        ["/usr/bin/systemctl", "--no-legend", "--plain", "--no-pager", "--type=service,socket,timer",
         "list-unit-files"],
        ["/usr/bin/systemctl", "--no-legend", "--plain", "--no-pager", "--type=service,socket,timer",
         "list-units", "--all"],
        ["/usr/bin/dpkg-query", "-W", "-f", "${binary:Package}\\t${Version}\\t${db:Status-Status}\\n"],
        ["/usr/bin/nft", "--stateless", "list", "ruleset"],
    ]
    assert state["units"] == {"chrony.service": "active/running", "nftables.service": "failed/failed"}
    assert state["nftables"] == {"ruleset": hashlib.sha256(b"table inet filter {\n}\n").hexdigest()}
    assert host_state.counts(state) == {"files": 6, "unit_files": 7, "units": 2, "packages": 4, "nftables": 1}


def test_collect_leaves_out_what_is_not_installed_or_not_running(tree: Path):
    commands = Commands(missing=("nft", "dpkg-query"))
    state = host_state.collect(commands.run_command, commands.get_bin_path, paths=[str(tree)], systemd_booted=False)
    assert [argv[-1] for argv in commands.asked] == ["list-unit-files"]
    assert state["units"] == state["packages"] == state["nftables"] == {}
    assert state["unit_files"]["chrony.service"] == "enabled"


def test_a_failing_tool_fails_the_snapshot_with_its_first_line(tree: Path):
    commands = Commands(failing="nft")
    with pytest.raises(host_state.SnapshotError) as error:
        host_state.collect(commands.run_command, commands.get_bin_path, paths=[str(tree)], systemd_booted=True)
    assert str(error.value) == (
        "reading the nftables ruleset failed (/usr/bin/nft --stateless list ruleset, rc=1): "
        "netlink: Error: cache initialization failed: Operation not permitted")


BEFORE = {
    "files": {
        "/etc/motd": "file 0644 root:root sha256:aaaa",
        "/etc/shadow": "file 0640 root:shadow sha256:bbbb",
        "/etc/localtime": "symlink -> /usr/share/zoneinfo/Etc/UTC",
        "/etc/ssh/sshd_config.d": "directory 0755 root:root",
        "/etc/old.conf": "file 0644 root:root sha256:cccc",
    },
    "unit_files": {"chrony.service": "enabled", "nftables.service": "disabled"},
    "units": {"chrony.service": "active/running"},
    "packages": {"chrony": "4.6.1-1", "ntp": "1:4.2.8p15"},
    "nftables": {"ruleset": "1111"},
}


def _after(kind: str, key: str, value: str | None) -> dict:
    after = copy.deepcopy(BEFORE)
    if value is None:
        del after[kind][key]
    else:
        after[kind][key] = value
    return after


@pytest.mark.parametrize(
    ("kind", "key", "value", "expected"),
    [
        ("files", "/etc/motd", "file 0644 root:root sha256:dddd", "file /etc/motd: content changed"),
        ("files", "/etc/motd", "file 0600 root:adm sha256:aaaa",
         "file /etc/motd: mode 0644 -> 0600, owner root:root -> root:adm"),
        ("files", "/etc/shadow", "file 0640 root:shadow unreadable", "file /etc/shadow: now unreadable"),
        ("files", "/etc/new.conf", "file 0644 root:root sha256:eeee", "file /etc/new.conf: created"),
        ("files", "/etc/old.conf", None, "file /etc/old.conf: removed"),
        ("files", "/etc/localtime", "symlink -> /usr/share/zoneinfo/Europe/Berlin",
         "symlink /etc/localtime: target /usr/share/zoneinfo/Etc/UTC -> /usr/share/zoneinfo/Europe/Berlin"),
        ("files", "/etc/localtime", "file 0644 root:root sha256:ffff", "symlink /etc/localtime: replaced by a file"),
        ("files", "/etc/ssh/sshd_config.d", "directory 0700 root:root",
         "directory /etc/ssh/sshd_config.d: mode 0755 -> 0700"),
        ("unit_files", "nftables.service", "enabled", "unit file nftables.service: disabled -> enabled"),
        ("units", "chrony.service", "inactive/dead", "unit chrony.service: active/running -> inactive/dead"),
        ("units", "nftables.service", "active/exited", "unit nftables.service: active/exited (new)"),
        ("packages", "chrony", "4.6.1-2", "package chrony: 4.6.1-1 -> 4.6.1-2"),
        ("packages", "ntp", None, "package ntp: 1:4.2.8p15 -> absent"),
        ("packages", "ntp", "1:4.2.8p15 (config-files)", "package ntp: 1:4.2.8p15 -> 1:4.2.8p15 (config-files)"),
        ("nftables", "ruleset", "2222", "nftables ruleset: changed"),
        ("nftables", "ruleset", None, "nftables ruleset: removed"),
    ],
    ids=["content", "mode-and-owner", "unreadable", "created", "removed", "symlink-target", "type", "directory-mode",
         "enabled", "stopped", "started", "upgraded", "purged", "removed-keeping-config", "ruleset", "ruleset-flushed"],
)
def test_changes_name_each_difference_without_digests(kind, key, value, expected):
    assert host_state.changes(BEFORE, _after(kind, key, value)) == [expected]


def test_identical_snapshots_have_no_changes():
    assert host_state.changes(BEFORE, copy.deepcopy(BEFORE)) == []


def test_changes_are_ordered_by_kind_then_key_and_limited_with_a_count():
    after = copy.deepcopy(BEFORE)
    after["packages"]["chrony"] = "4.6.1-2"
    after["files"]["/etc/motd"] = "file 0644 root:root sha256:dddd"
    after["files"]["/etc/a.conf"] = "file 0644 root:root sha256:eeee"
    after["units"]["chrony.service"] = "failed/failed"
    assert host_state.changes(BEFORE, after) == [
        "file /etc/a.conf: created", "file /etc/motd: content changed",
        "unit chrony.service: active/running -> failed/failed", "package chrony: 4.6.1-1 -> 4.6.1-2"]
    assert host_state.changes(BEFORE, after, limit=2) == [
        "file /etc/a.conf: created", "file /etc/motd: content changed", "... and 2 more"]


def test_a_change_on_disk_shows_up_between_two_real_snapshots(tree: Path):
    before = {"files": host_state.snapshot_files([str(tree)])}
    (tree / "chrony" / "chrony.conf").write_text("server 192.0.2.1\n")
    (tree / "chrony" / "conf.d").mkdir()
    (tree / "localtime").unlink()
    after = {"files": host_state.snapshot_files([str(tree)])}
    assert host_state.changes(before, after) == [
        f"file {tree}/chrony/chrony.conf: content changed",
        f"directory {tree}/chrony/conf.d: created",
        f"symlink {tree}/localtime: removed",
    ]


def test_the_filter_accepts_registered_results_and_rejects_anything_else():
    registered = {"changed": False, "counts": {}, "host_state": BEFORE}
    after = {"changed": False, "host_state": _after("packages", "chrony", "4.6.1-2")}
    assert filter_plugin.host_state_changes(registered, after, "5") == ["package chrony: 4.6.1-1 -> 4.6.1-2"]
    assert filter_plugin.FilterModule().filters() == {"host_state_changes": filter_plugin.host_state_changes}
    with pytest.raises(AnsibleFilterError) as not_a_dict:
        filter_plugin.host_state_changes(BEFORE, [])
    assert str(not_a_dict.value) == (
        "host_state_changes: the after snapshot must be the host_state module's result, got list")
    with pytest.raises(AnsibleFilterError) as not_a_snapshot:
        filter_plugin.host_state_changes({"msg": "oops"}, BEFORE)
    assert str(not_a_snapshot.value) == (
        "host_state_changes: the before snapshot is not a host_state snapshot: unknown keys msg "
        "(expected files, unit_files, units, packages, nftables)")


@pytest.mark.parametrize("plugin", [module, filter_plugin], ids=["module", "filter"])
def test_documentation_examples_and_return_are_valid_yaml(plugin):
    documentation = yaml.safe_load(plugin.DOCUMENTATION)
    assert yaml.safe_load(plugin.EXAMPLES)
    assert yaml.safe_load(plugin.RETURN)
    if plugin is module:
        options = documentation["options"]
        assert set(options) == set(module.ARGUMENT_SPEC)
        for name, spec in module.ARGUMENT_SPEC.items():
            assert (options[name]["type"], options[name]["elements"], options[name]["default"]) == (
                spec["type"], spec["elements"], spec["default"]), name
        assert documentation["attributes"]["check_mode"]["support"] == "full"
    else:
        assert set(documentation["options"]) == {"_input", "after", "limit"}
