"""The instance of a ``vmmemctl`` file printed exactly as its kernel prints it, read fast.

Nearly every real file is one generation's lines in the kernel's own layout. Such a file
is read here with a few string operations a line: each line is told by its printed label
(the kernel pads labels to fixed widths, so the label is the line's first 20 or 24
characters) and its value read as the slot's kind prints it. Reading is lenient on
purpose: the caller prints the instance back with the kernel's templates and keeps it
only when that gives the very bytes read, and the templates print different values
differently, so an instance kept is the one the line reader reads. What a print-back
cannot see is checked here: each line once, every line the generation prints (optional
groups whole, and none missing in generation B, whose gaps are a note), numbers in the
range of their C type, and capability bits a driver defines (others are a note).
Anything else gives None, and the line reader reads the file and reports on it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._vmmemctl_lines import (
    BITS,
    GEN_B,
    GEN_C,
    SLOTS,
    Kind,
    Slot,
    capability_names,
    has_failed_tail,
    prefix_of,
)

MAX_DIGITS = 40
"""No C type the kernel prints needs more digits: ``int`` is never given more."""


def kernel_instance(text: str, dialect: str) -> dict[str, Any] | None:
    """The instance of ``text`` read as generation ``dialect``, or None when the text
    is not a whole file of that generation's lines that the line reader would read
    without a finding (the caller still prints it back to compare)."""
    widths, labels = _labels(dialect)
    instance: dict[str, Any] = {}
    seen: set[str] = set()
    for line in text.split("\n"):
        if not line:
            continue  # the separator line: its place is checked by the print-back
        slot, value = _slot(widths, labels, line)
        if slot is None or slot.key in seen:
            return None
        seen.add(slot.key)
        got = _value(slot, value, dialect)
        if got is None:
            return None
        *parents, last = slot.parts
        node = instance
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = got
    return instance if _complete(dialect, seen) else None


_Labels = dict[str, tuple[Slot, ...]]


@cache
def _labels(dialect: str) -> tuple[tuple[int, ...], _Labels]:
    """The widths of the printed labels (with their padding and colon), widest first, and
    each printed label's slots: two for ``target``, the size line and the GET_TARGET
    counter, told apart by their values."""
    found: _Labels = {}
    for slot in SLOTS[dialect]:
        prefix = prefix_of(slot, dialect)
        found[prefix] = (*found.get(prefix, ()), slot)
    return tuple(sorted({len(prefix) for prefix in found}, reverse=True)), found


def _slot(widths: tuple[int, ...], labels: _Labels, line: str) -> tuple[Slot | None, str]:
    for width in widths:
        slots = labels.get(line[:width])
        if slots is not None:
            value = line[width:]
            if len(slots) == 1:
                return slots[0], value
            command = has_failed_tail(value)
            return next(s for s in slots if (s.kind is Kind.COMMAND) == command), value
    return None, ""


def _complete(dialect: str, seen: set[str]) -> bool:
    """Whether the lines read are every line the generation prints: optional groups
    whole (generation C's shrinker lines), none left out in generation B."""
    for slot in SLOTS[dialect]:
        if slot.key in seen:
            continue
        if not slot.optional or dialect == GEN_B:
            return False
        if any(other.key in seen for other in SLOTS[dialect] if other.optional == slot.optional):
            return False
    return True


def _value(slot: Slot, value: str, dialect: str) -> Any:
    kind = slot.kind
    if kind is Kind.CAPS:
        bits = 32 if slot.pointer.endswith("requested") else 64
        mask = _number(value.strip(), 16, 0, (1 << bits) - 1)
        if mask is None:
            return None
        names = capability_names(mask)
        if any(name.startswith("bit") for name in names):
            return None  # a bit no driver defines: a note of the line reader's
        return {"mask": mask, "names": names}
    if kind is Kind.RESETTING:
        flag = value.strip()
        return flag == "y" if flag in ("y", "n") else None
    bits = BITS[dialect]
    if kind is Kind.COMMAND:
        opening = value.find("(")
        closing = value.rfind("failed)")
        if opening < 0 or closing < opening:
            return None
        count = _number(value[:opening].strip(), 10, 0, (1 << bits) - 1)
        failed = _number(value[opening + 1 : closing].strip(), 10, 0, (1 << bits) - 1)
        return None if count is None or failed is None else {"count": count, "failed": failed}
    digits = value.split()[0] if value.split() else ""
    if dialect != GEN_C and kind in (Kind.SIZE, Kind.RATE):  # %d of an unsigned int
        return _number(digits, 10, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return _number(digits, 10, 0, (1 << bits) - 1)


def _number(text: str, base: int, low: int, high: int) -> int | None:
    if not text or len(text) > MAX_DIGITS or not text.isascii():
        return None
    try:
        value = int(text, base)
    except ValueError:
        return None
    return value if low <= value <= high else None
