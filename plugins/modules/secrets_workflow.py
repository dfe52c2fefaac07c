# Copyright: Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the work is done on the controller by the
# action plugin plugins/action/secrets_workflow.py; no module runs on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: secrets_workflow
short_description: Add placeholder secrets, migrate Ansible Vault to SOPS, rotate age keys
version_added: 0.1.0
description:
  - Controller-side secrets tooling (no module is sent to any host), run from the user's own repository by the
    collection playbooks C(stability.ops.add_placeholders), C(stability.ops.migrate_vault_to_sops) and
    C(stability.ops.rotate_keys).
  - O(operation=add_placeholders) adds the keys of a required secrets spec that the target file lacks, with
    generated values. It never overwrites an existing value, keeps comments and order and writes SOPS (through the
    sops binary) or, for a file still on Ansible Vault, Vault. Nothing is written when no key is missing. It refuses
    a creation rule that would leave a generated value or a secret-looking key in clear (for example an
    C(encrypted_regex) of C(^(data|stringData\)$)), and checks the ciphertext before writing it.
  - O(operation=migrate_vault_to_sops) moves an Ansible Vault file to SOPS with age. It refuses unless the keys are
    verified (the vault id decrypts the source, C(.sops.yaml) has valid age recipients for the target, the local
    age key is one of them and a canary round trip works) and unless the creation rule encrypts every
    secret-looking key. Before the Vault source is removed, the new file's metadata and ciphertext are checked
    (recipients equal to the rule, every secret-looking value C(ENC[...])) and it must decrypt to identical
    values, in memory and again from disk. The Vault backup C(SOURCE.vault-backup) is always kept; remove it
    yourself. A file already migrated is left alone.
  - O(operation=rotate_keys) adds or removes an age recipient (C(sops updatekeys)), rotates the data keys
    (C(sops rotate)) or verifies every SOPS file, of every type sops reads (YAML, JSON, dotenv, INI, binary),
    recognised by its own sops metadata rather than its name. Every file and C(.sops.yaml) are restored when sops
    or the verification after the change fails. Removing a recipient always rotates the data keys too.
  - A rotation records its plan and each file's progress in a journal, C(.stability-ops-rotation.json) next to
    C(.sops.yaml) (file names, states and the public key only, written atomically). A run that was killed is
    finished by running the same rotation again, which completes only the files not yet done; another rotation
    and V(verify) are refused while a journal is pending.
  - Adding or removing a recipient fails, changing nothing, when a creation rule uses C(key_groups) or has no age
    recipients (PGP, KMS only); the message says how to rewrite such a rule by hand.
  - Plaintext only lives in memory and in pipes to sops. The result and the messages hold file names, key names
    and public keys, never a secret value; a key name that looks like a value is shown as C(<redacted key>).
    sops' and YAML errors keep their reason (file, line, the hint about E(SOPS_AGE_KEY_FILE)) without values.
  - Relative paths are relative to the current working directory of C(ansible-playbook) (run it from the root of
    your repository), never to the playbook's directory. Files are only written where the options point.
  - The logic lives in C(plugins/plugin_utils/secrets_workflows.py).
