"""ansible-test sanity, offline, every test, on the collection layout (scripts/sanity.sh)."""

from __future__ import annotations

import re

import pytest
from conftest import run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ecosystem-sanity")]


def test_all_sanity_tests_pass_offline():
    result = run("bash", "scripts/sanity.sh", timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    ran = set(re.findall(r'Running sanity test "([\w-]+)"', output))
    listed = set(run("bash", "scripts/sanity.sh", "--list-tests").stdout.split())
    assert listed and ran == listed, f"not run: {sorted(listed - ran)}"
    # The eight tests that need their own virtualenvs really ran, offline.
    assert "Download failed" not in output
    assert 'Required program "shellcheck" not found' not in output
