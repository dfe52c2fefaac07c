# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the work is done on the controller by the
# action plugin plugins/action/preflight_secrets.py; no module runs on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight_secrets
short_description: Assert that no plaintext secret can reach a host, a log or the repository
version_added: 0.1.0
description:
  - Controller-side check (no module is sent to any host) of every file that ansible-core loads for the run.
  - What it reads, as ansible-core 2.19 reads it (O(discover=true)) - the inventory sources themselves (INI host and
    group variables such as C(ansible_password=), YAML/JSON/TOML inventories, directories walked as the inventory
    manager walks them); every C(group_vars)/C(host_vars) file next to an inventory source or a playbook of the run,
    found as the C(host_group_vars) vars plugin finds it (no extension or C(.yml)/C(.yaml)/C(.json), directories
    recursed, hidden and backup files skipped, symlinks followed, host names such as C(db1.example.com)); the
    C(vars_files), C(include_vars) and role C(vars)/C(defaults) files reached statically from the playbooks on the
    command line and the playbooks they import.
  - What it cannot read is listed under RV(unscanned) and in the message, by name and reason, never silently -
    host lists (C(-i web1,)) load no file, inventory scripts and plugin configurations return hosts it cannot see,
    templated paths are not guessed.
  - A file passes only if it is a well-formed Ansible Vault file (C($ANSIBLE_VAULT;1.1;AES256), or C(1.2) with a
    vault id), a complete SOPS file (mac, lastmodified, version, recipients equal to the matching C(.sops.yaml)
    creation rule, every value encrypted that sops encrypts), or a plain vars file with no secret-looking key
    (password, token, secret, key, ...) unless its value is an inline C(!vault).
  - Hygiene is checked too. Private key material (age, PEM, OpenSSH) and vault password text must not appear in
    any file of the repository or inventory tree, tracked by git or not; the age key file must live outside the
    repository and inventory; key files and vault password files (configured or given with
    C(--vault-password-file)/C(--vault-id)) must not be readable by group or others.
  - Fails with one message listing every offending file and the rule it broke. The message and the result
    never contain a secret value.
  - The rules live in C(plugins/plugin_utils/secrets_preflight.py), the discovery in
    C(plugins/plugin_utils/secrets_discovery.py); both are shared with the scripts and tests.
options:
  paths:
    description:
      - Extra files, directories (walked recursively, vars files only) and globs to check, on top of what ansible
        loads for the run.
      - A relative path resolves against the directory of the first playbook of the run (never the installed
        collection), then against each inventory directory. An explicit path that does not exist is a failure.
    type: list
    elements: path
  discover:
    description:
      - Read what ansible-core loads for this run (inventory sources, C(group_vars)/C(host_vars), C(vars_files),
        C(include_vars), role vars). With V(false) only O(paths) and the hygiene checks run.
    type: bool
    default: true
  decrypt:
    description:
      - Also prove that every Vault file and inline C(!vault) value decrypts with the vault ids given to this
        run (C(--vault-id)/C(--vault-password-file)), and that every SOPS file decrypts with the available age
        key. Decrypted data is discarded at once and never returned.
    type: bool
    default: false
  sops_config:
    description:
      - Path of the C(.sops.yaml) to use for every file. By default it is searched upwards from each file,
        as sops does.
    type: path
  age_key_file:
    description:
      - The age key file sops uses. Defaults to the E(SOPS_AGE_KEY_FILE) environment variable of the controller.
      - It must exist when O(decrypt=true), have mode 0600 or stricter and live outside the repository and
        inventory.
    type: path
  sops_binary:
    description: The sops executable. Defaults to C(sops) on E(PATH).
    type: path
  repository_root:
    description:
      - Root of the repository for the hygiene checks. Defaults to the git top level of the first inventory
        directory (or of the playbook directory without one), or that directory when it is not in a git
        repository.
    type: path
  scan_tree:
    description:
      - Scan for private key material and vault password text, whatever the extension, every file of each
        inventory directory and each playbook directory of the run (git-ignored ones too; virtualenvs and tool
        caches skipped) and every tracked or untracked, not git-ignored, file of O(repository_root) (every file
        when it is not a git work tree). Reads are bounded per file; large files are still scanned.
    type: bool
    default: true
    aliases: [scan_tracked_files]
  secret_key_regex:
    description: Extra regular expression (case-insensitive, searched) for key names that must be treated as secret.
    type: str
  secret_key_ignore_regex:
    description: Regular expression of key names that are never treated as secret (for false positives).
    type: str
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
      - Runs on the controller only (an action plugin); no module is sent to a host, so the targets' platform does
        not matter. The controller needs C(git) for the tracked files of O(scan_tree) and, with O(decrypt=true),
        C(sops).
author:
  - Stability Ops maintainers (@stability-ops)
notes:
  - Run it on C(localhost) with C(gather_facts=false) before any play that touches a host, as
    C(stability.ops.preflight_assertions) does.
seealso:
  - name: Secrets guide
    description: How the rules, the SOPS migration and the key rotation fit together.
    link: https://example.invalid/stability/ops/docs/secrets.md
"""

EXAMPLES = r"""
- name: Assert secrets of the inventory before touching any host
  stability.ops.preflight_secrets:
    decrypt: true

- name: Also check files ansible does not load by itself (relative to the playbook directory)
  stability.ops.preflight_secrets:
    paths:
      - files/credentials
      - "secrets*.yml"
    secret_key_ignore_regex: "^core_ssh_host_key$"

- name: Only explicit paths and the hygiene checks
  stability.ops.preflight_secrets:
    discover: false
    paths: [inventories/prod/group_vars]
"""

RETURN = r"""
files:
  description: One entry per checked file (and per hygiene or layout finding, such as a symlink loop).
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: Path relative to the repository root., type: str}
    kind:
      description: "vault, sops, plain, binary, invalid, symlink, missing, tracked or a key file label."
      type: str
    ok: {description: Whether the file passed every rule., type: bool}
    decrypted: {description: Whether decryption was proven (with O(decrypt=true))., type: bool}
    violations:
      description: Rules the file broke, each with C(rule) and a value-free C(detail).
      type: list
      elements: dict
violations:
  description: Flat list of every violation with its C(path), C(rule) and C(detail).
  returned: always
  type: list
  elements: dict
unscanned:
  description:
    - Sources that ansible reads but whose content was not checked, each with C(source) (a path, a host list or a
      templated path as written) and a value-free C(reason). Also listed in RV(msg).
  returned: always
  type: list
  elements: dict
  sample: [{source: "web1,", reason: "host list: it names hosts only and loads no file; ..."}]
summary:
  description: Counts of checked, offending and unscanned sources, by kind and by rule.
  returned: always
  type: dict
  sample: {checked: 3, offending: 1, unscanned: 0, by_kind: {plain: 2, sops: 1}, rules: {plaintext-secret: 1}}
msg:
  description: Human readable verdict listing every offending file and rule.
  returned: always
  type: str
"""
