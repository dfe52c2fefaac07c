# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only health facts of a host, gathered in one pass.

Shipped to the managed host with the ``health_facts`` module. Parsers are pure
functions over real command outputs (unit-tested with fixtures); collectors
read ``/proc``, the file system, the docker socket and start the few commands
that are needed *concurrently*, so the whole gathering stays well under a
second on a normal host. Nothing here writes anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
from http.client import HTTPConnection

# File systems that hold no user data: never reported as disks.
PSEUDO_FS_TYPES = frozenset(
    (
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
        "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "pstore",
        "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs",
        "fuse.gvfsd-fuse", "fuse.portal", "fuse.lxcfs", "iso9660",
    )
)
# Mount points below these are container layers, snaps or kernel interfaces.
DEFAULT_DISK_EXCLUDE = (
    "/proc", "/sys", "/dev", "/run/user", "/run/docker", "/run/netns", "/run/containerd",
    "/var/lib/docker", "/var/lib/containers", "/var/lib/kubelet", "/snap",
)
SYSTEMD_UNIT_PROPERTIES = (
    "Id", "LoadState", "ActiveState", "SubState", "UnitFileState", "NRestarts", "StateChangeTimestamp",
)
JOURNALD_MAIN_CONF = "etc/systemd/journald.conf"
# Drop-in directories in systemd's order of precedence (first wins on equal names).
JOURNALD_DROPIN_DIRS = (
    "etc/systemd/journald.conf.d",
    "run/systemd/journald.conf.d",
    "usr/local/lib/systemd/journald.conf.d",
    "usr/lib/systemd/journald.conf.d",
)
JOURNAL_DIRS = {"system": "var/log/journal", "runtime": "run/log/journal"}

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTPE]?)B?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5, "E": 1024**6}
# systemd.time(7): the units journald.conf accepts for MaxRetentionSec.
_TIME_UNITS = {
    "us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3,
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
    "M": 2629800, "month": 2629800, "months": 2629800,
    "y": 31557600, "year": 31557600, "years": 31557600,
}


# ---------------------------------------------------------------- value parsers
def parse_size(value):
    """Parse a systemd/journald size ("200M", "1.5G", "4096") into bytes (base 1024)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"invalid size {value!r}: expected a number with an optional K, M, G, T, P or E suffix")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def parse_timespan(value):
    """Parse a systemd time span ("1month", "30day", "2w 3d", "3600") into seconds."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total = 0.0
    index = 0
    length = len(text)
    while index < length:
        while index < length and text[index].isspace():
            index += 1
        start = index
        while index < length and (text[index].isdigit() or text[index] == "."):
            index += 1
        number = text[start:index]
        while index < length and text[index].isspace():
            index += 1
        start = index
        while index < length and text[index].isalpha():
            index += 1
        unit = text[start:index] or "s"
        if not number or number.count(".") > 1 or unit not in _TIME_UNITS:
            raise ValueError(f"invalid time span {value!r}: see systemd.time(7)")
        total += float(number) * _TIME_UNITS[unit]
    return int(total)


def parse_systemctl_show(text):
    """Parse ``systemctl show --property=... UNIT...`` (blank-line separated blocks)."""
    units = []
    for block in text.strip().split("\n\n"):
        props = {}
        for line in block.splitlines():
            key, sep, val = line.partition("=")
            if sep:
                props[key] = val
        if not props.get("Id"):
            continue
        restarts = props.get("NRestarts", "")
        units.append(
            {
                "name": props["Id"],
                "load_state": props.get("LoadState", ""),
                "active_state": props.get("ActiveState", ""),
                "sub_state": props.get("SubState", ""),
                "active": props.get("ActiveState") == "active",
                "unit_file_state": props.get("UnitFileState", ""),
                "enabled": props.get("UnitFileState", "") in ("enabled", "enabled-runtime", "static", "alias"),
                "restarts": int(restarts) if restarts.isdigit() else None,
                "since": props.get("StateChangeTimestamp") or None,
            }
        )
    return units


def parse_systemctl_failed(text):
    """Parse ``systemctl list-units --state=failed --plain --no-legend``: the unit names."""
    names = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] not in ("●", "*"):
            names.append(fields[0])
        elif len(fields) > 1:
            names.append(fields[1])
    return names


