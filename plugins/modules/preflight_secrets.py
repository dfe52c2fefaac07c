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
  - Controller-side check (no module is sent to any host) of every vars and secrets file.
  - A file passes only if it is a well-formed Ansible Vault file (C($ANSIBLE_VAULT;1.1;AES256), or C(1.2) with a
    vault id), a complete SOPS file (mac, lastmodified, version, at least one age recipient, every value
    C(ENC[AES256_GCM,...]) except keys excluded by the file's C(unencrypted_suffix)/C(unencrypted_regex), recipients
    equal to the matching C(.sops.yaml) creation rule), or a plain vars file with no secret-looking key (password,
    token, secret, key, ...) unless its value is an inline C(!vault).
  - Hygiene is checked too. Age private keys and vault password text must not appear in any checked or
    git-tracked file, the age key file must live outside the repository and inventory, and key files must not be
    readable by group or others.
  - Fails with one message listing every offending file and the rule it broke. The message and the result
    never contain a secret value.
  - The rules live in C(plugins/plugin_utils/secrets_preflight.py) and are shared with the scripts and tests.
options:
  paths:
    description:
      - Files, directories (walked recursively, vars files only) and globs to check. Relative paths are relative
        to the playbook directory.
      - Defaults to C(group_vars/), C(host_vars/) and C(secrets*.yml) next to every inventory source
        (from C(ansible_inventory_sources)). Default paths that do not exist are skipped; an explicit path that
        does not exist is a failure.
    type: list
    elements: path
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
        directory, or that directory when it is not in a git repository.
    type: path
  scan_tracked_files:
    description: Scan every git-tracked file of O(repository_root) for age private keys and vault password text.
    type: bool
    default: true
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
        not matter. The controller needs C(git) for O(scan_tracked_files) and, with O(decrypt=true), C(sops).
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

- name: Check explicit files and a glob
  stability.ops.preflight_secrets:
    paths:
      - "{{ inventory_dir }}/group_vars"
      - "{{ inventory_dir }}/secrets*.yml"
    secret_key_ignore_regex: "^core_ssh_host_key$"
"""

RETURN = r"""
files:
  description: One entry per checked file (and per hygiene finding).
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
summary:
  description: Counts of checked and offending files, by kind and by rule.
  returned: always
  type: dict
  sample: {checked: 3, offending: 1, by_kind: {plain: 2, sops: 1}, rules: {plaintext-secret: 1}}
msg:
  description: Human readable verdict listing every offending file and rule.
  returned: always
  type: str
"""
