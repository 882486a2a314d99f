"""``/sys/kernel/debug/vmmemctl``: the VMware balloon driver's (vmw_balloon) debugfs file.

Three dialects, one per generation of ``vmballoon_debug_show()`` (kernel-formats.md §3):

* ``2.6.34`` (generation A, 2.6.34 to about 4.3): ``target:`` first, three rate lines,
  an empty line, then counters; labels padded so values start at column 21, ``%8d``.
* ``4.4`` (generation B, about 4.4 to 4.19): three capability lines first
  (``balloon capabilities:␠␠␠``), one rate line, 2 MiB and doorbell counters. Legacy
  output may lack the capability, ``2m-*``/``*2m*`` and ``doorbell*`` lines (§3.2).
* ``4.20`` (generation C, v4.20 and later): ``%-22s: %16llu`` lines, unpadded failure
  counts, per-page-size statistics; ``shrink``/``shrinkFree`` only from 5.3.

The instance has the same shape in every generation (keys as the generation prints them):
``capabilities``, ``is_resetting``, ``target``, ``current``, ``rates``, ``commands``
(every ``(N failed)`` line, the GET_TARGET ``target`` counter included), ``stats`` and
``page_stats``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import LazySourceMap, Line, ParseBuilder, Source, ascii_text, split_lines
from . import GUEST_PATHS
from ._keyed import check_sequence, split_label, split_text
from ._vmmemctl_lines import (
    GEN_A,
    GEN_B,
    GEN_C,
    HEAD_KINDS,
    SLOTS,
    TARGET_COMMAND,
    Slot,
    has_failed_tail,
    render_line,
)
from ._vmmemctl_values import read_value
from ._vmmemctl_whole import kernel_instance

FORMAT_ID = "vmmemctl"

# The current generation first: it is the default when nothing tells the generation.
DIALECTS = (
    DialectSpec(
        GEN_C,
        "generation C (v4.20 and later)",
        "vmmemctl.4.20.schema.json",
        "4.20",
        "'%-22s: %16llu' lines: capabilities, sizes, command counters with unpadded "
        "failure counts, general statistics and (4k)/(2M) page statistics.",
    ),
    DialectSpec(
        GEN_B,
        "generation B (about 4.4 to 4.19)",
        "vmmemctl.4.4.schema.json",
        "4.4",
        "Capability lines, size and one rate line, an empty line, then 32-bit counters "
        "with 2 MiB and doorbell statistics; the RFC balloon.rst example, spaces collapsed.",
    ),
    DialectSpec(
        GEN_A,
        "generation A (2.6.34 to about 4.3)",
        "vmmemctl.2.6.34.schema.json",
        "2.6.34",
        "Size and rate lines with 'pages' units, an empty line, then 32-bit counters; "
        "no capabilities.",
    ),
)

_LABEL_WORDS = re.compile(r"^[A-Za-z][A-Za-z ]*$")
"""Anchored, one quantifier (like ``_SIZE_WITH_UNIT``'s, each followed by a character it
cannot match): linear on one line."""
_CAPABILITY_BLOCK = ("balloon capabilities", "used capabilities", "is resetting")
_GEN_B_MARKERS = {"doorbell", "2m-lock", "2m-unlock", "prim2mAlloc", "doorbellSet"}
_SIZE_WITH_UNIT = re.compile(r"^-?\d+\s+pages$")
_KEYS = {dialect: {slot.key for slot in slots} for dialect, slots in SLOTS.items()}
MOSTLY = 0.75
"""Share of the non-blank lines that must carry one generation's labels for a text whose
first line does not tell the generation to be vmmemctl."""
_TOP_LEVEL = (
    "capabilities",
    "is_resetting",
    "target",
    "current",
    "rates",
    "commands",
    "stats",
    "page_stats",
)
"""The instance's keys in the order of the shape every generation shares."""


