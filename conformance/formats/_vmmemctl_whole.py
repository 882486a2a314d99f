"""The instance of a ``vmmemctl`` file printed exactly as its kernel prints it, read fast.

Nearly every real file is one generation's lines in the kernel's own layout. Such a file
is read here with a few string operations a line: each line is told by its printed label
(the kernel pads labels to fixed widths, so the label is the line's first 20 or 24
characters) and its value read as the slot's kind prints it. Reading is lenient on
purpose: each value is printed back with the kernel's template for its line and kept
only when that gives the very line read, and the templates print different values
differently, so an instance kept is the one the line reader reads. The lines must come
in the generation's order, the empty line of generations A and B where the kernel puts
it, and what a print-back cannot see is checked too: every line the generation prints
(optional groups whole, none missing in generation B, whose gaps are a note), numbers
in the range of their C type, and capability bits a driver defines (others are a
note). Anything else gives None, and the line reader reads the file and reports on it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._vmmemctl_lines import (
    BITS,
    GEN_B,
    GEN_C,
    HEAD_KINDS,
    SLOTS,
    Kind,
    Slot,
    capability_names,
    has_failed_tail,
    prefix_of,
    render_line,
)

MAX_DIGITS = 40
"""No C type the kernel prints needs more digits: ``int`` is never given more."""


def kernel_instance(text: str, dialect: str) -> dict[str, Any] | None:
    """The instance of ``text`` read as generation ``dialect``, or None when the text
    is not the very bytes the kernel prints for it (each line printed back as
    :func:`~._vmmemctl_lines.render_line` prints it, in the generation's order, the
    empty line of generations A and B where it stands) or the line reader would report
    anything on it."""
    widths, labels = _labels(dialect)
    lines = text.split("\n")
    if lines.pop() != "":
        return None  # the last line has no newline
    separator = dialect != GEN_C  # A and B print one empty line before the counters
    instance: dict[str, Any] = {}
    seen: set[str] = set()
    last = -1
    blank = body = False
    for line in lines:
        if not line:
            if not separator or blank or body:
                return None
            blank = True
            continue
        slot, value = _slot(widths, labels, line)
        if slot is None or _order(dialect)[slot.key] <= last:
            return None  # an unknown line, one out of order, or one twice
        last = _order(dialect)[slot.key]
        if separator and slot.kind not in HEAD_KINDS and not body:
            if not blank:
                return None
            body = True
        elif separator and blank and not body:
            return None  # a size or rate line after the empty line
        seen.add(slot.key)
        got = _value(slot, value, dialect)
        if got is None or line != render_line(slot, got, dialect):
            return None
        _put(instance, slot, got)
    if blank and not body:
        return None
    return instance if _complete(dialect, seen) else None


def _put(instance: dict[str, Any], slot: Slot, value: Any) -> None:
    *parents, last = slot.parts
    node = instance
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


_Labels = dict[str, tuple[Slot, ...]]


@cache
def _order(dialect: str) -> dict[str, int]:
    """Each line's place in the generation's order, by key."""
    return {slot.key: index for index, slot in enumerate(SLOTS[dialect])}


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
