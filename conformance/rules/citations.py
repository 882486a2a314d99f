"""Citations of the kernel-formats reference, written so that they stand on their own.

Rule sources cite the team's reference on what kernels print by section number
(``kernel-formats.md §5.3``), which means nothing to a user who has only the installed
tool. :func:`cite` replaces each such citation with the section's title, quoted, and
says where the reference is (``docs/reference/kernel-formats.md`` of the source
distribution); reporters and ``explain`` show sources through it.
"""

from __future__ import annotations

import re

REFERENCE = "the kernel-formats reference (docs/reference/kernel-formats.md in the source)"

SECTIONS = {
    # section number: title, as the headings of docs/reference/kernel-formats.md read
    "1.5": "Which driver fed which counter in the RFC, and in what units",
    "2.3": "Hyper-V: /sys/kernel/debug/hv-balloon, Exact format",
    "2.4": "Hyper-V: /sys/kernel/debug/hv-balloon, Invariants",
    "3": "VMware: /sys/kernel/debug/vmmemctl",
    "3.2": "VMware: /sys/kernel/debug/vmmemctl, Generation B: about 4.4 to 4.19",
    "3.3": "VMware: /sys/kernel/debug/vmmemctl, Generation C: v4.20 and later (current)",
    "4.2": "virtio: /sys/bus/virtio/devices/virtioN/features, features format",
    "5.3": "How balloon memory appears upstream",
    "8": "Summary of per-file rules",
}

_CITATION = re.compile(r"kernel-formats\.md((?:,? §\d+(?:\.\d+)?)+)")
_NUMBER = re.compile(r"§(\d+(?:\.\d+)?)")


def cite(text: str) -> str:
    """``text`` with every ``kernel-formats.md §N`` citation written as quoted titles."""

    def titles(match: re.Match[str]) -> str:
        names = [SECTIONS.get(n, f"section {n}") for n in _NUMBER.findall(match[1])]
        return f"{REFERENCE}: " + "; ".join(f"'{name}'" for name in names)

    return _CITATION.sub(titles, text)


def cited_sections(text: str) -> list[str]:
    """The section numbers ``text`` cites (to check that each has a title)."""
    return [n for m in _CITATION.finditer(text) for n in _NUMBER.findall(m[1])]
