"""Unit tests of stability_ops_dev.idempotence: parsing, judging, reports, baseline."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from stability_ops_dev import idempotence as idem

SECRET = "s3cr3t-value-never-logged"
DISTROS = ("debian12", "debian13")
META = {
    "timestamp": "2026-01-02T03:04:05Z",
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "git_dirty": False,
    "versions": {"ansible_core": "2.19.14", "molecule": "26.10.0", "collection": "0.1.0", "python": "3.11.7"},
    "images": {
        "debian12": {"ref": "stability-ops-test:debian12-0123", "id": "sha256:" + "a" * 64, "os_version_id": "12"},
        "debian13": {"ref": "stability-ops-test:debian13-0123", "id": "sha256:" + "b" * 64, "os_version_id": None},
    },
}


def _report(runs, rc=0, log_text="", scenario="core_demo", distro="debian13"):
    return idem.role_report(
        scenario=scenario,
        distro=distro,
        scenario_dir="extensions/molecule",
        runs=runs,
        molecule_rc=rc,
        log_text=log_text,
        duration=42.0,
        meta=META,
        log_path=f".cache/reports/idempotence/x/{scenario}/{distro}/molecule.log",
    )


def _run(playbook, *, check=False, changed=0, failed=0, tasks=(), started=0.0):
    return {
        "playbook": f"extensions/molecule/x/{playbook}.yml",
        "check_mode": check,
        "diff": True,
        "started": started,
        "finished": started + 2.5,
        "pid": 1,
        "stats": {
            "h1": {
                "ok": 3,
                "changed": changed,
                "failed": failed,
                "unreachable": 0,
                "skipped": 0,
                "rescued": 0,
                "ignored": 0,
            }
        },
        "tasks": list(tasks),
    }


def _sequence(second_changed=0, second_tasks=(), check_failed=0, verify_failed=0):
    """A molecule test sequence as the recorder writes it."""
    return [
        _run("destroy", started=1),
        _run("create", changed=2, started=2),
        _run("prepare", started=3),
        _run(
            "converge",
            check=True,
            changed=4,
            failed=check_failed,
            started=4,
            tasks=[
                {
                    "host": "h1",
                    "role": "core_demo",
                    "task": "Probe",
                    "action": "ansible.builtin.command",
                    "status": "failed",
                    "handler": False,
                    "no_log": False,
                    "msg": "boom",
                }
            ]
            if check_failed
            else [],
        ),
        _run("converge", changed=5, started=5),
        _run("converge", changed=second_changed, tasks=second_tasks, started=6),
        _run(
            "verify",
            failed=verify_failed,
            started=7,
            tasks=[
                {
                    "host": "h1",
                    "role": "",
                    "task": "Assert",
                    "action": "ansible.builtin.assert",
                    "status": "failed",
                    "handler": False,
                    "no_log": False,
                    "msg": "wrong",
                }
            ]
            if verify_failed
            else [],
        ),
        _run("destroy", changed=1, started=8),
    ]


# --- diff rendering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        (
            {"before": "a\nb\n", "after": "a\nc\n", "before_header": "/f", "after_header": "/f"},
            ["--- /f", "+++ /f", "-b", "+c"],
        ),
        (
            {"before": {"mode": "0644", "path": "/f"}, "after": {"mode": "0600", "path": "/f"}},
            ["-mode: 0644", "+mode: 0600"],
        ),
        (
            [{"before": "x", "after": "y"}, {"before": {"owner": "a"}, "after": {"owner": "b"}}],
            ["-x", "+y", "-owner: a", "+owner: b"],
        ),
        ({"prepared": "  ~ package foo\n"}, ["  ~ package foo"]),
    ],
    ids=["content", "attributes", "list-of-diffs", "prepared"],
)
def test_diff_text_renders_unified_diffs(diff, expected):
    lines = idem.diff_text(diff).splitlines()
    for line in expected:
        assert line in lines


def test_diff_text_of_nothing_is_empty():
    assert idem.diff_text(None) == ""
    assert idem.diff_text({"before": "same\n", "after": "same\n"}) == ""


def test_diff_text_is_bounded():
    text = idem.diff_text({"before": "", "after": "x\n" * 10000})
    assert len(text) < idem.DIFF_LIMIT + 200
    assert text.endswith("see the molecule log]")


# --- os-release and pair names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\n', "13"),
        ("ID=debian\nVERSION_ID='12'\n", "12"),
        ("ID=debian\n VERSION_ID=12 \n", "12"),
        ('PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\n', None),
    ],
    ids=["double-quoted", "single-quoted", "bare", "testing-has-none"],
)
def test_os_release_value(text, expected):
    assert idem.os_release_value(text) == expected


def test_pair_id():
    assert idem.pair_id("core_time", "debian13") == "core_time@debian13"


# --- task entries and no_log -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_no_log", "result"),
    [
        (True, {"changed": True, "diff": {"before": "", "after": SECRET}, "msg": SECRET}),
        (False, {"changed": True, "censored": "the output has been hidden", "_ansible_no_log": True}),
        (
            False,
            {
                "changed": True,
                "results": [{"changed": True, "_ansible_no_log": True, "diff": {"before": "", "after": SECRET}}],
            },
        ),
    ],
    ids=["task-no_log", "censored-result", "censored-loop-item"],
)
def test_task_entry_keeps_no_value_of_a_no_log_task(task_no_log, result):
    entry = idem.task_entry(
        host="h1",
        task="Write token",
        role="r",
        action="ansible.builtin.template",
        status="changed",
        result=result,
        task_no_log=task_no_log,
    )
    assert entry["no_log"] is True
    assert "diff" not in entry
    assert "msg" not in entry
    assert SECRET not in json.dumps(entry)


def test_task_entry_collects_diffs_of_changed_loop_items():
    result = {
        "changed": True,
        "results": [
            {"changed": True, "diff": {"before": "a\n", "after": "b\n"}},
            {"changed": False, "diff": {"before": "x\n", "after": "y\n"}},
        ],
    }
    entry = idem.task_entry(host="h1", task="t", role=None, action="copy", status="changed", result=result)
    assert "+b" in entry["diff"]
    assert "+y" not in entry["diff"]
    assert entry["role"] == ""


def test_task_entry_of_a_failure_has_its_message():
    entry = idem.task_entry(
        host="h1",
        task="t",
        role="r",
        action="command",
        status="failed",
        result={"failed": True, "msg": "non-zero return code", "stderr": "detail"},
    )
    assert entry["msg"] == "non-zero return code"


def test_recorder_writes_an_atomic_record(tmp_path):
    recorder = idem.RunRecorder(playbook="converge.yml", check_mode=False, diff=True, started=1.5, pid=7)
    recorder.add({"task": "t"})
    recorder.finish({"h1": {"changed": 1}}, finished=3.0)
    path = recorder.write(str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [path.rsplit("/", 1)[-1]]
    runs = idem.load_runs(str(tmp_path))
    assert runs[0]["stats"]["h1"] == {
        "ok": 0,
        "changed": 1,
        "failed": 0,
        "unreachable": 0,
        "skipped": 0,
        "rescued": 0,
        "ignored": 0,
    }
    assert idem.load_runs(str(tmp_path / "missing")) == []


# --- steps and the role verdict (recorded real runs) -----------------------------------------


def test_steps_of_a_recorded_molecule_test(recorded):
    steps = [step["step"] for step in idem.classify_steps(recorded("idempotence_dirty"))]
    assert steps == ["destroy", "create", "prepare", "check", "converge", "idempotence", "destroy"]


@pytest.mark.parametrize("distro", DISTROS)
def test_recorded_dirty_run_fails_at_idempotence_naming_task_and_diff(recorded, validate, distro):
    report = validate(_report(recorded("idempotence_dirty"), rc=1, scenario="idempotence_dirty", distro=distro))
    assert (report["role"], report["distro"], report["image"]) == ("idempotence_dirty", distro, META["images"][distro])
    assert report["passed"] is False
    assert report["failed_step"] == "idempotence"
    assert report["second_run_changed"] == 2
    by_task = {entry["task"]: entry for entry in report["second_run_changed_tasks"]}
    assert set(by_task) == {"Add the tools directory to the login PATH", "Write the API token file"}
    lineinfile = by_task["Add the tools directory to the login PATH"]
    assert lineinfile["role"] == "idempotence_dirty"
    grown = "+ENV_PATH\tPATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games" + ":/opt/stability/bin" * 2
    assert grown in lineinfile["diff"].splitlines()
    assert by_task["Write the API token file"]["no_log"] is True
    assert "diff" not in by_task["Write the API token file"]
    assert "fixture-token" not in json.dumps(report)
    text = idem.render_failures([report])
    assert text.startswith(
        f"idempotence_dirty@{distro}: FAILED at step idempotence "
        f"(log: .cache/reports/idempotence/x/idempotence_dirty/{distro}/molecule.log)"
    )
    assert "idempotence_dirty: Add the tools directory to the login PATH (molecule-idempotence_dirty)" in text
    assert "idempotence_dirty: Write the API token file (molecule-idempotence_dirty)\n    (no_log: diff hidden)" in text


def test_recorded_idempotent_run_with_a_failing_verify(recorded, validate):
    """A real run of the clean fixture with an (earlier) wrong verify: idempotent, yet it fails at verify."""
    report = validate(_report(recorded("idempotence_clean_verify_failed"), rc=1, scenario="idempotence_clean"))
    assert (report["check_mode_changed"], report["first_run_changed"], report["second_run_changed"]) == (2, 2, 0)
    assert report["second_run_changed_tasks"] == []
    assert report["passed"] is False
    assert report["failed_step"] == "verify"
    assert report["failure"].startswith("verify failed: play: Assert the directory is on the login PATH exactly once")
    assert report["steps"] == ["destroy", "create", "prepare", "check", "converge", "idempotence", "verify", "destroy"]
    assert set(report["durations_s"]) == {"destroy", "create", "prepare", "check", "converge", "idempotence", "verify"}


def test_recorded_docker_failure_fails_at_create(recorded, validate):
    """A real run during which dockerd timed out starting the container."""
    report = validate(_report(recorded("idempotence_create_failed"), rc=1, scenario="idempotence_clean"))
    assert report["failed_step"] == "create"
    assert (report["check_mode_changed"], report["first_run_changed"], report["second_run_changed"]) == (None,) * 3
    assert [task["step"] for task in report["failed_tasks"]] == ["create", "destroy"]
    table = idem.render_table(_summary([report]))
    assert table.splitlines()[2].split()[:7] == ["idempotence_clean", "debian13", "FAIL", "create", "-", "-", "-"]


@pytest.mark.parametrize(
    ("kwargs", "rc", "step", "in_failure"),
    [
        ({"check_failed": 1}, 1, "check", "core_demo: Probe (h1): boom"),
        ({"verify_failed": 1}, 1, "verify", "play: Assert (h1): wrong"),
        (
            {
                "second_changed": 1,
                "second_tasks": [
                    {
                        "host": "h1",
                        "role": "core_demo",
                        "task": "Grow",
                        "action": "lineinfile",
                        "status": "changed",
                        "handler": True,
                        "no_log": False,
                    }
                ],
            },
            1,
            "idempotence",
            "core_demo: Grow (h1)",
        ),
    ],
    ids=["check-error", "verify-failure", "second-run-change"],
)
def test_the_failing_step_is_named(kwargs, rc, step, in_failure, validate):
    report = validate(_report(_sequence(**kwargs), rc=rc))
    assert report["passed"] is False
    assert report["failed_step"] == step
    assert in_failure in report["failure"]


def test_second_run_change_fails_even_when_molecule_passed():
    """The records, not molecule's text parsing, decide: a change is a failure whatever molecule said."""
    tasks = [
        {"host": "h1", "role": "r", "task": "t", "action": "a", "status": "changed", "handler": False, "no_log": False}
    ]
    assert _report(_sequence(second_changed=1, second_tasks=tasks), rc=0)["failed_step"] == "idempotence"


