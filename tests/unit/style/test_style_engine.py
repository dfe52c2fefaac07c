"""The engine's API as the action plugin uses it: rule selection, paths, the report and its message."""

from __future__ import annotations

import pytest
from ansible_collections.stability.ops.plugins.plugin_utils import style_guide_engine as engine
from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_rules import OPT_IN, RULES_BY_ID, UNIGNORABLE

BAD = "- ansible.builtin.ping:\n  become: yes\n"


def test_rules_limit_the_run(user_repo):
    user_repo.write("roles/r/tasks/main.yml", BAD)
    report = engine.check(user_repo.root, rules=["truthy"])
    assert [(f.path, f.line, f.rule) for f in report.findings] == [("roles/r/tasks/main.yml", 2, "truthy")]
    assert report.rules == frozenset({"truthy"}) | UNIGNORABLE


def test_naming_an_opt_in_rule_runs_it(user_repo):
    user_repo.write("playbooks/site.yml", "- name: Site\n  hosts: all\n")
    report = engine.check(user_repo.root, rules=["reference-only-label", "reference-only-hosts"])
    assert [(f.line, f.rule) for f in report.findings] == [(1, "reference-only-label"), (2, "reference-only-hosts")]


def test_default_rules_are_every_rule_but_the_opt_in_ones(user_repo):
    report = engine.check(user_repo.root)
    assert report.rules == frozenset(RULES_BY_ID) - OPT_IN
    assert OPT_IN == {"stray-path", "reference-only-label", "reference-only-guard", "reference-only-hosts"}


def test_unknown_rule_is_a_config_error(user_repo):
    with pytest.raises(engine.ConfigError, match=r"^unknown rule id\(s\): nope \(known: fqcn, truthy, "):
        engine.check(user_repo.root, rules=["truthy", "nope"])


def test_root_must_be_a_directory(tmp_path):
    with pytest.raises(engine.ConfigError, match="is not a directory"):
        engine.check(tmp_path / "missing")


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["roles/b"], ["roles/b"]),
        (["./roles/b/", "roles//a"], ["roles/b", "roles/a"]),
        (["@ROOT@/roles/b"], ["roles/b"]),
        (["."], []),
        (None, []),
    ],
    ids=["relative", "normalized", "absolute-inside", "dot-is-everything", "none"],
)
def test_normalize_paths(tmp_path, paths, expected):
    paths = [p.replace("@ROOT@", str(tmp_path)) for p in paths] if paths else paths
    assert engine.normalize_paths(tmp_path, paths) == expected


@pytest.mark.parametrize("path", ["../other", "@ROOT@/../other", "/etc"], ids=["relative", "absolute", "elsewhere"])
def test_paths_outside_the_root_are_refused(tmp_path, path):
    root = tmp_path / "repo"
    with pytest.raises(engine.ConfigError, match="outside the checked root"):
        engine.normalize_paths(root, [path.replace("@ROOT@", str(root))])


def test_absolute_paths_restrict_the_check(user_repo):
    user_repo.write("roles/a/tasks/main.yml", BAD)
    user_repo.write("roles/b/tasks/main.yml", BAD)
    report = engine.check(user_repo.root, [str(user_repo.root / "roles" / "b")], ["truthy"])
    assert [f.path for f in report.findings] == ["roles/b/tasks/main.yml"]
    assert report.files == 1


def test_finding_as_dict():
    finding = engine.Finding("roles/r/tasks/main.yml", 2, "fqcn", "`ping`")
    assert finding.as_dict() == {
        "path": "roles/r/tasks/main.yml",
        "line": 2,
        "rule": "fqcn",
        "message": "module referenced by its short name",
        "detail": "`ping`",
        "fix": RULES_BY_ID["fqcn"].fix,
    }


def test_failure_message_lists_at_most_the_limit():
    findings = [engine.Finding(f"roles/r{i:02}/tasks/main.yml", 3, "truthy") for i in range(25)]
    lines = engine.failure_message(engine.Report(findings, 30)).splitlines()
    assert lines[0] == (
        "25 style violation(s) in 30 checked file(s) (20 shown; the result's violations list holds every one);"
        " see docs/style-guide.md of the stability.ops collection:"
    )
    assert lines[1:] == [f.render() for f in findings[:20]]
    assert lines[1] == (
        "roles/r00/tasks/main.yml:3 truthy YAML 1.1 truthy value (yes/no/on/off/True/False)"
        " (fix: write the boolean as lowercase true or false)"
    )


def test_success_message():
    assert engine.failure_message(engine.Report([], 7)) == "style guide: 7 file(s) checked, no violations"


def test_missing_ripgrep_is_a_config_error(user_repo, monkeypatch):
    monkeypatch.setenv("PATH", str(user_repo.root))
    with pytest.raises(engine.ConfigError, match="rg not found"):
        engine.check(user_repo.root)
