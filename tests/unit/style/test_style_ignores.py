"""Ignore logic: .styleignore globs, per-line comments, unknown and stale ignores."""

from __future__ import annotations

import pytest
from conftest import IGNORE

BAD_TASK = "- name: Install\n  ansible.builtin.apt:\n    update_cache: yes\n"


def test_styleignore_glob_skips_every_rule(repo):
    repo.write("roles/old/tasks/main.yml", BAD_TASK)
    repo.write("roles/new/tasks/main.yml", BAD_TASK)
    repo.write(".styleignore", "# vendored\nroles/old/\n")
    assert repo.check().findings == [("roles/new/tasks/main.yml", 3, "truthy")]


def test_styleignore_glob_with_rule_ids_skips_only_those(repo):
    repo.write("roles/r/tasks/main.yml", BAD_TASK + "- ansible.builtin.ping:\n")
    repo.write(".styleignore", "roles/*/tasks/*.yml truthy\n")
    assert repo.check().findings == [("roles/r/tasks/main.yml", 4, "name-missing")]


@pytest.mark.parametrize(
    ("glob", "ignored"),
    [("**/main.yml", True), ("main.yml", True), ("roles/*.yml", False), ("roles/**", True), ("roles/r/", True)],
    ids=["double-star", "basename-anywhere", "star-stays-in-segment", "double-star-suffix", "directory"],
)
def test_styleignore_glob_semantics(repo, glob, ignored):
    repo.write("roles/r/tasks/main.yml", BAD_TASK)
    repo.write(".styleignore", f"{glob}\n")
    assert (repo.check().findings == []) is ignored


def test_unknown_rule_id_in_styleignore_is_an_error(repo):
    repo.write("roles/r/tasks/main.yml", BAD_TASK)
    repo.write(".styleignore", "# comment\nroles/** truthy,no-such-rule\n")
    result = repo.check()
    assert result.findings == [(".styleignore", 2, "unknown-rule-id")]
    assert "(no-such-rule)" in result.stdout
    assert result.returncode == 1


def test_unknown_rule_id_in_comment_is_an_error(repo):
    repo.write("roles/r/tasks/main.yml", f"- name: Ping  {IGNORE} truthy, no-such-rule\n  ansible.builtin.ping:\n")
    assert repo.check().findings == [
        ("roles/r/tasks/main.yml", 1, "unknown-rule-id"),
    ]


def test_stale_ignores_are_errors(repo):
    repo.write("roles/r/tasks/main.yml", f"- name: Ping  {IGNORE} truthy\n  ansible.builtin.ping:\n")
    repo.write(".styleignore", "roles/** fqcn\n")
    result = repo.check()
    assert result.findings == [(".styleignore", 1, "unused-ignore"), ("roles/r/tasks/main.yml", 1, "unused-ignore")]


def test_bookkeeping_rules_cannot_be_ignored(repo):
    repo.write("roles/r/tasks/main.yml", f"- name: Ping  {IGNORE} unused-ignore\n  ansible.builtin.ping:\n")
    assert repo.check().findings == [("roles/r/tasks/main.yml", 1, "unknown-rule-id")]


def test_comment_alone_covers_the_next_line_only(repo):
    repo.write(
        "roles/r/tasks/main.yml",
        f"- name: A\n  {IGNORE} truthy\n  ansible.builtin.apt:\n    update_cache: yes\n"
        f"- name: B\n  ansible.builtin.apt:\n    {IGNORE} truthy\n    update_cache: yes\n",
    )
    assert repo.check().findings == [
        ("roles/r/tasks/main.yml", 2, "unused-ignore"),
        ("roles/r/tasks/main.yml", 4, "truthy"),
    ]


def test_marker_inside_a_string_is_not_an_ignore(repo):
    text = "- name: Say it\n  ansible.builtin.debug:\n    msg: 'x: yes " + IGNORE + " truthy'\n"
    repo.write("roles/r/tasks/main.yml", text)
    assert repo.check().findings == []


def test_enable_with_unknown_rule_id_is_an_error(user_repo):
    user_repo.write(".styleignore", "@enable stray-path no-such-rule\n")
    user_repo.write("notes.txt", "a: 1\n")
    result = user_repo.check()
    assert result.findings == [(".styleignore", 1, "unknown-rule-id"), ("notes.txt", 1, "stray-path")]
    assert "(no-such-rule)" in result.stdout


def test_ignores_of_rules_that_did_not_run_are_not_stale(user_repo):
    user_repo.write("roles/r/tasks/main.yml", f"- name: Ping  {IGNORE} truthy\n  ansible.builtin.ping:\n")
    user_repo.write("playbooks/site.yml", f"{IGNORE} reference-only-label\n- ansible.builtin.import_playbook: x.yml\n")
    assert user_repo.check(rules=["fqcn"]).findings == []
    assert user_repo.check().findings == [("roles/r/tasks/main.yml", 1, "unused-ignore")]