def test_a_failure_handled_by_rescue_does_not_fail_its_step():
    """verify.yml may prove an expected failure with block/rescue: the recap has failed=0, rescued=1."""
    rescued = {"host": "h1", "role": "r", "task": "expected failure", "action": "a", "status": "failed",
               "handler": False, "no_log": False, "msg": "refused as it should be"}
    runs = _sequence()
    verify = next(run for run in runs if run["playbook"].endswith("/verify.yml"))
    verify["tasks"].append(rescued)
    verify["stats"]["h1"]["rescued"] = 1
    report = _report(runs, rc=0)
    assert report["passed"] is True, report["failure"]
    assert report["failed_step"] is None


def test_failure_without_records_takes_the_step_from_the_molecule_log():
    log = (
        "INFO     core_demo ➜ syntax: Executing\nERROR    core_demo ➜ syntax: Executed: Failed\n"
        "WARNING  core_demo ➜ syntax: An error occurred during the test sequence action: 'syntax'. Cleaning up.\n"
        "core_demo ➜ destroy: Executed: Successful\n"
    )
    report = _report([_run("destroy")], rc=1, log_text="\x1b[33m" + log)
    assert report["failed_step"] == "syntax"
    assert report["failure"] == "molecule test exited 1 during step syntax"
    assert _report([], rc=2, log_text="Traceback ...")["failed_step"] == "molecule"


