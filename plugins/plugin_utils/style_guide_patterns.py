# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCRE2 building blocks shared by the rules (ripgrep ``-U -P``).

Rules that reason about Ansible structure rely on yamllint-clean indentation:
sequences indented under their key and mapping keys two columns after ``- ``.
Every pattern is compiled by ripgrep, never by Python.
"""

from __future__ import annotations

# Keys whose value is a list of tasks (or plays at the top of a playbook).
TASK_LIST_KEYS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")

# A blank line or a comment line at any indentation.
BLANK_OR_COMMENT = r"[ \t]*+(?:#[^\n]*)?\n"


def item_line(group: str) -> str:
    """One line that belongs to the item whose dash is indented by ``group``.

    Either a content line at the item's key column or deeper, or a blank or
    comment line. The two branches never match the same text, so lazy scans
    over an item cannot backtrack exponentially.
    """
    return rf"(?:\k<{group}>[ ]{{2}}[ ]*+[^ \t\n#][^\n]*\n|{BLANK_OR_COMMENT})"


def item_key(group: str, key: str) -> str:
    """Zero-width: the item that starts here (just after ``- ``) has ``key`` at its key column."""
    return rf"(?=(?:{key})|[^\n]*\n{item_line(group)}*?\k<{group}>[ ]{{2}}(?:{key}))"


def item_contains(group: str, text: str) -> str:
    """Zero-width: ``text`` occurs somewhere in the item that starts here."""
    return rf"(?=[^\n]*(?:{text})|[^\n]*\n{item_line(group)}*?\k<{group}>[ ]{{2}}[^\n]*(?:{text}))"


def _skip_block(value: str) -> str:
    """A mapping key whose value is ``value``, with its nested block, then skipped.

    ``(*SKIP)(*FAIL)`` makes the search resume after the block, so no other
    branch of the pattern can match inside it.
    """
    return (
        rf"^(?<sk>[ ]*)(?<skd>-[ ])?(?!(?:{'|'.join(TASK_LIST_KEYS)}):)[\w.$/-]+:{value}[ \t]*(?:#[^\n]*)?\n"
        rf"(?:(?:(?(skd)\k<sk>[ ]{{2}}|\k<sk>)[ ]++[^ \t\n#][^\n]*|{BLANK_OR_COMMENT[:-2]})\n)*+(*SKIP)(*FAIL)"
    )


# Block scalars (``key: |`` and ``key: >-``): their text is data, not YAML.
SKIP_BLOCK_SCALARS = _skip_block(r"[ \t]+[|>][-+0-9]*")
# Everything nested under a key that is not a task list (vars, loop, module
# arguments, tags, ...) and block scalars: what remains are plays and tasks.
SKIP_DATA = _skip_block(r"(?:[ \t]+[|>][-+0-9]*)?")


def with_skip(skip: str, *alternatives: str) -> str:
    """Multiline pattern: the first alternative that matches wins, skipped blocks never match.

    Every alternative runs to the end of its line: ripgrep resumes the search
    where the previous match ended as if a new text started there (``^``
    matches), so a match ending mid-line would let ``skip`` start mid-line and
    swallow the next lines.
    """
    return "(?m)" + "|".join((*(f"(?:{alt})[^\n]*" for alt in alternatives), skip))


ITEM = r"^(?<it>[ ]*)-[ ]"
"""Start of a task, handler or play item; rules continue right after ``- ``."""