def detect(text: str) -> str | None:
    """The generation from the first line (§8), whitespace-insensitive; when the first
    line does not tell (it may be damaged), the generation whose labels most lines
    (:data:`MOSTLY`, at least three) carry. None otherwise."""
    lines = [line for line in text.split("\n") if line.strip()]
    found = _from_first_line(lines) if lines else None
    if found or not lines:
        return found
    keys = [line_key(label, value) for label, value, _ in filter(None, map(split_text, lines))]
    best = _closest(set(keys))
    known = sum(key in _KEYS[best] for key in keys)
    return best if known >= max(3, MOSTLY * len(lines)) else None


def _from_first_line(lines: Sequence[str]) -> str | None:
    before, colon, value = lines[0].partition(":")
    label = before.strip()
    if not colon or not _LABEL_WORDS.match(label):
        return None
    if label in _CAPABILITY_BLOCK:
        # The kernel pads generation C labels before the colon, generation B after it;
        # collapsing runs of spaces keeps one space before C's colon.
        return GEN_C if before != before.rstrip() else GEN_B
    if label == "target" and _SIZE_WITH_UNIT.match(value.strip()):
        labels = {line.partition(":")[0].strip() for line in lines if ":" in line}
        return GEN_B if labels & _GEN_B_MARKERS else GEN_A
    return None


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the file; never raises on bad input."""
    if dialect is not None:
        SPEC.dialect(dialect)  # an unknown id is a usage error, not bad input
    return _kernel_file(data, dialect) or _parse_lines(data, dialect, layout)


def _kernel_file(data: Source, dialect: str | None) -> ParseResult | None:
    """The result of a file printed exactly as its kernel prints it (as nearly every real
    file is), read a few string operations a line, each printed back to compare; None for
    any other file, which the line reader reads and reports on. Such a file has no
    finding in either layout; its source map is the line reader's, worked out only if
    something asks for it."""
    text = ascii_text(data)
    if text is None:
        return None
    # a whole file's first line tells its generation as detect() does: each generation is
    # tried in turn rather than detecting it, which costs a pass over every line
    for found in (dialect,) if dialect else (GEN_C, GEN_B, GEN_A):
        instance = kernel_instance(text, found)
        if instance is not None:
            break
    else:
        return None
    ordered = {key: instance[key] for key in _TOP_LEVEL if key in instance}
    return ParseResult(FORMAT_ID, found, ordered, LazySourceMap(_source_map, text, found))


def _source_map(text: str, dialect: str) -> dict[str, tuple[int, int]]:
    return dict(_parse_lines(text, dialect, Layout.LENIENT).source_map)


def _parse_lines(data: Source, dialect: str | None, layout: Layout) -> ParseResult:
    """The line reader: every line read leniently, every finding reported."""
    builder = ParseBuilder(FORMAT_ID, layout)
    lines = split_lines(data, builder)
    dialect = dialect or detect("\n".join(line.text for line in lines)) or _closest(_keys(lines))
    slots = {slot.key: slot for slot in SLOTS[dialect]}
    instance, found = _read_lines(builder, lines, slots, dialect)
    present = {key for key, _ in found}
    pointers = {key: slot.pointer for key, slot in slots.items()}
    check_sequence(
        builder, found, _expected(dialect, present), f"{FORMAT_ID} ({dialect})", 0, pointers
    )
    _note_legacy(builder, dialect, present)
    if builder.exact:
        _check_blank_lines(builder, lines, slots, dialect)
    ordered = {key: instance[key] for key in _TOP_LEVEL if key in instance}
    return builder.result(dialect, ordered)


def _closest(keys: set[str]) -> str:
    """The generation whose labels the keys share most, for text whose first line does
    not tell (a damaged first line should not turn every other line into an error);
    generation C, the current one, on a tie."""
    score = {dialect: len(keys & _KEYS[dialect]) for dialect in SLOTS}
    return max((GEN_C, GEN_B, GEN_A), key=lambda dialect: score[dialect])


def _read_lines(
    builder: ParseBuilder, lines: Sequence[Line], slots: dict[str, Slot], dialect: str
) -> tuple[dict[str, Any], list[tuple[str, Line]]]:
    """The instance from the first line of each known key, and ``(key, line)`` of every
    ``label: value`` line in input order (for the sequence check)."""
    instance: dict[str, Any] = {}
    found: list[tuple[str, Line]] = []
    instance_keys: set[str] = set()  # keys already read: a duplicate never overwrites
    for line in lines:
        if not line.text.strip():
            continue
        parts = split_label(line)
        if parts is None:
            builder.unreadable(line, "'label: value'")
            continue
        label, value, column = parts
        key = line_key(label, value)
        found.append((key, line))
        slot = slots.get(key)
        if slot is None or key in instance_keys:
            continue
        instance_keys.add(key)
        got = read_value(builder, instance, slot, line, value, column, dialect)
        if got is not None:
            builder.layout(line, render_line(slot, got, dialect))
    return instance, found


def _keys(lines: Sequence[Line]) -> set[str]:
    """The slot keys of the ``label: value`` lines."""
    return {line_key(label, value) for label, value, _ in filter(None, map(split_label, lines))}


def line_key(label: str, value: str) -> str:
    """The slot key of a ``label: value`` line: the label with its whitespace collapsed,
    ``(4k)``/``(2M)`` spaced as one, and the GET_TARGET counter told by its tail."""
    key = " ".join(label.split()).replace(" (", "(").replace("(", " (")
    if key == "target" and has_failed_tail(value):
        return TARGET_COMMAND
    return key


def _expected(dialect: str, present: set[str]) -> list[str]:
    """The keys the kernel prints, without the optional groups this text lacks entirely."""
    groups = {slot.optional for slot in SLOTS[dialect] if slot.optional and slot.key in present}
    return [slot.key for slot in SLOTS[dialect] if not slot.optional or slot.optional in groups]


def _note_legacy(builder: ParseBuilder, dialect: str, present: set[str]) -> None:
    if dialect != GEN_B:
        return
    absent = [s.key for s in SLOTS[dialect] if s.optional and s.key not in present]
    if absent:
        builder.note(
            "vmmemctl.legacy-layout",
            "accepted as an intermediate 2015 layout of generation B without the lines "
            + ", ".join(repr(key) for key in absent),
            1,
            1,
            hint="the 4.4-4.19 driver prints them all; earlier 2015 kernels may not (§3.2)",
        )


def _check_blank_lines(
    builder: ParseBuilder, lines: Sequence[Line], slots: dict[str, Slot], dialect: str
) -> None:
    """Generations A and B print one empty line between the size/rate block and the
    counters; no generation prints any other. Layout findings only: the instance is the
    same with or without them, and documentation examples often drop them."""
    separator = dialect in (GEN_A, GEN_B)
    blanks: list[Line] = []
    in_head = False
    for line in lines:
        if not line.text.strip():
            blanks.append(line)
            continue
        parts = split_label(line)
        slot = slots.get(line_key(parts[0], parts[1])) if parts else None
        head = slot is not None and slot.kind in HEAD_KINDS
        if separator and in_head and slot is not None and not head:
            if not blanks:
                _blank_warning(builder, line, "the kernel prints an empty line before this one")
            blanks = blanks[1:]
        for extra in blanks:
            _blank_warning(builder, extra, "the kernel prints no empty line here")
        blanks = []
        in_head = head if slot is not None else in_head
    for extra in blanks:
        _blank_warning(builder, extra, "the kernel prints no empty line here")


def _blank_warning(builder: ParseBuilder, line: Line, message: str) -> None:
    builder.warning("layout.blank-line", message, line.number, 1)


def _value_at(instance: JSON, parts: tuple[str, ...]) -> Any:
    node = instance
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def render(instance: JSON, dialect: str) -> str:
    """The file as the kernel prints it (exact layout); lines without a value in the
    instance (optional lines an old kernel lacks) are left out."""
    out: list[str] = []
    separator = dialect in (GEN_A, GEN_B)
    for slot in SLOTS[dialect]:
        value = _value_at(instance, slot.parts)
        if value is None:
            continue
        if separator and slot.kind not in HEAD_KINDS:
            out.append("")
            separator = False
        out.append(render_line(slot, value, dialect))
    return "".join(line + "\n" for line in out)


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="VMware balloon debugfs file",
    description="/sys/kernel/debug/vmmemctl: the vmw_balloon driver's capabilities, balloon "
    "size and command and page statistics.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="vmmemctl.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