def test_a_run_without_second_converge_does_not_pass():
    runs = [run for run in _sequence() if not (run["playbook"].endswith("converge.yml") and run["started"] == 6)]
    report = _report(runs, rc=0)
    assert report["passed"] is False
    assert "no second converge" in report["failure"]


# --- summary, table, baseline ----------------------------------------------------------------


def _summary(reports, selection="default", distro_selection="default", distros=DISTROS):
    meta = {**META, "images": {distro: META["images"][distro] for distro in distros}}
    return idem.run_summary(
        reports,
        meta,
        run_id="010203Z-1",
        selection=selection,
        distro_selection=distro_selection,
        jobs=2,
        duration=90.0,
    )


def _pairs(*names, distros=DISTROS, **kwargs):
    """Passing reports of the given roles on every given distribution."""
    return [_report(_sequence(**kwargs), scenario=name, distro=distro) for name in names for distro in distros]


def test_summary_and_table(validate):
    good = _pairs("core_a")
    bad = _report(_sequence(check_failed=1), rc=1, scenario="security_b", distro="debian12")
    summary = validate(_summary([bad, *reversed(good)]))
    assert summary["passed"] is False
    assert summary["distros"] == list(DISTROS)
    assert summary["images"] == META["images"]
    assert [(role["role"], role["distro"]) for role in summary["roles"]] == [
        ("core_a", "debian12"),
        ("core_a", "debian13"),
        ("security_b", "debian12"),
    ]
    table = idem.render_table(summary).splitlines()
    assert table[0].split() == ["role", "distro", "result", "step", "check", "1st", "run", "2nd", "run", "time"]
    assert table[2].split() == ["core_a", "debian12", "PASS", "-", "4", "5", "0", "42s"]
    assert table[3].split() == ["core_a", "debian13", "PASS", "-", "4", "5", "0", "42s"]
    assert table[4].split()[:4] == ["security_b", "debian12", "FAIL", "check"]
    assert _summary([])["passed"] is False


