"""Shared helpers of the benchmarks: timed runs, the lab, results, ratios.

Every timing that is compared with another is measured in the same process run,
interleaved (A B A B ...), so that the noise of a busy 2-core machine hits both
sides alike. Absolute times from different runs are never compared.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stability_ops_dev.paths import REPO_ROOT

BENCH_DIR = REPO_ROOT / "bench"
PLAYBOOKS = BENCH_DIR / "playbooks"
VENV_BIN = Path(sys.executable).parent
LAB_INVENTORY_DIR = REPO_ROOT / "inventories" / "lab"


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and shows the output's tail."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ansible_env(tree: Path = REPO_ROOT, **extra: str) -> dict[str, str]:
    """The environment of the repository's scripts (scripts/lib.sh), plus extra settings. tree: whose ansible.cfg
    (and so whose collection) runs: this checkout, or a revision's copy (tuning_side); run commands in it."""
    cache = Path(os.environ.get("STABILITY_OPS_CACHE", REPO_ROOT / ".cache"))
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(tree / "ansible.cfg"),
        "ANSIBLE_HOME": os.environ.get("ANSIBLE_HOME", str(cache / "ansible-home")),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(cache / "xdg")),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        # ansible.cfg enables the health_summary callback: keep its document away from .cache/reports.
        "STABILITY_OPS_SUMMARY_PATH": str(Path(tempfile.gettempdir()) / f"stability-ops-bench-{os.getpid()}.json"),
    }
    env.update(extra)
    return env


@dataclass
class Timed:
    seconds: float
    process: subprocess.CompletedProcess


def _run(argv: list[str], *, env: dict[str, str], timeout: float, cwd: Path) -> subprocess.CompletedProcess:
    """subprocess.run in its own process group: a timeout ends the command and every child it started."""
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def run_timed(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 300,
              cwd: Path = REPO_ROOT, ok_codes: tuple[int, ...] = (0,), what: str | None = None) -> Timed:
    """Run a command, return its wall time; raise BenchError on a bad exit or a timeout."""
    start = time.perf_counter()
    try:
        process = _run(argv, env=env or ansible_env(), timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{what or argv[0]} did not finish within {timeout:.0f} s") from exc
    seconds = time.perf_counter() - start
    if process.returncode not in ok_codes:
        tail = "\n".join((process.stdout + process.stderr).splitlines()[-25:])
        raise BenchError(f"{what or ' '.join(argv[:3])} exited {process.returncode}:\n{tail}")
    return Timed(seconds, process)


def interleaved(variants: dict[str, object], reps: int, measure) -> dict[str, list[float]]:
    """Measure every variant reps times in rotating order: A B C, B C A, C A B ..."""
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(measure(name, variants[name]))
    return times


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": [round(v, 4) for v in values]}


def ratio(numerator: list[float], denominator: list[float]) -> float:
    return statistics.median(numerator) / statistics.median(denominator)


class Deadline:
    """A time budget for one benchmark: every step gets at most what is left."""

    def __init__(self, seconds: float, name: str) -> None:
        self.name = name
        self.end = time.monotonic() + seconds

    def left(self, cap: float | None = None) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise BenchError(f"benchmark '{self.name}' ran out of its time budget")
        return min(remaining, cap) if cap else remaining


# --------------------------------------------------------------------------- tunings


class MissingRevision(BenchError):
    """A tuning's revision is not in this clone: that comparison is skipped, not failed."""


def tuning_side(spec: dict, directory: Path) -> tuple[dict[str, str], Path]:
    """(extra environment, tree) of one side of a tuning (the bench's TUNINGS): an environment on the working copy
    ({} = as shipped), or {"revision": <git revision>}: that revision's files in `directory`."""
    if "revision" not in spec:
        return spec, REPO_ROOT
    return {}, checkout(spec["revision"], directory)


def checkout(revision: str, directory: Path) -> Path:
    """The files of `revision` in `directory`, usable as the collection (its own .collections link)."""
    if subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], cwd=REPO_ROOT,
                      capture_output=True, check=False).returncode != 0:
        raise MissingRevision(f"revision {revision} is not in this clone (a shallow clone?)")
    directory.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=REPO_ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    link = directory / ".collections" / "ansible_collections" / "stability" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("../../..")
    return directory


