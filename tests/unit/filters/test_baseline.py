"""stability.ops.baseline_permissions_to_fix: security_baseline's comparison of the wanted and the stat'd paths."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stability.ops.plugins.filter.baseline import baseline_permissions_to_fix, parse_stat_lines

SHADOW = {"path": "/etc/shadow", "owner": "root", "group": "shadow", "mode": "0640"}
CRONTAB = {"path": "/etc/crontab", "mode": "0600"}


@pytest.mark.parametrize(
    ("wanted", "lines", "expected"),
    [
        ([SHADOW], ["640 root shadow /etc/shadow"], []),
        ([SHADOW], ["644 root shadow /etc/shadow"], [SHADOW]),
        ([SHADOW], ["640 root root /etc/shadow"], [SHADOW]),
        ([SHADOW], ["640 daemon shadow /etc/shadow"], [SHADOW]),
        ([SHADOW], [], []),
        ([CRONTAB], ["600 root root /etc/crontab"], []),
        ([CRONTAB], ["644 root root /etc/crontab"], [{**CRONTAB, "owner": "root", "group": "root"}]),
        ([{"path": "/etc/cron.d", "mode": "700"}], ["700 root root /etc/cron.d"], []),
        ([{"path": "/srv/dir with space", "mode": "0750"}], ["750 root root /srv/dir with space"], []),
        ([{"path": "/etc/crontab", "mode": "u=rw,go="}], ["600 root root /etc/crontab"],
         [{"path": "/etc/crontab", "mode": "u=rw,go=", "owner": "root", "group": "root"}]),
        ([{"path": "/etc/crontab", "mode": 0o600}], ["600 root root /etc/crontab"], []),
        ([{"path": "/run/setgid", "mode": "2755"}], ["2755 root root /run/setgid"], []),
    ],
    ids=["matches", "mode-differs", "group-differs", "owner-differs", "missing-path-skipped",
         "owner-group-default-root", "defaults-filled-in", "mode-without-leading-zero", "path-with-spaces",
         "symbolic-mode-always-fixed", "integer-mode", "setgid-mode"],
)
def test_only_existing_paths_that_differ_are_returned(wanted, lines, expected):
    assert baseline_permissions_to_fix(wanted, lines) == expected


def test_the_order_of_the_wanted_entries_is_kept():
    wanted = [CRONTAB, SHADOW, {"path": "/etc/passwd", "mode": "0644"}]
    lines = ["644 root root /etc/passwd", "644 root root /etc/crontab", "600 root root /etc/shadow"]
    assert [entry["path"] for entry in baseline_permissions_to_fix(wanted, lines)] == ["/etc/crontab", "/etc/shadow"]


def test_no_stat_output_means_nothing_to_fix():
    assert baseline_permissions_to_fix([SHADOW], None) == []


def test_the_wanted_entries_are_not_modified():
    wanted = [dict(CRONTAB)]
    baseline_permissions_to_fix(wanted, ["644 root root /etc/crontab"])
    assert wanted == [CRONTAB]


def test_stat_lines_are_parsed_with_octal_modes():
    assert parse_stat_lines(["2755 root systemd-journal /var/log/journal"]) == {
        "/var/log/journal": (0o2755, "root", "systemd-journal")}


@pytest.mark.parametrize(
    ("wanted", "lines", "message"),
    [([{"mode": "0644"}], [], "each entry needs a path"),
     ([SHADOW], ["640 root /etc/shadow"], "not a '%a %U %G %n' stat line"),
     ([SHADOW], ["rw- root shadow /etc/shadow"], "not an octal mode")],
    ids=["entry-without-path", "short-stat-line", "non-octal-stat-mode"],
)
def test_malformed_input_is_a_filter_error(wanted, lines, message):
    with pytest.raises(AnsibleFilterError, match=message):
        baseline_permissions_to_fix(wanted, lines)