def test_summary_of_one_distro(validate):
    summary = validate(_summary(_pairs("core_a", distros=("debian12",)), "explicit", "explicit", ("debian12",)))
    assert (summary["distros"], list(summary["images"])) == (["debian12"], ["debian12"])
    assert summary["distro_selection"] == "explicit"


def test_baseline_update_merges_pairs_and_only_accepts_passed_runs(validate):
    first = validate(idem.update_baseline(None, _summary(_pairs("core_a", distros=("debian12",)))))
    assert list(first["roles"]) == ["core_a"]
    assert first["roles"]["core_a"]["debian12"]["last_passed"] == META["timestamp"]
    assert first["roles"]["core_a"]["debian12"]["image_id"] == META["images"]["debian12"]["id"]
    assert first["roles"]["core_a"]["debian12"]["os_version_id"] == "12"
    second = validate(idem.update_baseline(first, _summary(_pairs("core_a", "core_b", distros=("debian13",)))))
    assert {role: sorted(by_distro) for role, by_distro in second["roles"].items()} == {
        "core_a": ["debian12", "debian13"],
        "core_b": ["debian13"],
    }
    assert second["roles"]["core_a"]["debian12"] == first["roles"]["core_a"]["debian12"], "pairs not run are kept"
    assert second["roles"]["core_a"]["debian13"]["os_version_id"] is None
    with pytest.raises(ValueError, match="did not pass"):
        idem.update_baseline(first, _summary([_report(_sequence(check_failed=1), rc=1, scenario="core_a")]))


