"""stability-ops-build-docs: every plugin and role has a page, pages are fresh, --check catches stale ones."""

from __future__ import annotations

import sys

import pytest
from conftest import collection_content, run
from stability_ops_dev import build_docs

MODULE_DOC = {
    "doc": {
        "short_description": "Do C(one) thing",
        "description": ["Uses O(name) and returns RV(result).", "See P(stability.ops.other#callback)."],
        "has_action": True,
        "version_added": "0.1.0",
        "options": {
            "name": {"type": "str", "required": True, "description": "A name | with a pipe."},
            "limits": {
                "type": "dict",
                "description": "Limits.",
                "suboptions": {"max": {"type": "int", "default": 3, "description": "At most V(3)."}},
            },
        },
        "attributes": {"check_mode": {"support": "full", "description": "Reads only."}},
        "author": ["Someone"],
    },
    "examples": "- name: Run it\n  stability.ops.sample:\n    name: x\n",
    "return": {
        "result": {
            "type": "dict",
            "returned": "always",
            "description": "Out.",
            "contains": {"count": {"type": "int", "returned": "always", "description": "N."}},
        }
    },
}


@pytest.fixture(scope="module")
def dump():
    return build_docs.metadata_dump()


def test_rendered_module_page_converts_markup_and_flattens_suboptions():
    page = build_docs.render_plugin("module", "stability.ops.sample", MODULE_DOC)
    assert page.startswith(build_docs.GENERATED)
    assert "# stability.ops.sample (action plugin)" in page
    assert "Do `one` thing" in page
    assert "Uses `name` and returns `result`." in page
    assert "See `stability.ops.other`." in page
    assert "| `name` | str | yes |  |  | A name \\| with a pipe. |" in page
    assert "| `limits.max` | int |  | `3` |  | At most `3`. |" in page
    assert "| `result.count` | int | always | N. |  |" in page
    assert "```yaml\n- name: Run it\n  stability.ops.sample:\n    name: x\n```" in page
    assert "C(" not in page and "O(" not in page


def test_callback_page_lists_env_and_ini_configuration():
    doc = {
        "doc": {
            "short_description": "S",
            "type": "notification",
            "options": {
                "path": {
                    "type": "path",
                    "default": "x.json",
                    "description": "P.",
                    "env": [{"name": "X_PATH"}],
                    "ini": [{"section": "cb", "key": "path"}],
                }
            },
        }
    }
    page = build_docs.render_plugin("callback", "stability.ops.cb", doc)
    assert "ANSIBLE_CALLBACKS_ENABLED=stability.ops.cb" in page
    assert "| `path` | path |  | `x.json` |  | env `X_PATH`<br>ini `[cb] path` | P. |" in page


def test_every_plugin_and_role_on_disk_has_a_generated_page(dump):
    pages = build_docs.render_all(dump)
    for kind, fqcn in collection_content():
        name = fqcn.rsplit(".", 1)[1]
        page = f"docs/roles/{name}.md" if kind == "role" else f"docs/plugins/{name}_{kind}.md"
        assert page in pages, f"no page for {kind} {fqcn}"
        assert f"# {fqcn} (" in pages[page]


def test_committed_docs_are_fresh():
    result = run(sys.executable, "-m", "stability_ops_dev.build_docs", "--check")
    assert result.returncode == 0, result.stderr


def test_check_reports_changed_missing_and_orphaned_pages(dump, tmp_path):
    pages = build_docs.render_all(dump)
    assert build_docs.write_pages(pages, tmp_path) == sorted(pages)
    assert build_docs.stale_pages(pages, tmp_path) == []
    first = sorted(pages)[0]
    (tmp_path / first).write_text("edited by hand\n")
    (tmp_path / "docs/roles/removed_role.md").write_text("gone\n")
    missing = "docs/plugins/README.md"
    (tmp_path / missing).unlink()
    assert build_docs.stale_pages(pages, tmp_path) == sorted({first, missing, "docs/roles/removed_role.md"})
    build_docs.write_pages(pages, tmp_path)
    assert not (tmp_path / "docs/roles/removed_role.md").exists()
    assert build_docs.stale_pages(pages, tmp_path) == []
