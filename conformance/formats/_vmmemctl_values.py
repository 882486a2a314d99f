"""Reading the value of one ``vmmemctl`` line into the instance, leniently.

Whitespace where the kernel pads is free here (the exact-layout check compares the whole
line with :func:`~._vmmemctl_lines.render_line` afterwards); what is checked is the value's
shape: the ``pages``/``pages/sec`` units of generations A and B, the ``(N failed)`` tail of
command lines, ``%#x`` hexadecimal capability masks, ``y``/``n`` and the range of the C type
each number is printed from. Every value read gets a source-map entry.
"""

from __future__ import annotations

import re
from typing import Any

from ..text import Line, ParseBuilder, clip
from ._vmmemctl_lines import (
    BITS,
    CAPABILITY_NAMES,
    GEN_C,
    Kind,
    Slot,
    capability_names,
    split_command,
)

_NUMBER = re.compile(r"^(?P<count>\S+)$")
_WITH_UNIT = {
    Kind.SIZE: re.compile(r"^(?P<count>\S+)\s+pages$"),
    Kind.RATE: re.compile(r"^(?P<count>\S+)\s+pages/sec$"),
}
_HEX = re.compile(r"^(?:0|0x[0-9a-fA-F]{1,16})$")
"""All anchored, applied to one value, each quantifier followed by a character it cannot
match or by the end: linear."""
_SHAPES = {
    Kind.SIZE: "N pages",
    Kind.RATE: "N pages/sec",
    Kind.COMMAND: "N (M failed)",
    Kind.STAT: "N",
    Kind.PAGE: "N",
}


def read_value(
    builder: ParseBuilder,
    instance: dict[str, Any],
    slot: Slot,
    line: Line,
    value: str,
    column: int,
    dialect: str,
) -> Any:
    """Put the value of ``line`` at ``slot.pointer`` in ``instance`` and return it, or
    record why it cannot be read and return None."""
    if slot.kind is Kind.CAPS:
        got: Any = _read_caps(builder, slot, line, value, column)
    elif slot.kind is Kind.RESETTING:
        got = _read_resetting(builder, slot, line, value, column)
    elif slot.kind is Kind.COMMAND:
        got = _read_command(builder, slot, line, value, column, dialect)
    else:
        got = _read_number(builder, slot, line, value, column, dialect)
    if got is not None:
        _put(instance, slot.pointer, got)
        for parent in slot.parents:
            builder.map(parent, line.number, 1)
        builder.map(slot.pointer, line.number, column)
    return got


def _put(instance: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, last = pointer.strip("/").split("/")
    node = instance
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _bad_shape(builder: ParseBuilder, slot: Slot, line: Line, value: str, column: int) -> None:
    builder.error(
        "parse.bad-value",
        f"{slot.key!r} has the value {clip(value)!r}; the kernel prints "
        f"'{_SHAPES[slot.kind]}' here",
        line.number,
        column,
        pointer=slot.pointer,
    )


def _read_number(
    builder: ParseBuilder, slot: Slot, line: Line, value: str, column: int, dialect: str
) -> int | None:
    """``target``, ``current``, rates and single counters."""
    wide = dialect == GEN_C
    match = (_NUMBER if wide else _WITH_UNIT.get(slot.kind, _NUMBER)).match(value)
    if match is None:
        _bad_shape(builder, slot, line, value, column)
        return None
    # Generations A and B print target, current and the rates with %d of an unsigned int.
    signed = not wide and slot.kind in (Kind.SIZE, Kind.RATE)
    return builder.number(
        match["count"], line.number, column, slot.pointer, BITS[dialect], signed=signed
    )


def _read_command(
    builder: ParseBuilder, slot: Slot, line: Line, value: str, column: int, dialect: str
) -> dict[str, int] | None:
    parts = split_command(value)
    if parts is None:
        _bad_shape(builder, slot, line, value, column)
        return None
    count_text, failed_text, failed_offset = parts
    bits = BITS[dialect]
    failed_column = column + failed_offset
    # Errors name the whole command: a half-read command is left out of the instance, and
    # the schema's "required" finding for it must count as already reported.
    count = builder.number(count_text, line.number, column, slot.pointer, bits)
    failed = builder.number(failed_text, line.number, failed_column, slot.pointer, bits)
    if count is None or failed is None:
        return None
    builder.map(slot.pointer + "/count", line.number, column)
    builder.map(slot.pointer + "/failed", line.number, failed_column)
    return {"count": count, "failed": failed}


def _read_resetting(
    builder: ParseBuilder, slot: Slot, line: Line, value: str, column: int
) -> bool | None:
    if value not in ("y", "n"):
        builder.error(
            "parse.bad-value",
            f"'is resetting' is {clip(value)!r}; the kernel prints 'y' or 'n'",
            line.number,
            column,
            pointer=slot.pointer,
        )
        return None
    return value == "y"


def _read_caps(
    builder: ParseBuilder, slot: Slot, line: Line, value: str, column: int
) -> dict[str, Any] | None:
    # The requested mask is an int constant (%#x); the used one an unsigned long (%#lx).
    bits = 32 if slot.pointer.endswith("requested") else 64
    mask = int(value, 16) if _HEX.match(value) else -1
    if not 0 <= mask < 1 << bits:
        builder.error(
            "parse.bad-number",
            f"{slot.key!r} is {value[:40]!r}, not a {bits}-bit mask as printf '%#x' prints it "
            "('0' or '0x' and hexadecimal digits)",
            line.number,
            column,
            pointer=slot.pointer,
        )
        return None
    names = capability_names(mask)
    builder.map(slot.pointer + "/mask", line.number, column)
    builder.map(slot.pointer + "/names", line.number, column)
    for index, name in enumerate(names):
        builder.map(f"{slot.pointer}/names/{index}", line.number, column)
        if name.startswith("bit"):
            builder.note(
                "vmmemctl.unknown-capability",
                f"{slot.key!r} has bit {name[3:]} set, which no known driver defines"
                f" (known: {', '.join(CAPABILITY_NAMES.values())})",
                line.number,
                column,
                pointer=slot.pointer,
            )
    return {"mask": mask, "names": names}
