"""Every filter of the collection, as ansible finds it: through the plugin loader by FQCN, and documented.

Each filter file's FilterModule is imported directly; the loader must resolve each of its names as
stability.ops.<name> to the same function, and ``ansible-doc -t filter`` must render each one's DOCUMENTATION,
EXAMPLES and RETURN.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.plugins.loader import filter_loader

REPO_ROOT = Path(__file__).resolve().parents[3]
FILTER_DIR = REPO_ROOT / "plugins" / "filter"


def _filters() -> dict[str, object]:
    found = {}
    for path in sorted(FILTER_DIR.glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"ansible_collections.stability.ops.plugins.filter.{path.stem}")
        for name, function in module.FilterModule().filters().items():
            assert name not in found, f"{name} is defined twice"
            found[name] = function
    return found


FILTERS = _filters()


@pytest.mark.parametrize("name", sorted(FILTERS), ids=sorted(FILTERS))
def test_the_loader_resolves_the_fqcn_to_the_filter(name):
    plugin = filter_loader.get(f"stability.ops.{name}")
    assert plugin is not None, f"stability.ops.{name} not found by the plugin loader"
    assert plugin.j2_function is FILTERS[name]


def test_every_filter_is_documented_and_ansible_doc_renders_it():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".collections"),
               ANSIBLE_HOME=str(REPO_ROOT / ".cache" / "ansible-home"))
    names = [f"stability.ops.{name}" for name in sorted(FILTERS)]
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "filter", "--json", *names],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert sorted(docs) == names, result.stderr
    for fqcn, doc in docs.items():
        name = fqcn.rsplit(".", 1)[1]
        assert doc["doc"]["name"] == name
        assert doc["doc"]["short_description"] and doc["doc"]["description"], fqcn
        assert "_input" in doc["doc"]["options"], fqcn
        assert doc["return"] and "_value" in doc["return"], f"{fqcn} has no RETURN"
        assert doc["examples"] and fqcn in doc["examples"], f"{fqcn}: EXAMPLES do not use the filter"
        yaml.safe_load(doc["examples"])
