"""Shared fixtures of the health unit tests: real command outputs in tests/fixtures/health."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stability_ops_dev.testing.junit import junit_problems

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "health"


@pytest.fixture
def fixture_text():
    def read(name: str) -> str:
        return (FIXTURES / name).read_text()

    return read


@pytest.fixture
def fixture_json(fixture_text):
    return lambda name: json.loads(fixture_text(name))


@pytest.fixture
def junit_check():
    """The JUnit structure check as a fixture (a test module importing ``conftest`` may get another directory's)."""
    return junit_problems
