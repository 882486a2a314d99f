"""The lines of ``/sys/kernel/debug/vmmemctl`` in each generation, and their printf templates.

Each generation prints a fixed list of lines. A :class:`Slot` is one of them: the label,
what kind of value follows, where the value goes in the instance, and whether old kernels
may lack it. :func:`render_line` is the kernel's template for one line; the parser uses it
for the exact-layout check and :func:`vmmemctl.render` for whole files, so there is one
copy of every template.

``target`` is printed twice in every generation: once as the size line and once as the
GET_TARGET command counter with a ``(N failed)`` tail. The two are told apart by that tail
(as PCP's parser does), so the command line has its own key, :data:`TARGET_COMMAND`.
"""

from __future__ import annotations

import enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

GEN_A, GEN_B, GEN_C = "2.6.34", "4.4", "4.20"

TARGET_COMMAND = "target (N failed)"
"""Key of the GET_TARGET command line, to keep it apart from the ``target`` size line."""

CAPABILITY_NAMES = {
    1: "BASIC_CMDS",
    2: "BATCHED_CMDS",
    3: "BATCHED_2M_CMDS",
    4: "SIGNALLED_WAKEUP_CMD",
    5: "64_BIT_TARGET",
}
"""``enum vmwballoon_capabilities`` without its ``VMW_BALLOON_`` prefix; bit 0 is reserved."""


class Kind(enum.Enum):
    """The shape of a line's value."""

    CAPS = "caps"  # %#4x / %#16x capability mask
    RESETTING = "resetting"  # %c / %16s of y or n
    SIZE = "size"  # target and current
    RATE = "rate"  # pages/sec (generations A and B)
    COMMAND = "command"  # N (M failed)
    STAT = "stat"  # one counter
    PAGE = "page"  # one counter per page size (generation C)


HEAD_KINDS = (Kind.CAPS, Kind.RESETTING, Kind.SIZE, Kind.RATE)
"""Kinds printed before the empty separator line of generations A and B."""


@dataclass(frozen=True)
class Slot:
    """One line of a generation."""

    label: str
    kind: Kind
    optional: str = ""
    """Non-empty when old kernels may lack the line: names the group of lines that
    appeared together (all present or all absent)."""
    size: str = ""
    """``4k`` or ``2M`` for page statistics (generation C)."""

    # key, pointer and parents are asked for on every line of every file read: worked
    # out once per slot (the slots are module constants)
    @cached_property
    def key(self) -> str:
        """The line's unique name within its generation."""
        if self.kind is Kind.PAGE:
            return f"{self.label} ({self.size})"
        if self.kind is Kind.COMMAND and self.label == "target":
            return TARGET_COMMAND
        return self.label

    @cached_property
    def pointer(self) -> str:
        """JSON pointer of the line's value in the instance."""
        if self.kind is Kind.CAPS:
            return "/capabilities/" + ("requested" if self.label.startswith("balloon") else "used")
        if self.kind is Kind.RESETTING:
            return "/is_resetting"
        if self.kind is Kind.SIZE:
            return "/" + self.label
        folder = {Kind.RATE: "rates", Kind.COMMAND: "commands", Kind.STAT: "stats"}
        if self.kind is Kind.PAGE:
            return f"/page_stats/{self.label}/{self.size}"
        return f"/{folder[self.kind]}/{self.label}"

    @cached_property
    def parts(self) -> tuple[str, ...]:
        """The keys on the way to the value in the instance, outermost first."""
        return tuple(self.pointer[1:].split("/"))

    @cached_property
    def parents(self) -> tuple[str, ...]:
        """The pointers of the objects that hold the value, outermost first."""
        parts = self.pointer.split("/")
        return tuple("/".join(parts[:depth]) for depth in range(2, len(parts)))


def _slots(kind: Kind, *labels: str, optional: str = "") -> tuple[Slot, ...]:
    return tuple(Slot(label, kind, optional) for label in labels)


def _each_own_group(slots: tuple[Slot, ...]) -> tuple[Slot, ...]:
    """Optional lines of legacy generation B: each may be missing on its own (§3.2)."""
    return tuple(Slot(s.label, s.kind, s.label, s.size) for s in slots)


_CAPS = (
    Slot("balloon capabilities", Kind.CAPS),
    Slot("used capabilities", Kind.CAPS),
    Slot("is resetting", Kind.RESETTING),
)
_SIZES = _slots(Kind.SIZE, "target", "current")
_PAGE_NAMES = ("alloc", "allocFail", "errAlloc", "errFree", "free")

SLOTS: dict[str, tuple[Slot, ...]] = {
    GEN_A: (
        *_SIZES,
        *_slots(Kind.RATE, "rateNoSleepAlloc", "rateSleepAlloc", "rateFree"),
        Slot("timer", Kind.STAT),
        *_slots(Kind.COMMAND, "start", "guestType", "lock", "unlock", "target"),
        *_slots(Kind.COMMAND, "primNoSleepAlloc", "primCanSleepAlloc"),
        *_slots(Kind.STAT, "primFree", "errAlloc", "errFree"),
    ),
    GEN_B: (
        *_each_own_group(_CAPS),
        *_SIZES,
        Slot("rateSleepAlloc", Kind.RATE),
        Slot("timer", Kind.STAT),
        Slot("doorbell", Kind.STAT, "doorbell"),
        *_slots(Kind.COMMAND, "start", "guestType"),
        Slot("2m-lock", Kind.COMMAND, "2m-lock"),
        Slot("lock", Kind.COMMAND),
        Slot("2m-unlock", Kind.COMMAND, "2m-unlock"),
        *_slots(Kind.COMMAND, "unlock", "target"),
        Slot("prim2mAlloc", Kind.COMMAND, "prim2mAlloc"),
        *_slots(Kind.COMMAND, "primNoSleepAlloc", "primCanSleepAlloc"),
        Slot("prim2mFree", Kind.STAT, "prim2mFree"),
        Slot("primFree", Kind.STAT),
        Slot("err2mAlloc", Kind.STAT, "err2mAlloc"),
        Slot("errAlloc", Kind.STAT),
        Slot("err2mFree", Kind.STAT, "err2mFree"),
        Slot("errFree", Kind.STAT),
        *_each_own_group(_slots(Kind.STAT, "doorbellSet", "doorbellUnset")),
    ),
    GEN_C: (
        *_CAPS,
        *_SIZES,
        *_slots(Kind.COMMAND, "start", "target", "lock", "unlock", "guestType", "batchLock"),
        *_slots(Kind.COMMAND, "batchUnlock", "2m-lock", "2m-unlock", "doorbellSet"),
        *_slots(Kind.STAT, "timer", "doorbell", "reset"),
        *_slots(Kind.STAT, "shrink", "shrinkFree", optional="shrinker (5.3)"),
        *(Slot(name, Kind.PAGE, size=size) for name in _PAGE_NAMES for size in ("4k", "2M")),
    ),
}

BITS = {GEN_A: 32, GEN_B: 32, GEN_C: 64}
"""Width of the counters: ``unsigned int`` before 4.20, ``u64`` after."""


def has_failed_tail(value: str) -> bool:
    """Whether ``value`` ends in a ``(N failed)`` tail, however malformed its number: the
    tail makes a line a command line. (String operations, not a regular expression, so
    that hostile input costs linear time.)"""
    body = value.rstrip()
    inner = body[:-1].rstrip()
    return body.endswith(")") and inner.endswith("failed") and "(" in inner


def split_command(value: str) -> tuple[str, str, int] | None:
    """``(count, failed, offset of failed in value)`` of ``N (M failed)``, spaces free."""
    if not has_failed_tail(value):
        return None
    opening = value.index("(")
    count = value[:opening].strip()
    inner = value[opening + 1 :].rstrip()[:-1].rstrip()[: -len("failed")]
    failed = inner.strip()
    if not count or len(count.split()) != 1:
        return None
    offset = opening + 1 + (len(inner) - len(inner.lstrip()))
    return count, failed, offset


def capability_names(mask: int) -> list[str]:
    """The names of the bits set in ``mask``, lowest first; unknown bits are ``bit<N>``."""
    return [
        CAPABILITY_NAMES.get(bit, f"bit{bit}")
        for bit in range(mask.bit_length())
        if mask >> bit & 1
    ]


def c_alt_hex(value: int) -> str:
    """printf ``%#x`` without width: ``0x`` and lowercase digits, but zero is a bare ``0``."""
    return "0" if value == 0 else f"0x{value:x}"


def render_line(slot: Slot, value: Any, dialect: str) -> str:
    """The line as the kernel of generation ``dialect`` prints it (without the newline)."""
    return prefix_of(slot, dialect) + _value_text(slot, value, dialect)


def prefix_of(slot: Slot, dialect: str) -> str:
    """What the kernel prints before the value: the padded label and its colon."""
    if dialect == GEN_C:
        if slot.kind is Kind.PAGE:
            return f"{slot.label:<18}({slot.size}): "  # "%-18s(%s): "
        return f"{slot.label:<22}: "  # "%-22s: "
    # Generations A and B pad "label:" so that the value starts at column 21, except the
    # capability block, whose values start at column 25.
    width = 24 if slot.kind in (Kind.CAPS, Kind.RESETTING) else 20
    return f"{slot.label + ':':<{width}}"


def _value_text(slot: Slot, value: Any, dialect: str) -> str:
    wide = dialect == GEN_C
    if slot.kind is Kind.CAPS:
        return c_alt_hex(value["mask"]).rjust(16 if wide else 4)
    if slot.kind is Kind.RESETTING:
        return ("y" if value else "n").rjust(16 if wide else 1)
    if slot.kind is Kind.COMMAND:
        if wide:
            return f"{value['count']:16d} ({value['failed']} failed)"
        return f"{value['count']:8d} ({value['failed']:4d} failed)"
    if wide:
        return f"{value:16d}"
    suffix = {Kind.SIZE: " pages", Kind.RATE: " pages/sec"}.get(slot.kind, "")
    return f"{value:8d}{suffix}"
