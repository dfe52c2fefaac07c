"""Command line (the real scripts/enforce_style_guide.sh): exit codes, help, rule
listing, partial runs, docs in sync."""

from __future__ import annotations

import subprocess

from conftest import REPO_ROOT, SCRIPT, run_gate

DOC = REPO_ROOT / "docs" / "style-guide.md"


def test_help_documents_exit_codes():
    proc = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    for line in ("0  no violations", "1  violations found", "2  usage or configuration error"):
        assert line in proc.stdout


def test_clean_repository_exits_zero(repo):
    repo.write("roles/r/tasks/main.yml", "- name: Ping\n  ansible.builtin.ping:\n")
    result = repo.gate()
    assert (result.returncode, result.stdout) == (0, "")


def test_report_format(repo):
    repo.write("roles/r/tasks/main.yml", "- name: Ping\n  ansible.builtin.ping:\n  become: yes\n")
    result = repo.gate()
    assert result.returncode == 1
    assert result.stdout == (
        "roles/r/tasks/main.yml:3 truthy YAML 1.1 truthy value (yes/no/on/off/True/False)"
        " (fix: write the boolean as lowercase true or false)\n"
    )


def test_usage_errors_exit_two(tmp_path):
    assert run_gate(tmp_path, "--bogus").returncode == 2
    assert run_gate(tmp_path / "missing").returncode == 2


def test_paths_restrict_the_check(repo):
    repo.write("roles/a/tasks/main.yml", "- name: A\n  ansible.builtin.ping:\n  become: yes\n")
    repo.write("roles/b/tasks/main.yml", "- name: B\n  ansible.builtin.ping:\n  become: yes\n")
    assert repo.gate("roles/b").findings == [("roles/b/tasks/main.yml", 3, "truthy")]


def test_docs_list_every_rule_with_message_and_fix():
    proc = subprocess.run(["bash", str(SCRIPT), "--list-rules"], capture_output=True, text=True, check=True)
    doc = DOC.read_text()
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert len(rows) >= 19
    for rule_id, message, fix in rows:
        assert f"| `{rule_id}` | {message} | {fix} |" in doc, rule_id


def test_relative_root_and_stderr_summary(repo):
    repo.write("roles/r/tasks/main.yml", "- name: Ping\n  ansible.builtin.ping:\n  become: yes\n")
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--root", "repo"], cwd=repo.root.parent, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("roles/r/tasks/main.yml:3 truthy ")
    assert proc.stderr == "1 style violation(s); see docs/style-guide.md\n"


def test_rule_listing_is_the_collection_rule_table():
    from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_rules import RULES

    proc = subprocess.run(["bash", str(SCRIPT), "--list-rules"], capture_output=True, text=True, check=True)
    assert proc.stdout == "".join(f"{r.id}\t{r.message}\t{r.fix}\n" for r in RULES)


def test_dev_module_runs_the_collection_engine(repo, capsys):
    from stability_ops_dev import style_guide

    repo.write("roles/r/tasks/main.yml", "- name: Ping\n  ping:\n")
    assert style_guide.main(["--root", str(repo.root)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("roles/r/tasks/main.yml:2 fqcn module referenced by its short name (`ping`)")
    assert style_guide.main(["--root", str(repo.root / "missing")]) == 2
    assert style_guide.main(["--no-such-option"]) == 2
