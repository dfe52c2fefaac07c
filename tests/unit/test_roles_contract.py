"""Every role keeps the same contract: spec, defaults and README agree.

These checks run over every role in roles/, so a new role is held to them
without writing a test of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())
TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    "path": lambda v: isinstance(v, str),
    "raw": lambda v: True,
}


def _load(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _spec_options(role: Path) -> dict:
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    return specs["main"].get("options", {})


def _is_template(value) -> bool:
    return isinstance(value, str) and "{{" in value


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_has_argument_spec_readme_and_meta(role: Path):
    assert (role / "meta" / "argument_specs.yml").is_file()
    assert (role / "meta" / "main.yml").is_file()
    assert (role / "README.md").is_file()


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_the_argument_spec(role: Path):
    options = _spec_options(role)
    defaults = _load(role / "defaults" / "main.yml") or {}
    undeclared = sorted(set(defaults) - set(options))
    assert not undeclared, f"defaults not declared in meta/argument_specs.yml: {undeclared}"
    for name, value in defaults.items():
        spec = options[name]
        if _is_template(value):
            continue
        kind = spec.get("type", "str")
        assert TYPE_CHECKS[kind](value), f"{name}: default {value!r} is not of type {kind}"
        assert spec.get("default") == value, f"{name}: spec default {spec.get('default')!r} != defaults {value!r}"
    missing = sorted(n for n, s in options.items() if "default" in s and n not in defaults)
    assert not missing, f"spec declares defaults that defaults/main.yml lacks: {missing}"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_public_variables_are_prefixed_with_the_role_name(role: Path):
    bad = [n for n in _spec_options(role) if not n.startswith(f"{role.name}_")]
    assert not bad, f"variables must start with {role.name}_: {bad}"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_templates_start_with_the_ansible_managed_header(role: Path):
    templates = sorted((role / "templates").rglob("*.j2")) if (role / "templates").is_dir() else []
    bad = [str(t.relative_to(role)) for t in templates if not t.read_text().startswith("{{ ansible_managed | comment")]
    assert not bad, f"templates without the ansible_managed header: {bad}"


def test_readme_variable_tables_are_generated_from_the_specs():
    result = subprocess.run(
        [sys.executable, "-m", "stability_ops_dev.role_vars_table", "--check", *map(str, ROLES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_role_readmes_render_ansible_markup_as_markdown():
    """C(), O(), V() ... belong in argument specs; the generated README tables show Markdown code instead."""
    raw = re.compile(r"(?<![A-Za-z0-9_])[CIBOVEPMLURH]{1,2}\([^)\s]")
    leftovers = {str(role.name): raw.findall((role / "README.md").read_text()) for role in ROLES}
    assert {name: found for name, found in leftovers.items() if found} == {}
