"""Shared helpers of the idempotence gate unit tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO_ROOT / "docs" / "audit" / "idempotence-report.schema.json").read_text(encoding="utf-8"))
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def validate():
    """Validate a document against the schema shipped in docs/audit/."""

    def _validate(document):
        jsonschema.validate(document, SCHEMA)
        return document

    return _validate


@pytest.fixture
def recorded():
    """The run records of a real ``molecule test`` of a fixture scenario (paths made relative)."""

    def _load(name):
        return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))

    return _load


@pytest.fixture(scope="session")
def distros():
    """The managed-host releases the suite tests: STABILITY_OPS_DISTROS of scripts/lib.sh, its one source."""
    proc = subprocess.run(
        ["bash", "-c", 'source scripts/lib.sh && printf "%s\\n" "${STABILITY_OPS_DISTROS[@]}"'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return proc.stdout.split()
