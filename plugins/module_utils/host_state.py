# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot the managed state of a host and compare two snapshots (read-only).

Shipped to the managed host with the ``host_state`` module (:func:`collect`);
the ``host_state_changes`` filter runs :func:`changes` on the controller. The
record format lives only here, so the producer and the comparison cannot drift.

A snapshot is a dict of kinds, each ``{key: record}``:

``files``
    every path under the managed trees (one file system per tree, as
    ``find -xdev``): ``"file MODE OWNER:GROUP sha256:HEX"`` (``unreadable``
    instead of the digest when the file cannot be read), ``"directory MODE
    OWNER:GROUP"``, ``"symlink -> TARGET"`` or ``"<type> MODE OWNER:GROUP"``.
``unit_files``
    enablement of every service, socket and timer unit file.
``units``
    ``ACTIVE/SUB`` of those units, for units enabled or disabled by a unit file.
``packages``
    version of every package dpkg knows, with its status unless installed.
``nftables``
    ``{"ruleset": HEX}``: sha256 of the loaded ruleset without its counters.

Records hold digests, modes, owners, states and versions: never file contents.
"""

from __future__ import annotations

import fnmatch
import glob
import grp
import hashlib
import os
import pwd
import stat
from collections.abc import Mapping

# Trees the roles write: /etc holds every config file, home directories the
# authorized_keys of core_users.
DEFAULT_PATHS = ("/etc", "/root/.ssh", "/home/*/.ssh", "/usr/local/etc")
UNIT_TYPES = "service,socket,timer"
# systemd drives the activity of these units on demand (D-Bus or socket
# activation: any timedatectl call starts systemd-timedated), so their
# activity says nothing about what a run changed: only their unit file state
# is kept. A unit without a unit file (not-found, transient) counts as these.
ON_DEMAND_UNIT_FILE_STATES = frozenset(("static", "indirect", "generated", "transient", "alias"))
KINDS = ("files", "unit_files", "units", "packages", "nftables")
# dpkg's record of a package: a tab never occurs in names, versions or states.
DPKG_FORMAT = "${binary:Package}\\t${Version}\\t${db:Status-Status}\\n"
_CHUNK = 1024 * 1024
_FILE_TYPES = (
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "char-device"),
    (stat.S_ISBLK, "block-device"),
)


class SnapshotError(Exception):
    """A part of the snapshot could not be taken: comparing without it would prove nothing."""


def _name(cache, lookup, number):
    if number not in cache:
        try:
            cache[number] = lookup(number)[0]
        except KeyError:
            cache[number] = str(number)
    return cache[number]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path, st, users=None, groups=None):
    """The record of one path from its lstat() result; regular files are read to hash them."""
    if stat.S_ISLNK(st.st_mode):
        return "symlink -> " + os.readlink(path)
    kind = next((name for test, name in _FILE_TYPES if test(st.st_mode)), "other")
    user = _name({} if users is None else users, pwd.getpwuid, st.st_uid)
    group = _name({} if groups is None else groups, grp.getgrgid, st.st_gid)
    record = f"{kind} {stat.S_IMODE(st.st_mode):04o} {user}:{group}"
    if kind == "file":
        try:
            record += " sha256:" + _sha256(path)
        except OSError:
            record += " unreadable"
    return record


def expand_paths(paths):
    """The trees to walk: each path, or what a glob pattern matches now, once each, in order."""
    roots = []
    for path in paths:
        matches = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
        roots.extend(match for match in matches if match not in roots)
    return roots


def is_excluded(path, exclude):
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in exclude)


def walk(root, exclude=()):
    """(path, lstat) of ``root`` and everything below it on its file system, as ``find -xdev``.

    Symlinks are never followed; a mount point is listed but not entered; an
    excluded directory is not entered either. A missing root yields nothing.
    """
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return
    if is_excluded(root, exclude):
        return
    yield root, st
    device = st.st_dev
    pending = [root] if stat.S_ISDIR(st.st_mode) else []
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                found = list(entries)
        except OSError:
            continue
        for entry in found:
            if is_excluded(entry.path, exclude):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield entry.path, st
            if stat.S_ISDIR(st.st_mode) and st.st_dev == device:
                pending.append(entry.path)


def snapshot_files(paths=DEFAULT_PATHS, exclude=()):
    users, groups, files = {}, {}, {}
    for root in expand_paths(paths):
        for path, st in walk(root, exclude):
            if path not in files:
                files[path] = file_record(path, st, users, groups)
    return files


def parse_unit_files(text):
    """``systemctl list-unit-files --plain --no-legend``: {unit: state}."""
    states = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            states[fields[0]] = fields[1]
    return states


def parse_units(text):
    """``systemctl list-units --all --plain --no-legend``: {unit: "ACTIVE/SUB"}."""
    units = {}
    for line in text.splitlines():
        fields = line.split()
        # Some systemd versions mark failed units with a bullet even in --plain.
        if fields and fields[0] in ("\u25cf", "*"):
            fields = fields[1:]
        if len(fields) >= 4:
            units[fields[0]] = f"{fields[2]}/{fields[3]}"
    return units


def drop_on_demand(units, unit_files):
    """The activity of the units whose unit file says they are enabled or disabled by an administrator."""
    return {unit: state for unit, state in units.items()
            if unit_files.get(unit, "transient") not in ON_DEMAND_UNIT_FILE_STATES}


def parse_packages(text):
    """``dpkg-query -W -f DPKG_FORMAT``: {package: version}, the status appended unless installed."""
    packages = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[2] == "not-installed":
            continue
        name, version, status = fields
        packages[name] = version if status == "installed" else f"{version} ({status})"
    return packages


def _output(run_command, argv, what):
    rc, out, err = run_command(argv)
    if rc != 0:
        # The first line of stderr says why; it is a tool's message, not file content.
        reason = (err or out or "").strip().splitlines() or ["no output"]
        raise SnapshotError(f"{what} failed ({' '.join(argv)}, rc={rc}): {reason[0]}")
    return out


def collect(run_command, get_bin_path, paths=DEFAULT_PATHS, exclude=(), systemd_booted=None):
    """The snapshot of this host.

    ``run_command(argv) -> (rc, stdout, stderr)`` and ``get_bin_path(name) ->
    path or None`` are the module's (AnsibleModule.run_command and
    get_bin_path). A tool that is not installed leaves its kind empty; a tool
    that fails raises SnapshotError. Unit activity is read only where systemd
    runs (``/run/systemd/system`` exists, as sd_booted() checks).
    """
    if systemd_booted is None:
        systemd_booted = os.path.isdir("/run/systemd/system")
    state = {"files": snapshot_files(paths, exclude), "unit_files": {}, "units": {}, "packages": {}, "nftables": {}}
    systemctl = get_bin_path("systemctl")
    if systemctl:
        listing = [systemctl, "--no-legend", "--plain", "--no-pager", "--type=" + UNIT_TYPES]
        unit_files = _output(run_command, [*listing, "list-unit-files"], "listing unit files")
        state["unit_files"] = parse_unit_files(unit_files)
        if systemd_booted:
            units = parse_units(_output(run_command, [*listing, "list-units", "--all"], "listing units"))
            state["units"] = drop_on_demand(units, state["unit_files"])
    dpkg_query = get_bin_path("dpkg-query")
    if dpkg_query:
        listed = _output(run_command, [dpkg_query, "-W", "-f", DPKG_FORMAT], "listing packages")
        state["packages"] = parse_packages(listed)
    nft = get_bin_path("nft")
    if nft:
        # --stateless leaves out counters and quotas, which traffic changes.
        ruleset = _output(run_command, [nft, "--stateless", "list", "ruleset"], "reading the nftables ruleset")
        state["nftables"] = {"ruleset": hashlib.sha256(ruleset.encode("utf-8")).hexdigest()}
    return state


def counts(state):
    """How many entries of each kind a snapshot holds."""
    return {kind: len(state.get(kind) or {}) for kind in KINDS}


# Comparison ------------------------------------------------------------------

_LABELS = {"files": "", "unit_files": "unit file", "units": "unit", "packages": "package", "nftables": "nftables"}


def _split_file_record(record):
    """(type, mode, owner, rest) of a files record; symlinks have no mode or owner."""
    if record.startswith("symlink -> "):
        return "symlink", None, None, record[len("symlink -> "):]
    fields = record.split(" ", 3)
    fields += [None] * (4 - len(fields))
    return tuple(fields)


def describe_file_change(path, old, new):
    """One human-readable line about a path: what changed, never what it holds."""
    if old is None:
        return f"{_split_file_record(new)[0]} {path}: created"
    if new is None:
        return f"{_split_file_record(old)[0]} {path}: removed"
    old_type, old_mode, old_owner, old_rest = _split_file_record(old)
    new_type, new_mode, new_owner, new_rest = _split_file_record(new)
    if old_type != new_type:
        return f"{old_type} {path}: replaced by a {new_type}"
    what = []
    if old_type == "symlink":
        what.append(f"target {old_rest} -> {new_rest}")
    else:
        if old_rest != new_rest:
            if "unreadable" not in (old_rest, new_rest):
                what.append("content changed")
            else:
                what.append("now unreadable" if new_rest == "unreadable" else "now readable")
        if old_mode != new_mode:
            what.append(f"mode {old_mode} -> {new_mode}")
        if old_owner != new_owner:
            what.append(f"owner {old_owner} -> {new_owner}")
    return f"{old_type} {path}: {', '.join(what)}"


def _describe(kind, key, old, new):
    if kind == "files":
        return describe_file_change(key, old, new)
    if kind == "nftables":
        return f"nftables {key}: {'loaded' if old is None else 'removed' if new is None else 'changed'}"
    label = f"{_LABELS[kind]} {key}"
    if old is None:
        return f"{label}: {new} (new)"
    if new is None:
        return f"{label}: {old} -> absent"
    return f"{label}: {old} -> {new}"


def _unwrap(state, which):
    # The registered result of the module is accepted as well as its host_state.
    if isinstance(state, Mapping) and "host_state" in state:
        state = state["host_state"]
    if not isinstance(state, Mapping):
        raise TypeError(f"the {which} snapshot must be the host_state module's result, got {type(state).__name__}")
    unknown = sorted(str(key) for key in set(state) - set(KINDS))
    if unknown:
        raise TypeError(f"the {which} snapshot is not a host_state snapshot: unknown keys {', '.join(unknown)} "
                        f"(expected {', '.join(KINDS)})")
    return state


def changes(before, after, limit=0):
    """Every difference from ``before`` to ``after`` as a short line, by kind, then by path or name.

    With ``limit`` > 0, at most ``limit`` lines and then one ``"... and N more"``.
    """
    before, after = _unwrap(before, "before"), _unwrap(after, "after")
    lines = []
    for kind in KINDS:
        old_kind, new_kind = before.get(kind) or {}, after.get(kind) or {}
        for key in sorted(set(old_kind) | set(new_kind)):
            old, new = old_kind.get(key), new_kind.get(key)
            if old != new:
                lines.append(_describe(kind, key, old, new))
    if limit and len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines
