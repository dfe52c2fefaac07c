# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filtering of OpenSSH's moduli(5) file by group size.

sshd picks the Diffie-Hellman groups of ``diffie-hellman-group-exchange-*``
from /etc/ssh/moduli. Each line there is ``time type tests tries size
generator modulus``, where ``size`` is the bit length minus one (4095 for a
4096-bit group). Hardening guides (ssh-audit, Mozilla, dev-sec) remove the
groups under 3072 bits.
"""

from __future__ import annotations

SIZE_FIELD = 4


def group_bits(line):
    """The group size in bits of a moduli line, or None for a comment, a blank or a line that is not one."""
    fields = line.split()
    if len(fields) != 7 or line.lstrip().startswith("#"):
        return None
    try:
        return int(fields[SIZE_FIELD]) + 1
    except ValueError:
        return None


def filter_moduli(text, min_bits):
    """Return (kept text, removed group count, kept group count) with every group under min_bits removed.

    Comments, blank lines and lines that are not groups are kept as they are, so
    the file stays what an administrator recognises.
    """
    kept, removed, groups = [], 0, 0
    for line in text.splitlines(keepends=True):
        bits = group_bits(line)
        if bits is not None and bits < min_bits:
            removed += 1
            continue
        if bits is not None:
            groups += 1
        kept.append(line)
    return "".join(kept), removed, groups
