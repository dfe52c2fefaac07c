# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the work is done on the controller by the
# action plugin plugins/action/style_guide.py; no module runs on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: style_guide
short_description: Check a repository against the stability.ops style guide
version_added: 0.1.0
description:
  - Controller-side check (no module is sent to any host) of the files of a repository, normally the user's own
    infrastructure repository, against the style guide of this collection.
  - The content rules are multiline PCRE2 patterns run by ripgrep (C(rg -U -P)) over YAML, Jinja, Python and shell
    files (FQCN, truthy values, C(changed_when) on command tasks, C(ignore_errors), task and play names, plaintext
    secrets, play-level C(become) without a reason, the C(ansible_managed) header of role templates, trailing
    whitespace and tabs), plus path hygiene (recursive copies, editor leftovers, empty files).
  - The files are those of C(git ls-files -co --exclude-standard) when O(root) is in a git work tree, every file
    under O(root) otherwise. C(.git/), C(.venv/), C(.cache/) and C(.collections/) at the root and every
    C(ansible_collections/) tree (installed or vendored collections, for example C(collections/ansible_collections/))
    are never checked.
  - "C(.styleignore) at O(root) skips files or rules (C(GLOB [RULE-ID ...]) per line) and turns on opt-in rules
    (C(@enable RULE-ID ...)); a C(style-ignore: RULE-ID) comment skips a rule on one line. Unknown rule ids and
    ignores that suppress nothing are violations too."
  - Fails when there is any violation, with a message that gives the total count and lists the first 20, one per
    line, each as the path and line, the rule id, the message and the fix hint; RV(violations) holds every one.
    Secret values are never reported.
  - The rules live in C(plugins/plugin_utils/style_guide_rules.py) and the engine in
    C(plugins/plugin_utils/style_guide_engine.py); the rule table is in the collection's C(docs/style-guide.md).
  - The collection playbook C(stability.ops.style_guide) runs this on C(localhost) for the current directory.
options:
  root:
    description:
      - The repository to check. A relative path is relative to the current directory of C(ansible-playbook).
      - Defaults to the current directory of C(ansible-playbook), not the playbook's directory.
    type: path
  paths:
    description:
      - Check only these files and directories, relative to O(root) (or absolute, inside O(root)).
      - Defaults to the whole repository. A partial run does not report stale C(.styleignore) entries.
    type: list
    elements: path
  rules:
    description:
      - Apply only these rule ids (the ignore bookkeeping rules C(unknown-rule-id) and C(unused-ignore) always
        run). Opt-in rules named here run even when C(.styleignore) does not enable them.
      - Defaults to every rule that is not opt-in, plus the opt-in rules C(.styleignore) enables.
      - An unknown id fails the task.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: It only reads files, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: It changes nothing, so there is no diff to show.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the controller only (an action plugin); no connection is made and no module is sent to a host.
        The controller needs C(rg) (ripgrep) built with PCRE2 (Debian package C(ripgrep)) and, for a git
        repository, C(git).
author:
  - Stability Ops maintainers (@stability-ops)
notes:
  - It writes nothing, neither to the checked repository nor to the collection.
seealso:
  - name: Style guide
    description: The rules with their messages and fix hints, the ignore syntax and the opt-in rules.
    link: https://example.invalid/stability/ops/docs/style-guide.md
"""

EXAMPLES = r"""
- name: Check the repository in the current directory
  stability.ops.style_guide:

- name: Check two roles of another repository for FQCN and truthy values only
  stability.ops.style_guide:
    root: /srv/infra
    paths:
      - roles/web
      - roles/db
    rules:
      - fqcn
      - truthy
"""

RETURN = r"""
violations:
  description: Every violation, sorted by path, line and rule.
  returned: success
  type: list
  elements: dict
  contains:
    path: {description: Path relative to O(root) (a directory ends with C(/))., type: str}
    line: {description: Line of the violation (1 for file and path findings)., type: int}
    rule: {description: The rule id., type: str}
    message: {description: What the rule found., type: str}
    detail: {description: "A short, secret-free pointer to what matched (may be empty).", type: str}
    fix: {description: How to fix it., type: str}
  sample:
    - path: roles/web/tasks/main.yml
      line: 3
      rule: truthy
      message: YAML 1.1 truthy value (yes/no/on/off/True/False)
      detail: ""
      fix: write the boolean as lowercase true or false
files:
  description: How many files were checked.
  returned: success
  type: int
  sample: 42
rules:
  description: The rule ids this run applied.
  returned: success
  type: list
  elements: str
root:
  description: The absolute path of the checked repository.
  returned: always
  type: str
  sample: /srv/infra
msg:
  description:
    - The verdict, the number of violations and checked files, then at most 20 violations.
    - "One line per violation: C(path:line RULE-ID message), the detail in parentheses when there is one, then
      the fix hint in parentheses after C(fix:)."
  returned: always
  type: str
"""