options:
  operation:
    description: The workflow to run.
    type: str
    required: true
    choices: [add_placeholders, migrate_vault_to_sops, rotate_keys]
  spec:
    description:
      - Required secrets spec for O(operation=add_placeholders), a YAML file with a C(secrets) list (each item a
        C(name) or a mapping with C(name), C(description), C(generator) (V(password), V(hex), V(token) or
        V(uuid)) and C(length) (16 to 256)) and an optional C(target), relative to the spec's directory.
      - Required with O(operation=add_placeholders).
    type: path
  target:
    description:
      - With O(operation=add_placeholders), the secrets file to complete (default the spec's C(target)).
      - With O(operation=migrate_vault_to_sops), the SOPS file to write (default C(NAME.sops.yml) next to the
        source). It may equal O(source) when a creation rule covers that name.
    type: path
  format:
    description:
      - Format of a new O(target) with O(operation=add_placeholders). An existing file keeps its format.
      - Defaults to V(sops).
    type: str
    choices: [sops, vault]
  source:
    description:
      - The Ansible Vault encrypted vars file to migrate. Required with O(operation=migrate_vault_to_sops).
    type: path
  keep_backup:
    description:
      - Deprecated and ignored; will be removed in 1.0.0. The Vault backup C(SOURCE.vault-backup) (mode 0600) is
        always kept after a migration, until you remove it. Setting the option (to any value) gives a deprecation
        warning.
    type: bool
  force:
    description: Overwrite an existing O(target) that is not the source with O(operation=migrate_vault_to_sops).
    type: bool
    default: false
  verify_only:
    description: With O(operation=migrate_vault_to_sops), only verify the keys for the target; change nothing.
    type: bool
    default: false
  rotation:
    description:
      - What O(operation=rotate_keys) does. V(add_recipient) and V(remove_recipient) need O(recipient);
        V(verify) checks that every file decrypts and that its recipients equal its creation rule.
      - Required with O(operation=rotate_keys).
    type: str
    choices: [add_recipient, remove_recipient, rotate_data_key, verify]
  recipient:
    description: The age public key (C(age1...)) to add or remove.
    type: str
  paths:
    description:
      - Files and directories holding the SOPS files to rotate or verify. Defaults to the directory of
        O(sops_config). A path that does not exist is a failure.
    type: list
    elements: path
  sops_config:
    description:
      - The C(.sops.yaml) to use. Searched upwards from each file, as sops does, when not given.
      - Required with O(operation=rotate_keys).
    type: path
  age_key_file:
    description:
      - The age key file sops uses. Defaults to the E(SOPS_AGE_KEY_FILE) environment variable of the controller.
      - The migration refuses a key file readable by group or others.
    type: path
  sops_binary:
    description: The sops executable. Defaults to C(sops) on E(PATH).
    type: path
  vault_ids:
    description:
      - Vault ids and password files as C(ID@FILE), as C(--vault-id) takes them. They come before the vault
        secrets of the run (C(--vault-id), C(--vault-password-file), C(vault_identity_list) in C(ansible.cfg)),
        which are always used too. A password file that is executable is run as a vault password client.
    type: list
    elements: str
  vault_password_files:
    description: Password files for the default vault id, as C(--vault-password-file) takes them.
    type: list
    elements: path
attributes:
  check_mode:
    support: full
    description:
      - Check mode decrypts, encrypts and verifies in memory as a real run does and reports what would change
        (C(changed), the key names, the steps), but writes nothing.
  diff_mode:
    support: none
    description: A diff would show secret values, so there is none.
  platform:
    support: full
    platforms: posix
    description:
      - Runs on the controller only (an action plugin); no module is sent to a host. The controller needs
        C(sops) and, for recipient checks of a key file without a public key comment, C(age-keygen).
author:
  - Stability Ops maintainers (@stability-ops)
notes:
  - Run it through the collection playbooks, or on C(localhost) with C(gather_facts=false).
  - Messages name the option and the playbook variable (C(stability_ops_secrets_<option>)) to set.
seealso:
  - name: Secrets guide
    description: The secrets rules, the playbooks and the lab.
    link: https://example.invalid/stability/ops/docs/secrets.md
  - name: Migrating from Ansible Vault to SOPS
    description: Step by step migration of an inventory.
    link: https://example.invalid/stability/ops/docs/sops-migration.md
  - name: Age key rotation
    description: Standard operating procedure for recipients and data keys.
    link: https://example.invalid/stability/ops/docs/key-rotation.md
  - module: stability.ops.preflight_secrets
"""

EXAMPLES = r"""
- name: Add the missing required secrets with generated placeholders
  stability.ops.secrets_workflow:
    operation: add_placeholders
    spec: secrets/required_secrets.yml

- name: Migrate a Vault file to SOPS (vault password from --vault-id prod@FILE)
  stability.ops.secrets_workflow:
    operation: migrate_vault_to_sops
    source: inventories/prod/group_vars/all/secrets.generated.yml

- name: Add an age recipient to every creation rule and SOPS file
  stability.ops.secrets_workflow:
    operation: rotate_keys
    sops_config: inventories/prod/.sops.yaml
    rotation: add_recipient
    recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
"""

RETURN = r"""
operation:
  description: The operation that ran.
  returned: always
  type: str
  sample: add_placeholders
msg:
  description: Human readable outcome, or the refusal with what to do. Never holds a value.
  returned: always
  type: str
  sample: "/srv/infra/group_vars/all/secrets.sops.yml (sops): 2 added, 1 kept, written; added: api_token, db_password"
target:
  description: The secrets file completed, or the SOPS file of a migration.
  returned: success and O(operation) is V(add_placeholders) or V(migrate_vault_to_sops)
  type: str
format:
  description: Format of the target, V(sops) or V(vault).
  returned: success and O(operation=add_placeholders)
  type: str
added:
  description: Names of the keys added (or that would be added in check mode).
  returned: success and O(operation=add_placeholders)
  type: list
  elements: str
existing:
  description: Names of the keys of the spec the target already held (left untouched).
  returned: success and O(operation=add_placeholders)
  type: list
  elements: str
written:
  description: Whether the target was written.
  returned: success and O(operation=add_placeholders)
  type: bool
source:
  description: The Vault file migrated.
  returned: success and O(operation=migrate_vault_to_sops)
  type: str
backup:
  description: Path of the Vault backup, always kept until you remove it.
  returned: success and O(operation=migrate_vault_to_sops) without O(verify_only)
  type: str
key_count:
  description: Number of top-level keys migrated.
  returned: success and O(operation=migrate_vault_to_sops) without O(verify_only)
  type: int
names:
  description: Names of the top-level keys migrated (a name that looks like a value is C(<redacted key>)).
  returned: success and O(operation=migrate_vault_to_sops) without O(verify_only)
  type: list
  elements: str
backup_kept:
  description: Whether a Vault backup exists (always true after a migration that wrote the SOPS file).
  returned: success and O(operation=migrate_vault_to_sops) without O(verify_only)
  type: bool
source_removed:
  description: Whether the Vault source was removed (it is not when the target equals the source).
  returned: success and O(operation=migrate_vault_to_sops) without O(verify_only)
  type: bool
config:
  description: The C(.sops.yaml) used.
  returned: success and O(operation=rotate_keys), or O(verify_only=true)
  type: str
recipients:
  description: Age public keys of the creation rule that covers the target.
  returned: success and O(verify_only=true)
  type: list
  elements: str
files:
  description: The SOPS files rotated or verified.
  returned: success and O(operation=rotate_keys)
  type: list
  elements: str
resumed:
  description: Whether the run finished a rotation interrupted earlier (from its journal).
  returned: success and O(operation=rotate_keys)
  type: bool
rules_changed:
  description: Creation rules of C(.sops.yaml) whose recipients changed (or would change).
  returned: success and O(operation=rotate_keys)
  type: list
  elements: str
steps:
  description: What was done (or would be done in check mode), in order.
  returned: success and O(operation) is V(migrate_vault_to_sops) or V(rotate_keys)
  type: list
  elements: str
"""
