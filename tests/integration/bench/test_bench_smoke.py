"""The benchmarks' smoke variant: stability-ops-bench --smoke runs end to end and prints
its ratios, so that the benchmarks cannot rot. No timing threshold here: the
speed goals live in the benchmark's own output (stability-ops-bench, docs/performance.md)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _bench(tmp_path: Path, *args: str, timeout: int) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "stability_ops_dev.bench", "--smoke", "--results", str(results),
               "--write-docs", "--docs-dir", str(tmp_path / "docs"), *args]
    process = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process, json.loads(results.read_text())


def _skipped_for_a_missing_revision(tuning: dict) -> bool:
    """True when the tuning names a revision this clone lacks (a shallow clone), and then it must say so."""
    revisions = [side["revision"] for side in (tuning["settings"]["before"], tuning["settings"]["after"])
                 if "revision" in side]
    missing = [r for r in revisions if subprocess.run(["git", "cat-file", "-e", f"{r}^{{commit}}"], cwd=REPO_ROOT,
                                                      capture_output=True, check=False).returncode != 0]
    if missing:
        assert f"revision {missing[0]} is not in this clone" in tuning["skipped"]
    else:
        assert "skipped" not in tuning
    return bool(missing)


def _positive(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _assert_docs(tmp_path: Path, titles: list[str]) -> None:
    markdown = (tmp_path / "docs" / "performance.md").read_text()
    for title in titles:
        assert title in markdown
    assert (tmp_path / "docs" / "performance.png").read_bytes().startswith(b"\x89PNG")


def test_preflight_and_callback_benchmarks_print_ratios(tmp_path: Path):
    process, results = _bench(tmp_path, "--only", "preflight", "callback", timeout=120)
    assert results["errors"] == {}
    preflight = results["benchmarks"]["preflight"]
    assert [row["files"] for row in preflight["rows"]] == [30, 90]
    for row in preflight["rows"]:
        # The generated files are all valid: the bench checks that the preflight passes them.
        assert set(row["by_kind"]) == {"sops", "vault", "plain"}
        assert _positive(row["speedup"]) and _positive(row["pure_python_speedup"])
    callback = results["benchmarks"]["callback"]
    assert callback["in_run"]["hook_calls"][0] >= 2 * 10  # one hook per task result at least
    assert _positive(callback["hook_share_in_run"]) and callback["hook_share_in_run"] < 1
    assert [row["tasks"] for row in callback["replay"]["rows"]] == [10, 100]
    assert "Ratios (smoke run" in process.stdout
    assert "sops filestatus per file / preflight" in process.stdout
    assert "hook time / wall time (in run)" in process.stdout
    _assert_docs(tmp_path, ["## 2. Callback overhead", "## 3. Secrets preflight throughput"])


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.xdist_group("bench-smoke")
def test_lab_benchmarks_run_end_to_end_and_clean_up(tmp_path: Path):
    process, results = _bench(tmp_path, "--only", "health", "deploy", timeout=720)
    assert results["errors"] == {}
    health = results["benchmarks"]["health"]["by_size"]["1"]
    assert set(health["ratios"]) == {"ansible -m ping", "ping playbook", "health_check", "health_facts module alone",
                                     "naive tasks"}
    assert all(_positive(value) for value in health["ratios"].values())
    # Each shipped tuning against the same runs without it: a setting switched off, or the revision before it.
    for tuned in results["benchmarks"]["health"]["tunings"]:
        if _skipped_for_a_missing_revision(tuned):
            continue
        assert set(tuned["ratios"]) == {"ping playbook", "health_check", "naive tasks", "ping playbook (before)",
                                        "health_check (before)"}
        assert all(_positive(value) for value in tuned["ratios"].values())
    deploy = results["benchmarks"]["deploy"]
    assert _positive(deploy["by_size"]["1"]["times"]["median"])
    assert deploy["by_size"]["1"]["top_tasks"], "the per-task profile is empty"
    pipelining, revision = deploy["tunings"]
    assert pipelining["settings"]["before"] == {"ANSIBLE_PIPELINING": "false"}
    assert _positive(pipelining["after_over_before"]) and pipelining["top_tasks_after"]
    if not _skipped_for_a_missing_revision(revision):  # both revisions ran from copies, on the same host
        assert _positive(revision["after_over_before"]) and revision["top_tasks_before"]
        assert revision["changed"] == {"before": 0, "after": 0}
    assert "health_check / ping playbook" in process.stdout
    assert "no-op run, seconds per host" in process.stdout
    assert "tuning (connection pipelining): health_check after / before" in process.stdout
    assert "tuning: no-op run after / before (connection pipelining)" in process.stdout
    _assert_docs(tmp_path, ["## 1. Health check vs the floor", "## 4. No-op deploy scaling"])
    # This run's lab is gone: no container and no inventory left behind.
    name = results["lab"]["name"]
    leftovers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=stability-ops.lab={name}"],
                               capture_output=True, text=True, check=True).stdout.split()
    assert leftovers == []
    assert not list((REPO_ROOT / "inventories" / "lab").glob(f"hosts-{name}*.yml"))
