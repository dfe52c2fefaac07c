"""The ratio table printed after each run, and docs/performance.md + .png from a results file."""

from __future__ import annotations

import math
from pathlib import Path

HEALTH_TARGET = 1.3
HOOK_TARGET = 0.02
PREFLIGHT_TARGET = 100.0


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def bytes_per_extra_event(replay: list[dict]) -> float:
    first, last = replay[0], replay[-1]
    events = last["events"] - first["events"]
    return max(0.0, (last["retained_kib"] - first["retained_kib"]) * 1024 / events) if events else 0.0


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(benchmark, measure, value, target/verdict) for every ratio of a results file."""
    out: list[tuple[str, str, str, str]] = []
    bench = results.get("benchmarks", {})
    if health := bench.get("health"):
        for size, row in health["by_size"].items():
            r = row["ratios"]
            ok = r["health_check"] <= HEALTH_TARGET
            out.append(("health", f"{size} host(s): health_check / ping playbook", f"{r['health_check']:.2f}x",
                        f"<= {HEALTH_TARGET}x {_verdict(ok)}"))
            out.append(("health", f"{size} host(s): naive tasks / ping playbook", f"{r['naive tasks']:.2f}x", ""))
            out.append(("health", f"{size} host(s): ansible -m ping / ping playbook", f"{r['ansible -m ping']:.2f}x",
                        ""))
            if "health_facts module alone" in r:
                out.append(("health", f"{size} host(s): health_facts module alone / ping playbook",
                            f"{r['health_facts module alone']:.2f}x", ""))
        for tuned in health.get("tunings", []):
            label = tuning_name(tuned["settings"])
            if "skipped" in tuned:
                out.append(("health", f"tuning: {label}", "skipped", tuned["skipped"]))
                continue
            r, n = tuned["ratios"], tuned["size"]
            out.append(("health", f"{n} host(s), tuning ({label}): health_check after / before",
                        f"{r['health_check'] / r['health_check (before)']:.2f}x", ""))
            out.append(("health", f"{n} host(s), tuning ({label}): ping playbook after / before",
                        f"{1 / r['ping playbook (before)']:.2f}x", ""))
            before = r["health_check (before)"] / r["ping playbook (before)"]
            # The target is for the code as shipped; an "after" that is a past revision is a step on the way.
            shipped = "revision" not in tuned["settings"]["after"]
            out.append(("health", f"{n} host(s), tuning ({label}): health_check / ping playbook, before -> after",
                        f"{before:.2f}x -> {r['health_check']:.2f}x",
                        f"<= {HEALTH_TARGET}x {_verdict(r['health_check'] <= HEALTH_TARGET)}" if shipped
                        else f"after: revision {tuned['settings']['after']['revision']}"))
    if cb := bench.get("callback"):
        run = cb["in_run"]
        label = f"{run['hosts']} x {run['tasks']}"
        out.append(("callback", f"{label}: whole run with / without", f"{run['whole_run_ratio']:.3f}x",
                    "within run-to-run noise (3-8%)"))
        out.append(("callback", f"{label}: hook time / wall time (in run)", f"{cb['hook_share_in_run']:.3%}",
                    f"< {HOOK_TARGET:.0%} {_verdict(cb['hook_share_in_run'] < HOOK_TARGET)}"))
        out.append(("callback", f"{label}: hook time / wall time (replayed)", f"{cb['hook_share_replayed']:.3%}",
                    f"< {HOOK_TARGET:.0%} {_verdict(cb['hook_share_replayed'] < HOOK_TARGET)}"))
        replay = cb["replay"]["rows"]
        memory = cb["memory_retained_kib"]
        per_event = bytes_per_extra_event(replay)
        # Flat: far below one byte kept per extra event (keeping any result would cost hundreds).
        out.append(("callback", f"memory kept, {replay[0]['tasks']}..{replay[-1]['tasks']} tasks",
                    f"{memory['min']}..{memory['max']} KiB ({per_event:.2f} B/event)",
                    f"flat {_verdict(per_event < 1)}"))
    if pf := bench.get("preflight"):
        for row in pf["rows"]:
            out.append(("preflight", f"{row['files']} files: sops filestatus per file / preflight",
                        f"{row['speedup']:.0f}x",
                        f">= {PREFLIGHT_TARGET:.0f}x {_verdict(row['speedup'] >= PREFLIGHT_TARGET)}"))
            out.append(("preflight", f"{row['files']} files: before (pure-Python YAML parser), same ratio",
                        f"{row['pure_python_speedup']:.0f}x", ""))
            out.append(("preflight", f"{row['files']} files: shipped ({row['loader']}) / pure-Python parser",
                        f"{row['shipped_over_pure_python']:.2f}x", ""))
        out.append(("preflight", "time per file, largest / smallest size", f"{pf['linearity']:.2f}",
                    f"~1 = linear {_verdict(0.67 <= pf['linearity'] <= 1.5)}"))
    if dp := bench.get("deploy"):
        for size, row in dp["by_size"].items():
            out.append(("deploy", f"{size} host(s): no-op run, seconds per host", f"{row['seconds_per_host']:.2f} s",
                        f"{row['changed']} change(s), {row.get('failed', 0)} failed task(s)"))
        if fit := dp.get("fit"):
            out.append(("deploy", "marginal cost per extra host (fit)", f"{fit['per_host_seconds']:.2f} s",
                        f"fixed {fit['fixed_seconds']:.1f} s"))
        for tuning in dp.get("tunings", []):
            label = tuning_name(tuning["settings"])
            if "skipped" in tuning:
                out.append(("deploy", f"tuning: {label}", "skipped", tuning["skipped"]))
                continue
            out.append(("deploy", f"{tuning['hosts']} host(s), tuning: no-op run after / before ({label})",
                        f"{tuning['after_over_before']:.2f}x",
                        f"changes before/after: {tuning['changed']['before']}/{tuning['changed']['after']}"))
    for name, data in bench.items():
        if data.get("incomplete"):
            out.append((name, "stopped early (time budget)", data["incomplete"].splitlines()[0][:80], ""))
    for name, error in results.get("errors", {}).items():
        out.append((name, "ERROR", error.splitlines()[0][:80], ""))
    return out


def ratio_table(results: dict) -> str:
    table = rows(results)
    header = ("benchmark", "measure", "value", "target")
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(4)]
    lines = [f"Ratios ({results.get('profile')} run, measured side by side in one run)"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return "\n".join(lines)


# --------------------------------------------------------------------------- docs


def _md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _column in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _health_md(health: dict) -> list[str]:
    names = ["ansible -m ping", "ping playbook", "health_check", "health_facts module alone", "naive tasks"]
    body = []
    for size, row in health["by_size"].items():
        body.append([size] + [f"{row['times'][n]['median']:.2f} s ({row['ratios'][n]:.2f}x)" if n in row["times"]
                              else "-" for n in names])
    out = ["## 1. Health check vs the floor", "",
           "Wall time of `ansible-playbook` (median of the interleaved runs; in brackets, the ratio to the ping",
           "playbook of the same size, measured in the same run). Target: health_check <= "
           f"{HEALTH_TARGET}x the ping playbook.", "",
           _md_table(["hosts", *names], body), "",
           "The health check is the `health_check` role as `production_deploy.yml` runs it (imported with "
           "`rolespec_validate: false`): one `health_facts` task per host, whose action plugin validates the role's "
           "variables, publishes the results and applies the fail gate, all on the controller. \"health_facts "
           "module alone\" is that task with literal options: the difference is the templating of the role's "
           "variables. The lab's hosts share the controller's CPUs, so the host-side work of the module counts in "
           "full here. What was measured and changed on the way: bench/README.md, \"What the "
           "numbers called for\".", ""]
    for tuned in health.get("tunings", []):
        if "skipped" in tuned:
            out += [f"Tuning {_tuning_label(tuned['settings'])}: skipped, {tuned['skipped']}.", ""]
            continue
        r, t = tuned["ratios"], tuned["times"]
        out += [f"Tuning {_tuning_label(tuned['settings'])}; side by side on {tuned['size']} hosts:", "",
                _md_table(["variant", "before", "after", "after / before"], [
                    [n, f"{t[n + ' (before)']['median']:.2f} s", f"{t[n]['median']:.2f} s",
                     f"{r[n] / r[n + ' (before)']:.2f}x"] for n in ("ping playbook", "health_check")]
                    + [["naive tasks", "", f"{t['naive tasks']['median']:.2f} s", ""]]), "",
                f"In the same runs, health_check / ping playbook: "
                f"{r['health_check (before)'] / r['ping playbook (before)']:.2f}x before, **{r['health_check']:.2f}x** "
                f"after; naive tasks / ping playbook: {r['naive tasks']:.2f}x.", ""]
    return out


def _env(settings: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items()) or "this checkout as shipped"


def tuning_name(tuning: dict) -> str:
    return tuning.get("name") or tuning["change"].split(" (")[0].split(":")[0]


def _side(spec: dict) -> str:
    if "revision" in spec:
        return f"revision `{spec['revision']}`"
    return f"`{_env(spec)}`" if spec else _env(spec)


def _tuning_label(tuning: dict) -> str:
    """'<change>: before <env or revision>, after <env or revision>' for a tuning of run.py."""
    return f"{tuning['change']} (before: {_side(tuning['before'])}, after: {_side(tuning['after'])})"


def _callback_md(cb: dict) -> list[str]:
    run = cb["in_run"]
    t = run["times"]
    replay = cb["replay"]
    return [
        "## 2. Callback overhead (`stability.ops.health_summary`)", "",
        f"A local playbook of {run['hosts']} hosts x {run['tasks']} cheap tasks (debug, set_fact, skipped), with and "
        "without the callback. Whole-run timings vary by 3-8% between runs, so the callback's own hooks are timed",
        "too: in the run (the callback records `meta.callback_hook_seconds`) and by replaying real ansible result",
        "objects (`Host`, `Task`, `CallbackTaskResult`) into the callback loaded by ansible's plugin loader.", "",
        _md_table(["measure", "value"], [
            ["wall time without / with the callback",
             f"{t['without callback']['median']:.1f} s / {t['with health_summary']['median']:.1f} s "
             f"({run['whole_run_ratio']:.3f}x, within noise)"],
            ["time inside the hooks (in run)", f"{max(run['hook_seconds']):.3f} s in {max(run['hook_calls'])} calls "
             f"= **{cb['hook_share_in_run']:.3%}** of the wall time (target < {HOOK_TARGET:.0%})"],
            ["hooks + final write (replayed)", f"{cb['hook_share_replayed']:.3%} of the same wall time"],
        ]), "",
        f"Replay on {replay['hosts']} hosts: time per event and memory still held by the callback after every event "
        "(tracemalloc, after a warm-up; it keeps counts, at most `max_failed_tasks` failures per host, never a "
        f"result). From the smallest to the largest replay the memory kept grows by "
        f"{bytes_per_extra_event(replay['rows']):.2f} bytes per extra event: flat (one kept result would be "
        "hundreds of bytes).", "",
        _md_table(["tasks", "events", "us per event", "final write", "memory kept"], [
            [r["tasks"], r["events"], r["microseconds_per_event"], f"{r['final_write_seconds'] * 1000:.1f} ms",
             f"{r['retained_kib']} KiB"] for r in replay["rows"]]), ""]


def _preflight_md(pf: dict) -> list[str]:
    body = []
    for r in pf["rows"]:
        body.append([r["files"], ", ".join(f"{k} {v}" for k, v in r["by_kind"].items()),
                     f"{r['preflight']['median']:.2f} s ({r['preflight_microseconds_per_file']} us/file)",
                     f"{r['sops_filestatus_extrapolated']['median']:.0f} s ({r['sops_milliseconds_per_file']} ms/file)",
                     f"**{r['speedup']:.0f}x**",
                     f"{r['pure_python_parser']['median']:.2f} s ({r['pure_python_speedup']:.0f}x)",
                     f"{r['decrypt_milliseconds_per_file']} ms"])
    out = ["## 3. Secrets preflight throughput", "",
           "Generated inventories (a third each SOPS, Vault, plain vars with inline `!vault` values) checked by",
           "the preflight rules as the `stability.ops.preflight_secrets` action calls them (default paths,",
           "`decrypt: false`),",
           f"against one `sops filestatus` process per file. {pf['note']} Target: >= {PREFLIGHT_TARGET:.0f}x, linear.",
           "", _md_table(["files", "kinds", "preflight", "sops filestatus per file", "speedup",
                          "before: pure-Python parser", "decrypt: true, per file"], body), "",
           f"Time per file at the largest size / at the smallest: {pf['linearity']:.2f} (1.0 = linear). The rules "
           f"parse YAML with `{pf['rows'][0]['loader']}`; the \"before\" column runs the same rules on PyYAML's "
           "pure-Python parser, side by side."]
    if "playbook_seconds" in pf["rows"][-1]:
        out.append(f"The same {pf['rows'][-1]['files']} files through `ansible-playbook` and the action plugin: "
                   f"{pf['rows'][-1]['playbook_seconds']:.1f} s (ansible's start-up included).")
    out += ["", "`decrypt: true` (the preflight playbook's default) also runs `sops --decrypt` once per SOPS file: "
            "its cost per file is that of a sops process, like the baseline.", ""]
    return out


def _deploy_md(dp: dict) -> list[str]:
    body = [[size, f"{r['times']['median']:.1f} s", f"{r['seconds_per_host']:.2f} s",
             _task_runs(r.get("tasks_per_host")), r["changed"], r.get("failed", 0)]
            for size, r in dp["by_size"].items()]
    largest = list(dp["by_size"].values())[-1]
    out = ["## 4. No-op deploy scaling (`playbooks/production_deploy.yml`, second run)", "",
           f"Settings: {dp['settings']}; `-e '{dp['extra_vars']}'` as scripts/main.sh runs it"
           + (f", only `--tags {dp['tags']}`" if dp.get("tags") else "") + ". First run (converge) "
           f"on {dp['first_run']['hosts']} hosts: {dp['first_run']['seconds']:.1f} s, "
           f"{dp['first_run']['changed']} changes, {dp['first_run'].get('failed', 0)} failed tasks.",
           "", _md_table(["hosts", "no-op run", "per host", "tasks per host: run / skipped (loop items run)", "changes",
                          "failed tasks"], body), "",
           *([f"Least-squares fit: {dp['fit']['fixed_seconds']:.1f} s fixed + {dp['fit']['per_host_seconds']:.2f} s "
              "per extra host.", ""] if dp.get("fit") else []),
           f"Where the time goes on {list(dp['by_size'])[-1]} hosts (top tasks, wall time from each "
           "task's start to the next):", "",
           _md_table(["task", "seconds"], [[t["task"].replace("|", "\\|"), f"{t['seconds']:.2f}"]
                                           for t in largest["top_tasks"]]), "",
           *_spread(list(dp["by_size"])[-1], largest)]
    body = []
    for tuning in dp.get("tunings", []):
        if "skipped" in tuning:
            body.append([_tuning_label(tuning["settings"]), "skipped", tuning["skipped"], "", ""])
            continue
        t = tuning["times"]
        body.append([_tuning_label(tuning["settings"]), tuning["hosts"], f"{t['before']['median']:.1f} s",
                     f"{t['after']['median']:.1f} s", f"**{tuning['after_over_before']:.2f}x**"])
    if body:
        out += ["The tunings, each measured before/after side by side (interleaved) on a converged lab:", "",
                _md_table(["tuning", "hosts", "before", "after", "after / before"], body), ""]
    return out


def _spread(size: str, row: dict) -> list[str]:
    """What the profile says: one hot spot, or time spread over every task."""
    counts, top = row.get("tasks_per_host"), row["top_tasks"]
    if not counts or not top:
        return []
    total, executed = row["times"]["median"], counts["executed"]
    return [f"On {size} hosts the top task took {top[0]['seconds'] / total:.1%} of the run and the run averaged "
            f"{total / executed:.2f} s per task over {executed} tasks: "
            + ("the time is spread over every task (a worker process per host on the controller and a module run "
               "on the host for each), so fewer tasks and fewer round trips are what make it faster. "
               if top[0]["seconds"] / total < 0.1 else "one task dominates. ")
            + "The lab's hosts share the controller's CPUs: the cost per extra host here is an upper bound, on a "
              "fleet the modules run on the hosts' own CPUs.", ""]


def _task_runs(counts: dict | None) -> str:
    if not counts:
        return "-"
    return f"{counts['executed']} / {counts['skipped']} ({counts.get('loop_items', '-')})"


def _tuning_md(bench: dict) -> list[str]:
    body = []
    if pf := bench.get("preflight"):
        last = pf["rows"][-1]
        body.append(["secrets preflight: vars files parsed with libyaml (`yaml.CSafeLoader`), same loader and reports",
                     "done (plugins/plugin_utils/secrets_preflight.py)",
                     f"{last['shipped_over_pure_python']:.2f}x the time on {last['files']} files "
                     f"({last['pure_python_speedup']:.0f}x -> {last['speedup']:.0f}x vs sops)"])
    for tuned in (bench.get("health") or {}).get("tunings", []):
        if "skipped" not in tuned:
            r = tuned["ratios"]
            body.append([tuned["settings"]["change"], "done", f"health check: health_check "
                         f"{r['health_check'] / r['health_check (before)']:.2f}x, ping playbook "
                         f"{1 / r['ping playbook (before)']:.2f}x on {tuned['size']} hosts"])
    for tuning in (bench.get("deploy") or {}).get("tunings", []):
        if "skipped" not in tuning:
            body.append([tuning["settings"]["change"], "done", f"no-op production deploy: "
                         f"{tuning['after_over_before']:.2f}x on {tuning['hosts']} hosts"])
    if not body:
        return []
    return ["## Tuning: before / after, measured side by side", "",
            _md_table(["change", "state", "after / before"], body), "",
            "More in bench/README.md (\"What the numbers called for\").", ""]


def markdown(results: dict) -> str:
    m = results["machine"]
    bench = results["benchmarks"]
    out = ["# Performance", "",
           "<!-- Generated by stability-ops-bench --write-docs from a results file; do not edit by hand. -->", "",
           "Can the health check and the preflight run on every deploy? These numbers say how much they cost.",
           "Every ratio below is measured within one run, the variants interleaved (A B C, B C A, ...), because",
           "absolute times on a shared 2-core machine vary from run to run: compare ratios, not seconds.", "",
           "Reproduce with `stability-ops-bench --write-docs` (about 40 minutes on 2 cores; "
           "bench/README.md).", "",
           f"Run: {results['started']}, profile `{results['profile']}`, commit `{m['commit']}`, {m['ansible']}, Python "
           f"{m['python']}, {m['cpus']} CPUs, {m['memory_mb']} MB RAM, load average at start "
           f"{', '.join(str(x) for x in m['load_average_at_start'])}. "
           f"Lab: {(results.get('lab') or {}).get('hosts', '-')} "
           "systemd containers reached with `community.docker.docker` (no SSH).", "",
           *([f"Benchmarks merged from {len(results['runs'])} runs (each ratio within its own run): "
              + "; ".join(f"{r['started']} ({', '.join(r['benchmarks'])}, commit `{r['commit']}`)"
                          for r in results["runs"]), ""] if len(results.get("runs", [])) > 1 else []),
           "## Summary", "",
           _md_table(["benchmark", "measure", "value", "target"], [list(r) for r in rows(results)]), "",
           "![Benchmark plots](performance.png)", ""]
    if "health" in bench:
        out += _health_md(bench["health"])
    if "callback" in bench:
        out += _callback_md(bench["callback"])
    if "preflight" in bench:
        out += _preflight_md(bench["preflight"])
    if "deploy" in bench:
        out += _deploy_md(bench["deploy"])
    if results.get("errors"):
        out += ["## Not measured in this run", ""] + [f"- {k}: {v.splitlines()[0]}" for k, v in
                                                      results["errors"].items()] + [""]
    out += _tuning_md(bench)
    return "\n".join(out)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bench = results["benchmarks"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    fig.suptitle(f"stability.ops benchmarks ({results['started']}, {results['machine']['cpus']} CPUs)", fontsize=13)
    ax = axes[0][0]
    if health := bench.get("health"):
        sizes = [int(s) for s in health["by_size"]]
        for name, style in (("health_check", "s-"), ("health_facts module alone", "d-"), ("naive tasks", "^--"),
                            ("ansible -m ping", "x:")):
            points = [(s, health["by_size"][str(s)]["ratios"].get(name)) for s in sizes]
            ax.plot([s for s, r in points if r], [r for _s, r in points if r], style, label=name)
        ax.axhline(HEALTH_TARGET, color="tab:red", linestyle=":", label=f"target {HEALTH_TARGET}x")
        ax.set_yscale("log")
        ax.set_xticks(sizes)
    ax.set(title="1. Health check vs the floor", xlabel="lab hosts", ylabel="wall time / ping playbook (log)")
    ax.legend(fontsize=8) if health else ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
    ax = axes[0][1]
    if cb := bench.get("callback"):
        rows_ = cb["replay"]["rows"]
        tasks = [r["tasks"] for r in rows_]
        ax.plot(tasks, [r["retained_kib"] for r in rows_], "o-", label="memory kept (KiB)")
        ax.set_xscale("log")
        ax.set_ylim(0, max(64, max(r["retained_kib"] for r in rows_) * 1.5))
        ax2 = ax.twinx()
        ax2.plot(tasks, [r["microseconds_per_event"] for r in rows_], "s--", color="tab:orange", label="us per event")
        ax2.set_ylim(0, max(r["microseconds_per_event"] for r in rows_) * 1.5)
        ax2.set_ylabel("microseconds per event")
        ax.legend(loc="upper left", fontsize=8)
        ax2.legend(loc="upper right", fontsize=8)
        ax.set_title(f"2. health_summary: hooks {cb['hook_share_in_run']:.2%} of wall time")
    else:
        ax.set_title("2. Callback overhead (not measured)")
    ax.set(xlabel=f"tasks ({cb['replay']['hosts'] if cb else '-'} hosts, replayed)", ylabel="KiB kept")
    ax = axes[1][0]
    if pf := bench.get("preflight"):
        files = [r["files"] for r in pf["rows"]]
        ax.plot(files, [r["preflight"]["median"] for r in pf["rows"]], "o-",
                label=f"preflight ({pf['rows'][0]['loader']})")
        ax.plot(files, [r["pure_python_parser"]["median"] for r in pf["rows"]], "s-",
                label="before: pure-Python YAML parser")
        ax.plot(files, [r["sops_filestatus_extrapolated"]["median"] for r in pf["rows"]], "^--",
                label="sops filestatus per file (extrapolated)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
    ax.set(title="3. Secrets preflight throughput", xlabel="files", ylabel="wall time (s, log)")
    ax = axes[1][1]
    if dp := bench.get("deploy"):
        sizes = [int(s) for s in dp["by_size"]]
        ax.plot(sizes, [dp["by_size"][str(s)]["times"]["median"] for s in sizes], "o-", label="no-op deploy")
        for tuning, style in zip(dp.get("tunings", []), ("rv", "m^"), strict=False):
            if "skipped" not in tuning:
                label = tuning_name(tuning["settings"])
                ax.plot([tuning["hosts"]], [tuning["times"]["before"]["median"]], style, markersize=9,
                        label=f"before: {label[:40]}")
        ax.set_xticks(sizes)
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
    ax.set(title="4. No-op production_deploy.yml", xlabel="lab hosts", ylabel="wall time (s)")
    for row in axes:
        for a in row:
            a.grid(True, alpha=0.3)
            a.set_ylim(bottom=0) if a.get_yscale() == "linear" and not math.isnan(a.get_ylim()[0]) else None
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_docs(results: dict, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md, png = directory / "performance.md", directory / "performance.png"
    md.write_text(markdown(results))
    plot(results, png)
    return [md, png]