def parse_mountinfo(text, exclude=DEFAULT_DISK_EXCLUDE):
    """Real mounts from ``/proc/self/mountinfo``: no pseudo file systems, no excluded
    prefixes, no bind mounts of single files, one entry per mount point."""
    mounts = {}
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        if not sep:
            continue
        fields = head.split()
        tail_fields = tail.split()
        if len(fields) < 5 or len(tail_fields) < 2:
            continue
        mount_point = _unescape_mount(fields[4])
        fstype, source = tail_fields[0], tail_fields[1]
        if fstype in PSEUDO_FS_TYPES or _excluded(mount_point, exclude):
            continue
        mounts[mount_point] = {
            "mount": mount_point,
            "device": _unescape_mount(source),
            "fstype": fstype,
            "root": _unescape_mount(fields[3]),
        }
    return list(mounts.values())


def _unescape_mount(value):
    # mountinfo escapes space, tab, newline and backslash as octal.
    return value.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _excluded(path, prefixes):
    for prefix in prefixes:
        prefix = prefix.rstrip("/") or "/"
        if path == prefix or path.startswith(prefix + "/"):
            return True
    return False


def parse_journald_conf(text):
    """Settings of the ``[Journal]`` section of one journald.conf file (comments dropped)."""
    settings = {}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, val = line.partition("=")
        if sep and section == "Journal":
            settings[key.strip()] = val.strip()
    return settings


def container_from_inspect(data):
    """One container from a docker/podman ``inspect`` document (API or CLI, same shape)."""
    state = data.get("State") or {}
    health = state.get("Health") or state.get("Healthcheck") or {}
    config = data.get("Config") or {}
    return {
        "name": (data.get("Name") or "").lstrip("/"),
        "id": (data.get("Id") or "")[:12],
        "image": config.get("Image") or data.get("ImageName") or data.get("Image") or "",
        "state": state.get("Status") or "",
        "running": bool(state.get("Running")),
        "exit_code": state.get("ExitCode"),
        "health": health.get("Status") or None,
        "restart_count": data.get("RestartCount", 0) or 0,
        "started_at": state.get("StartedAt") or None,
        "finished_at": state.get("FinishedAt") or None,
    }


# ---------------------------------------------------------------- collectors
class _Command:
    """A command started now and read later, so several run concurrently.

    Popen, not AnsibleModule.run_command: run_command waits for its command, and the collectors start theirs
    all at once (ansible-core 2.21's pylint sanity test asks modules for run_command).
    """

    def __init__(self, argv, env=None):
        self.argv = argv
        try:
            self.proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, universal_newlines=True
            )
            self.error = None
        except OSError as exc:
            self.proc = None
            self.error = f"{argv[0]}: {exc.strerror}"

    def result(self, timeout=20):
        """Return (rc, stdout, stderr); rc is None when the command could not start."""
        if self.proc is None:
            return None, "", self.error
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return None, out, f"{self.argv[0]} timed out after {timeout}s"
        return self.proc.returncode, out, err.strip()


def _c_env():
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
    return env


def start_systemd(units, root="/"):
    """Start the systemctl commands; ``finish_systemd`` reads them."""
    if not os.path.isdir(os.path.join(root, "run/systemd/system")):
        return None
    systemctl = shutil.which("systemctl") or "systemctl"
    env = _c_env()
    pending = {"failed": _Command([systemctl, "list-units", "--state=failed", "--all", "--plain",
                                   "--no-legend", "--no-pager"], env)}
    if units:
        pending["show"] = _Command([systemctl, "show", "--property=" + ",".join(SYSTEMD_UNIT_PROPERTIES), "--",
                                    *units], env)
    return pending


def finish_systemd(pending):
    if pending is None:
        return {"present": False, "error": "systemd is not the init system (no /run/systemd/system)",
                "units": [], "failed_units": []}
    facts = {"present": True, "error": None, "units": [], "failed_units": []}
    rc, out, err = pending["failed"].result()
    if rc == 0:
        facts["failed_units"] = parse_systemctl_failed(out)
    else:
        facts["error"] = err or f"systemctl list-units exited with {rc}"
    if "show" in pending:
        rc, out, err = pending["show"].result()
        if rc == 0:
            facts["units"] = parse_systemctl_show(out)
        else:
            facts["error"] = err or f"systemctl show exited with {rc}"
    return facts


