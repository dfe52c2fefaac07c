#!/usr/bin/python
# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN come first, as ansible-doc expects.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: ssh_moduli
short_description: Remove small Diffie-Hellman groups from OpenSSH's moduli file
version_added: 0.1.0
description:
  - Removes from the moduli(5) file every Diffie-Hellman group smaller than O(min_bits), so that the
    C(diffie-hellman-group-exchange-sha256) key exchange of sshd never offers a small group.
  - Comments and blank lines are kept. The file is rewritten atomically with its owner and mode, only when a
    group is removed.
  - Fails, and changes nothing, when no group of at least O(min_bits) would be left, since sshd would then fall back
    to a fixed group and the key exchange would no longer be what the configuration says.
author:
  - Stability Ops maintainers (@stability-ops)
attributes:
  check_mode:
    support: full
    description: In check mode the module reports what it would remove and writes nothing.
  diff_mode:
    support: partial
    description: The diff names how many groups would be removed, not the groups themselves (a moduli file has hundreds
      of lines of hexadecimal).
  platform:
    support: full
    platforms: posix
    description: Hosts with OpenSSH's moduli(5) file (Debian's C(openssh-server) ships C(/etc/ssh/moduli)).
options:
  path:
    description: The moduli file.
    type: path
    default: /etc/ssh/moduli
  min_bits:
    description: The smallest group size to keep, in bits (ssh-audit and dev-sec use 3072).
    type: int
    default: 3072
seealso:
  - name: moduli(5)
    description: The format of the file.
    link: https://man.openbsd.org/moduli.5
"""

EXAMPLES = r"""
- name: Keep only Diffie-Hellman groups of 3072 bits and more
  stability.ops.ssh_moduli:
    min_bits: 3072
  become: true
  notify: Reload sshd
"""

RETURN = r"""
removed:
  description: How many groups were (in check mode, would be) removed.
  returned: success
  type: int
  sample: 148
kept:
  description: How many groups of at least O(min_bits) the file holds afterwards.
  returned: success
  type: int
  sample: 267
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stability.ops.plugins.module_utils.ssh_moduli import filter_moduli

ARGUMENT_SPEC = {
    "path": {"type": "path", "default": "/etc/ssh/moduli"},
    "min_bits": {"type": "int", "default": 3072},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path, min_bits = module.params["path"], module.params["min_bits"]
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg=f"cannot read {path}: {exc}")
    kept_text, removed, kept = filter_moduli(text, min_bits)
    if kept == 0:
        module.fail_json(
            msg=f"{path} holds no Diffie-Hellman group of {min_bits} bits or more; regenerate it "
            f"(ssh-keygen -M generate) or lower min_bits",
            removed=removed,
            kept=kept,
        )
    result = {"changed": removed > 0, "removed": removed, "kept": kept}
    if removed and module._diff:  # pylint: disable=protected-access
        result["diff"] = {
            "before_header": path,
            "after_header": path,
            "before": f"{removed + kept} groups\n",
            "after": f"{kept} groups ({removed} under {min_bits} bits removed)\n",
        }
    if removed and not module.check_mode:
        # Written next to the file, then moved over it: atomic_move keeps the
        # file's owner, mode and security context.
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".moduli.")
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(kept_text)
        module.atomic_move(temp, path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
