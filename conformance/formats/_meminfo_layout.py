"""The kernel's printf templates for ``/proc/meminfo`` lines, and the fields it knows.

One function prints each kind of line (:func:`field_line`, :func:`row_line` and the
2.4 :data:`HEADER`); the renderer and the exact-layout check both call it, so every
template exists once. Widths come from ``fs/proc/meminfo.c`` (kernel-formats.md §5.1):

* ``show_val_kb()`` lines: a 16-character label (key, colon, padding), ``%8lu``, `` kB``;
  kernels before the split-LRU rework (2.6.28) and 2.4 used 14-character labels;
* exceptions with their own widths: ``HardwareCorrupted`` and ``EarlyMemtestBad``
  (``%5lu`` after a 19-character label), the ``HugePages_*`` counts (19 characters,
  ``%5lu``, no unit; 17 characters on the old kernels), ``Hugepagesize`` (``%5lu``
  after 17 characters on the old kernels) and powerpc's 17-character ``DirectMap64k``;
* ``ShadowCallStack:`` fills its 16 characters, so an 8-digit value touches the colon:
  padding the label to its width with no minimum gap gives exactly that.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

MODERN_WIDTH = 16
OLD_WIDTH = 14
"""Label width of 2.4 and of 2.6 kernels before 2.6.28 (``"MemTotal:     %8lu kB"``)."""

KNOWN_FIELDS: tuple[str, ...] = (
    # §5.2, in the order of the current fs/proc/meminfo.c
    "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached",
    "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)",
    "Inactive(file)", "Unevictable", "Mlocked",
    "HighTotal", "HighFree", "LowTotal", "LowFree", "MmapCopy",
    "SwapTotal", "SwapFree", "Zswap", "Zswapped",
    "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable",
    "Slab", "SReclaimable", "SUnreclaim", "Ftrace", "KernelStack", "ShadowCallStack",
    "PageTables", "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
    "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk",
    "Percpu", "EarlyMemtestBad", "HardwareCorrupted", "AnonHugePages",
    "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
    "CmaTotal", "CmaFree",
    # the RFC's pair sat here, on its 6.1 base (§1.3)
    "InflatedTotal", "InflatedFree",
    "Unaccepted", "Balloon", "GPUActive", "GPUReclaim",
    "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp",
    "Hugepagesize", "Hugetlb",
    # arch_report_meminfo(): x86, powerpc radix, s390
    "DirectMap4k", "DirectMap64k", "DirectMap1M", "DirectMap2M", "DirectMap4M",
    "DirectMap1G", "DirectMap2G",
    # 2.4 kernels, and vendor kernels that kept the 2.4 header
    "MemShared",
)  # fmt: skip
KNOWN = frozenset(KNOWN_FIELDS)

HUGE_PAGE_COUNTS = frozenset(
    {"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"}
)
"""Counts of default-size huge pages: the only lines without a unit."""

INFLATED = ("InflatedTotal", "InflatedFree")
"""The RFC's pair, printed with ``%8ld``: signed."""

PRINTED_BEFORE_INFLATED = frozenset(KNOWN_FIELDS[: KNOWN_FIELDS.index("InflatedTotal")])
"""Fields the RFC's code prints before its two lines (its proc.rst example does not)."""

HEADER = "        total:    used:    free:  shared: buffers:  cached:"
"""The 2.4 header line (``meminfo_read_proc`` in 2.4 ``fs/proc/proc_misc.c``)."""

ROWS: dict[str, tuple[str, ...]] = {
    "Mem": ("total", "used", "free", "shared", "buffers", "cached"),
    "Swap": ("total", "used", "free"),
}
"""The 2.4 rows under the header, in bytes: ``"Mem:  %8Lu %8Lu ..."``, ``"Swap: %8Lu ..."``."""

HEADER_WORDS = HEADER.split()
_MEMTOTAL = re.compile(r"^MemTotal:(\s*)([0-9]+)")
"""Linear: anchored, and the spaces and the digits are told apart by their first character."""


def is_header(text: str) -> bool:
    """Whether ``text`` is the 2.4 header, however it is spaced (words split by
    whitespace; a regular expression with a ``\\s+`` per gap would do the same work
    with more steps)."""
    return "cached:" in text and text.split() == HEADER_WORDS


def padded_like_meminfo(text: str) -> bool:
    """Whether the value of a ``Key: value`` line stands at least two spaces after the
    colon, as ``%-16s%8lu`` puts every meminfo value of eight digits or fewer and the
    RFC's ``"InflatedTotal:  %8ld kB"`` every one; its debugfs example has one space."""
    _, colon, rest = text.partition(":")
    return bool(colon) and rest.startswith("  ")


@dataclass(frozen=True)
class Template:
    """One line's printf shape: ``%-{label}s%{value}lu`` and an optional `` kB``."""

    label_width: int
    value_width: int
    unit: bool


_ANY_GENERATION = {
    "HardwareCorrupted": Template(19, 5, True),  # "HardwareCorrupted: %5lu kB"
    "EarlyMemtestBad": Template(19, 5, True),  # "EarlyMemtestBad:   %5lu kB"
    "DirectMap64k": Template(17, 8, True),  # powerpc radix: "DirectMap64k:    %8lu kB"
}
_HUGETLB = {
    MODERN_WIDTH: {
        **{key: Template(19, 5, False) for key in HUGE_PAGE_COUNTS},
        "Hugepagesize": Template(16, 8, True),
    },
    # 2.6 before the hstate rework: "HugePages_Total: %5lu", "Hugepagesize:    %5lu kB"
    OLD_WIDTH: {
        **{key: Template(17, 5, False) for key in HUGE_PAGE_COUNTS},
        "Hugepagesize": Template(17, 5, True),
    },
}


def template(key: str, label_width: int, unit: bool = True) -> Template:
    """The template of ``key`` in a file whose labels are ``label_width`` wide.

    ``unit`` is used for keys this module does not know, whose unit only the text shows.
    """
    special = _ANY_GENERATION.get(key) or _HUGETLB.get(label_width, {}).get(key)
    if special is not None:
        return special
    if key in KNOWN:
        unit = key not in HUGE_PAGE_COUNTS
    return Template(label_width, 8, unit)


def field_line(key: str, value: int, shape: Template) -> str:
    """One ``Key: value[ kB]`` line as the kernel prints it."""
    label = f"{key}:".ljust(shape.label_width)
    return f"{label}{value:>{shape.value_width}}" + (" kB" if shape.unit else "")


def row_line(name: str, values: dict[str, int]) -> str:
    """One 2.4 row (``Mem:`` or ``Swap:``) as the kernel prints it."""
    return f"{name + ':':<6}" + " ".join(f"{values[column]:>8}" for column in ROWS[name])


def label_width(memtotal_line: str) -> int:
    """The label width of a file, told from its ``MemTotal:`` line.

    The value starts at the label width plus the padding ``%8lu`` adds to a shorter
    number, so a value of any length gives the width back; anything other than the old
    width (a document with collapsed spaces, say) is measured against the modern one.
    """
    match = _MEMTOTAL.match(memtotal_line)
    if not match:
        return MODERN_WIDTH
    start = len("MemTotal:") + len(match[1])
    width = start - max(0, 8 - len(match[2]))
    return OLD_WIDTH if width == OLD_WIDTH else MODERN_WIDTH
