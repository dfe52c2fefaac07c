"""Which managed-host releases the lab tests deploy to.

Every test whose fixtures ask for ``lab_distro`` runs once per release, each
with a lab of its own: by default every release the suite supports;
STABILITY_OPS_TEST_DISTROS (space separated) narrows it, e.g. the second
controller leg of scripts/test.sh, which repeats the end-to-end deploys on one
release only.
"""

from __future__ import annotations

import os

import pytest

SUPPORTED_DISTROS = ("debian12", "debian13")


def selected_distros() -> list[str]:
    wanted = os.environ.get("STABILITY_OPS_TEST_DISTROS", "").split() or list(SUPPORTED_DISTROS)
    unknown = sorted(set(wanted) - set(SUPPORTED_DISTROS))
    if unknown:
        raise pytest.UsageError(
            f"STABILITY_OPS_TEST_DISTROS names unknown releases {unknown}; known: {list(SUPPORTED_DISTROS)}")
    return wanted


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "lab_distro" in metafunc.fixturenames:
        metafunc.parametrize("lab_distro", selected_distros(), scope="module")
