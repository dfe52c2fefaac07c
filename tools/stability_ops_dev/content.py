"""What ansible-doc should document for a file of the collection: one definition for the release check and the tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

# The name in a plugin's inline DOCUMENTATION string.
_DOCUMENTED_NAME = re.compile(r'^DOCUMENTATION\s*=\s*r?"""\s*\n(?:.*\n)*?name:\s*(\w+)', re.MULTILINE)
_SKIPPED_DIRS = ("module_utils", "plugin_utils", "doc_fragments")


def documented_plugins(member: str, read: Callable[[], str]) -> list[tuple[str, str]]:
    """(ansible-doc type, FQCN) documented by one file, given its path in the collection and a reader of its text
    (called only for the filter and test files, whose names are in their DOCUMENTATION).

    Filter and test files hold several plugins, each documented by its name, in the .py itself or in a
    <name>.yml sidecar beside it; any other plugin is named after its .py file (action plugins by their module).
    """
    path = PurePosixPath(member)
    if len(path.parts) != 3 or path.parts[0] != "plugins" or path.parts[1] in _SKIPPED_DIRS:
        return []
    kind = path.parts[1]
    if path.stem == "__init__":
        return []
    if kind in ("filter", "test"):
        if path.suffix == ".yml":
            return [(kind, f"stability.ops.{path.stem}")]
        documented = _DOCUMENTED_NAME.search(read()) if path.suffix == ".py" else None
        return [(kind, f"stability.ops.{documented[1]}")] if documented else []
    if path.suffix != ".py":
        return []
    return [("module" if kind in ("modules", "action") else kind, f"stability.ops.{path.stem}")]