@pytest.mark.parametrize(
    "mutate",
    [lambda entry: entry.update(second_run_changed=1), lambda entry: entry.pop("os_version_id")],
    ids=["non-idempotent", "no-os-version"],
)
def test_baseline_schema_rejects_a_bad_entry(validate, mutate):
    baseline = validate(idem.update_baseline(None, _summary(_pairs("core_a"))))
    mutate(baseline["roles"]["core_a"]["debian13"])
    with pytest.raises(jsonschema.ValidationError):
        validate(baseline)


def test_baseline_schema_rejects_an_entry_without_distribution(validate):
    baseline = idem.update_baseline(None, _summary(_pairs("core_a")))
    baseline["roles"]["core_a"] = baseline["roles"]["core_a"]["debian12"]
    with pytest.raises(jsonschema.ValidationError):
        validate(baseline)


@pytest.mark.parametrize("distro", DISTROS)
def test_compare_baseline_pair_by_pair(distro):
    summary = _summary(_pairs("core_a", "core_b"))
    baseline = idem.update_baseline(None, summary)
    assert idem.compare_baseline(baseline, summary) == []

    later = copy.deepcopy(summary)
    later["timestamp"] = "2030-01-01T00:00:00Z"
    later["images"][distro]["id"] = "sha256:" + "c" * 64
    for role in later["roles"]:
        role["duration_s"] = 999.0
    assert idem.compare_baseline(baseline, later) == [], "history fields are not compared"

    changed = next(role for role in later["roles"] if (role["role"], role["distro"]) == ("core_a", distro))
    changed["first_run_changed"] = 6
    later["versions"] = {**later["versions"], "collection": "0.2.0"}
    assert idem.compare_baseline(baseline, later) == [
        "collection version: baseline 0.1.0, run 0.2.0",
        f"core_a@{distro}: first_run_changed baseline 5, run 6",
    ]


@pytest.mark.parametrize(
    ("run_distros", "selection", "distro_selection", "expected"),
    [
        (
            DISTROS,
            "default",
            "default",
            [
                "not in the baseline (role@distro): core_a@debian13, core_new@debian12, core_new@debian13",
                "in the baseline but not in this run (role@distro): core_gone@debian12, core_gone@debian99",
            ],
        ),
        (
            ("debian12",),
            "default",
            "explicit",
            [
                "not in the baseline (role@distro): core_new@debian12",
                "in the baseline but not in this run (role@distro): core_gone@debian12",
            ],
        ),
        (
            ("debian13",),
            "explicit",
            "explicit",
            ["not in the baseline (role@distro): core_a@debian13, core_new@debian13"],
        ),
    ],
    ids=["full-run", "one-distro", "role-and-distro-alone"],
)
def test_compare_baseline_names_missing_and_stale_pairs(run_distros, selection, distro_selection, expected):
    baseline = idem.update_baseline(None, _summary(_pairs("core_a", "core_gone", distros=("debian12",))))
    baseline["roles"]["core_gone"]["debian99"] = baseline["roles"]["core_gone"]["debian12"]
    run = _summary(_pairs("core_a", "core_new", distros=run_distros), selection, distro_selection, run_distros)
    assert idem.compare_baseline(baseline, run) == expected


def test_compare_the_committed_baseline_format():
    """An existing debian12 entry passes alone; its debian13 pair is reported missing until accepted."""
    baseline = idem.update_baseline(None, _summary(_pairs("core_a", distros=("debian12",))))
    assert idem.baseline_pairs(baseline).keys() == {("core_a", "debian12")}
    run = _summary(_pairs("core_a"), "explicit")
    assert idem.compare_baseline(baseline, run) == ["not in the baseline (role@distro): core_a@debian13"]
    assert idem.compare_baseline(idem.update_baseline(baseline, run), run) == []