# --------------------------------------------------------------------------- the lab


def _lab(command: str, name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = ansible_env(STABILITY_OPS_LAB_NAME=name)
    try:
        return _run(["bash", str(REPO_ROOT / "scripts" / "lab.sh"), command, *args], env=env, timeout=timeout,
                    cwd=REPO_ROOT)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"scripts/lab.sh {command} for '{name}' timed out after {timeout:.0f} s") from exc


@dataclass
class Lab:
    name: str
    inventory: Path
    hosts: list[str]
    boot_seconds: float
    env: dict[str, str] = field(default_factory=dict)
    subsets: list[Path] = field(default_factory=list)

    def subset(self, count: int) -> Path:
        """An inventory of the first `count` hosts, next to the lab's group_vars (which the roles need)."""
        data = yaml.safe_load(self.inventory.read_text())
        keep = set(self.hosts[:count])
        for group in data["all"]["children"]["production"]["children"].values():
            hosts = group.get("hosts") or {}
            group["hosts"] = {h: v for h, v in hosts.items() if h in keep}
        path = self.inventory.with_name(f"{self.inventory.stem}-{count}.yml")
        path.write_text("# Generated by bench/ (a subset of the bench lab); removed with the lab.\n"
                        + yaml.safe_dump(data, sort_keys=False))
        self.subsets.append(path)
        return path


@contextlib.contextmanager
def lab(count: int, prefix: str = "bench", timeout: float = 300) -> Iterator[Lab]:
    """Start `count` systemd containers with scripts/lab.sh; always remove them afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    log(f"starting lab '{name}' with {count} host(s)")
    start = time.perf_counter()
    current = None
    try:
        up = _lab("up", name, str(count), timeout=timeout)
        if up.returncode != 0:
            raise BenchError(f"scripts/lab.sh up {count} failed:\n{up.stderr[-2000:]}")
        inventory = Path(_lab("inventory", name).stdout.strip())
        data = yaml.safe_load(inventory.read_text())
        groups = data["all"]["children"]["production"]["children"]
        hosts = [h for g in groups.values() for h in (g.get("hosts") or {})]
        current = Lab(name, inventory, _interleave_groups(hosts), time.perf_counter() - start)
        # The lab's group_vars hold a SOPS file: every run needs the lab key.
        current.env = lab_secrets_env()
        log(f"lab '{name}' up in {current.boot_seconds:.1f} s")
        yield current
    finally:
        if current:
            for path in current.subsets:
                path.unlink(missing_ok=True)
        _lab("down", name, timeout=120)
        log(f"lab '{name}' removed")


def _interleave_groups(hosts: list[str]) -> list[str]:
    """web1, db1, web2, db2, ...: every subset of two or more hosts has both groups."""
    def by_number(group: str) -> list[str]:
        return sorted((h for h in hosts if h.startswith(group)), key=lambda h: int(h[len(group):]))

    web, db = by_number("web"), by_number("db")
    order = []
    for index in range(max(len(web), len(db))):
        order += [group[index] for group in (web, db) if index < len(group)]
    return order


def lab_secrets_env() -> dict[str, str]:
    """Run scripts/lab_secrets.sh (idempotent) and return the environment it exports."""
    process = run_timed(["bash", str(REPO_ROOT / "scripts" / "lab_secrets.sh"), "--json"], timeout=120,
                        what="scripts/lab_secrets.sh")
    return json.loads(process.process.stdout)


# --------------------------------------------------------------------------- results


def machine() -> dict[str, object]:
    load = os.getloadavg()
    mem = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _sep, value = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                mem[key] = int(value.split()[0]) // 1024
    # "-dirty": the measured code is not exactly that commit (uncommitted changes to tracked files).
    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7", "--exclude", "*"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    versions = subprocess.run([str(VENV_BIN / "ansible"), "--version"], capture_output=True, text=True,
                              check=False).stdout.splitlines()[:1]
    return {"cpus": os.cpu_count(), "memory_mb": mem.get("MemTotal"), "memory_available_mb": mem.get("MemAvailable"),
            "load_average_at_start": [round(x, 2) for x in load], "commit": commit,
            "ansible": versions[0] if versions else None, "python": sys.version.split()[0]}


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.replace(handle.name, path)