class _UnixHTTPConnection(HTTPConnection):
    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def _api_get(conn, path):
    conn.request("GET", path, headers={"Host": "docker"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise OSError(f"GET {path}: HTTP {response.status}")
    return json.loads(body.decode("utf-8"))


def docker_via_socket(socket_path):
    """Containers through the Engine API on a unix socket (no CLI process needed)."""
    conn = _UnixHTTPConnection(socket_path)
    try:
        listing = _api_get(conn, "/containers/json?all=1")
        return [container_from_inspect(_api_get(conn, f"/containers/{item['Id']}/json")) for item in listing]
    finally:
        conn.close()


def start_runtime_cli(binary):
    path = shutil.which(binary)
    if path is None:
        return None
    return _Command([path, "ps", "--all", "--quiet", "--no-trunc"], _c_env())


def finish_runtime_cli(binary, pending):
    """Containers through ``<runtime> ps -aq`` and one ``<runtime> inspect`` of them all."""
    if pending is None:
        return {"present": False, "source": None, "error": None, "containers": []}
    rc, out, err = pending.result()
    if rc != 0:
        return {"present": True, "source": "cli", "error": err or f"{binary} ps exited with {rc}", "containers": []}
    ids = out.split()
    if not ids:
        return {"present": True, "source": "cli", "error": None, "containers": []}
    rc, out, err = _Command([pending.argv[0], "inspect", *ids], _c_env()).result()
    if rc != 0:
        return {"present": True, "source": "cli", "error": err or f"{binary} inspect exited with {rc}",
                "containers": []}
    return {"present": True, "source": "cli", "error": None,
            "containers": [container_from_inspect(item) for item in json.loads(out or "[]")]}


def collect_docker(socket_path, pending_cli):
    if socket_path and _is_socket(socket_path):
        try:
            return {"present": True, "source": "socket", "error": None, "containers": docker_via_socket(socket_path)}
        except (OSError, ValueError) as exc:
            if pending_cli is None:
                return {"present": True, "source": "socket", "error": f"{socket_path}: {exc}", "containers": []}
    return finish_runtime_cli("docker", pending_cli)


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def collect_disks(root="/", exclude=DEFAULT_DISK_EXCLUDE, mountinfo_path="/proc/self/mountinfo"):
    with open(mountinfo_path) as handle:
        mounts = parse_mountinfo(handle.read(), exclude)
    disks = []
    for mount in mounts:
        path = os.path.join(root, mount["mount"].lstrip("/"))
        if not os.path.isdir(path):  # a bind mount of a single file (/etc/hosts in containers)
            continue
        try:
            vfs = os.statvfs(path)
        except OSError:
            continue
        disks.append(dict(mount, **disk_usage_from_statvfs(vfs)))
    return disks


def disk_usage_from_statvfs(vfs):
    """df's arithmetic: used over (used + available to unprivileged users)."""
    used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
    avail = vfs.f_bavail * vfs.f_frsize
    inodes_used = vfs.f_files - vfs.f_ffree
    inodes_avail = vfs.f_favail
    return {
        "size_bytes": vfs.f_blocks * vfs.f_frsize,
        "used_bytes": used,
        "available_bytes": avail,
        "used_percent": _percent(used, used + avail),
        "inodes_total": vfs.f_files,
        "inodes_used": inodes_used,
        "inodes_used_percent": _percent(inodes_used, inodes_used + inodes_avail) if vfs.f_files else None,
    }


def _percent(part, whole):
    if not whole:
        return 0.0
    return round(100.0 * part / whole, 1)


def journald_config(root="/"):
    """Effective journald settings: main file, then drop-ins sorted by file name
    (a name in /etc masks the same name in /run and /usr/lib), later ones win."""
    files = []
    main = os.path.join(root, JOURNALD_MAIN_CONF)
    if os.path.isfile(main):
        files.append(main)
    dropins = {}
    for directory in JOURNALD_DROPIN_DIRS:
        path = os.path.join(root, directory)
        try:
            names = os.listdir(path)
        except OSError:
            continue
        for name in names:
            if name.endswith(".conf") and name not in dropins:
                dropins[name] = os.path.join(path, name)
    files.extend(dropins[name] for name in sorted(dropins))
    settings = {}
    read = []
    for path in files:
        try:
            with open(path) as handle:
                settings.update(parse_journald_conf(handle.read()))
            read.append("/" + os.path.relpath(path, root) if root != "/" else path)
        except OSError:
            continue
    return settings, read


def collect_journald(root="/"):
    settings, files = journald_config(root)
    usage = {}
    for storage, directory in JOURNAL_DIRS.items():
        usage[storage] = _journal_usage(os.path.join(root, directory))
    facts = {
        "config": settings,
        "config_files": files,
        "system_usage_bytes": usage["system"],
        "runtime_usage_bytes": usage["runtime"],
        "usage_bytes": usage["system"] + usage["runtime"],
        "system_max_use_bytes": None,
        "runtime_max_use_bytes": None,
        "max_retention_seconds": None,
        "error": None,
    }
    try:
        facts["system_max_use_bytes"] = parse_size(settings.get("SystemMaxUse"))
        facts["runtime_max_use_bytes"] = parse_size(settings.get("RuntimeMaxUse"))
        facts["max_retention_seconds"] = parse_timespan(settings.get("MaxRetentionSec"))
    except ValueError as exc:
        facts["error"] = str(exc)
    return facts


def _journal_usage(directory):
    """Allocated bytes of journal files, as ``journalctl --disk-usage`` counts them."""
    total = 0
    for dirpath, _dirs, names in os.walk(directory):
        for name in names:
            if name.endswith((".journal", ".journal~")):
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    continue
    return total


def collect_log_files(directories, max_age_seconds, max_size_bytes, report_limit, now=None):
    """Regular files under ``directories`` older than the retention age or larger
    than the size limit. Journal files are journald's business and are skipped."""
    now = time.time() if now is None else now
    old, oversized = [], []
    counts = {"scanned": 0, "old": 0, "oversized": 0}
    for directory in directories:
        for dirpath, _dirs, names in os.walk(directory):
            for name in names:
                if name.endswith((".journal", ".journal~")):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                counts["scanned"] += 1
                entry = {"path": path, "size_bytes": info.st_size, "age_days": round((now - info.st_mtime) / 86400, 1)}
                if max_age_seconds is not None and now - info.st_mtime > max_age_seconds:
                    counts["old"] += 1
                    if len(old) < report_limit:
                        old.append(entry)
                if max_size_bytes is not None and info.st_size > max_size_bytes:
                    counts["oversized"] += 1
                    if len(oversized) < report_limit:
                        oversized.append(entry)
    return {
        "directories": list(directories),
        "max_age_seconds": max_age_seconds,
        "max_size_bytes": max_size_bytes,
        "files_scanned": counts["scanned"],
        "old_count": counts["old"],
        "oversized_count": counts["oversized"],
        "old_files": old,
        "oversized_files": oversized,
    }


def gather(params, root="/"):
    """Everything in one pass; commands start first and are read last."""
    started = time.monotonic()
    sections = params["collect"]
    timings = {}
    pending_systemd = start_systemd(params["units"], root) if "systemd" in sections else None
    runtimes = params["container_runtimes"] if "containers" in sections else []
    docker_socket = params.get("docker_socket")
    pending_docker = None
    if "docker" in runtimes and not (docker_socket and _is_socket(docker_socket)):
        pending_docker = start_runtime_cli("docker")
    pending_podman = start_runtime_cli("podman") if "podman" in runtimes else None

    facts = {}
    if "disk" in sections:
        mark = time.monotonic()
        facts["disks"] = collect_disks(root, params["disk_exclude"])
        timings["disk"] = round(time.monotonic() - mark, 4)
    if "journald" in sections:
        mark = time.monotonic()
        facts["journald"] = collect_journald(root)
        timings["journald"] = round(time.monotonic() - mark, 4)
    if "logs" in sections:
        mark = time.monotonic()
        facts["logs"] = collect_log_files(
            params["log_dirs"], parse_timespan(params["log_max_age"]), parse_size(params["log_max_size"]),
            params["log_report_limit"],
        )
        timings["logs"] = round(time.monotonic() - mark, 4)
    if "containers" in sections:
        mark = time.monotonic()
        facts["containers"] = {
            "docker": collect_docker(docker_socket, pending_docker) if "docker" in runtimes
            else {"present": False, "source": None, "error": "not collected", "containers": []},
            "podman": finish_runtime_cli("podman", pending_podman),
        }
        timings["containers"] = round(time.monotonic() - mark, 4)
    if "systemd" in sections:
        mark = time.monotonic()
        facts["systemd"] = finish_systemd(pending_systemd)
        timings["systemd"] = round(time.monotonic() - mark, 4)
    timings["total"] = round(time.monotonic() - started, 4)
    facts["timings"] = timings
    return facts
