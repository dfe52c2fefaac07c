"""The committed baseline (docs/audit/idempotence-baseline.json) is valid and covers every gated (role, distro).

Whether its numbers match a fresh run is checked by the gate itself
(`scripts/verify_idempotence.sh --check-baseline`, part of the test command);
this fast check catches a role added without re-accepting the baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
BASELINE = REPO_ROOT / "docs" / "audit" / "idempotence-baseline.json"
HINT = "run scripts/verify_idempotence.sh --update-baseline and commit docs/audit/idempotence-baseline.json"


def _gated_scenarios():
    return sorted(
        path.parent.name
        for path in (REPO_ROOT / "extensions" / "molecule").glob("*/molecule.yml")
        if path.parent.name.startswith(("core_", "security_"))
    )


def test_baseline_is_valid_and_covers_every_gated_role_on_every_distro(validate, distros):
    assert BASELINE.is_file(), f"no baseline yet: {HINT}"
    baseline = validate(json.loads(BASELINE.read_text(encoding="utf-8")))
    assert baseline["kind"] == "baseline"
    expected = {f"{role}@{distro}" for role in _gated_scenarios() for distro in distros}
    recorded = {f"{role}@{distro}" for role, by_distro in baseline["roles"].items() for distro in by_distro}
    missing = sorted(expected - recorded)
    stale = sorted(recorded - expected)
    assert not missing, f"(role, distro) pairs without a baseline entry: {', '.join(missing)}; {HINT}"
    assert not stale, f"baseline pairs without a scenario or distribution: {', '.join(stale)}; {HINT}"
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert baseline["collection_version"] == str(galaxy["version"]), HINT
