"""``/sys/kernel/debug/virtio-balloon``: Virtuozzo's debugfs file of inflated balloon memory.

Only Virtuozzo's vendor kernel has this file; mainline never had it, and only its
documented example is known (Virtuozzo's ``balloon-usage_information_visible_by_guest.rst``,
the same text as the 2022 RFC's ``balloon.rst``)::

    InflatedTotal: 0 kB
    InflatedFree: 0 kB

One dialect, ``rfc``. The implementation's exact spacing is unknown, so the documented
form (label, ``": "``, the number, ``" kB"``) is taken as the exact layout. The RFC's
counters are ``signed long``: values are read as s64 so that a negative one reaches the
schema, whose ``minimum`` reports it (a balloon never holds negative memory).
"""

from __future__ import annotations

import re
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import LazySourceMap, Line, ParseBuilder, Source, ascii_text, clip, split_lines
from . import GUEST_PATHS
from ._keyed import check_sequence, split_label
from ._meminfo_layout import padded_like_meminfo

FORMAT_ID = "virtio-balloon"
LABELS = ("InflatedTotal", "InflatedFree")
S64 = 2**63
_WHOLE = re.compile(
    "".join(f"{label}: (0|-?[1-9][0-9]{{0,39}}) kB\n" for label in LABELS), re.ASCII
)
"""The whole file in the documented layout. Used with ``fullmatch``; each number is
bounded and followed by a character it cannot match: linear."""

DIALECTS = (
    DialectSpec(
        "rfc",
        "Virtuozzo kernel (RFC 2022)",
        "virtio-balloon.schema.json",
        "RFC",
        "Two lines, 'InflatedTotal: <n> kB' and 'InflatedFree: <n> kB', as Virtuozzo's "
        "documentation shows them; the implementation's spacing is not known.",
    ),
)


def detect(text: str) -> str | None:
    """``rfc`` when every non-blank line is ``InflatedTotal:`` or ``InflatedFree:`` and
    both are there (so /proc/meminfo, which has MemTotal, is never claimed), unless every
    value is padded as meminfo pads it: the RFC's meminfo lines alone are meminfo's."""
    labels = set()
    padded = True
    for line in text.split("\n"):
        if not line.strip():
            continue
        label, colon, _ = line.partition(":")
        if not colon:
            return None
        labels.add(label.strip())
        padded = padded and padded_like_meminfo(line.strip())
    return "rfc" if labels == set(LABELS) and not padded else None


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the file; never raises on bad input."""
    return kernel_file(data, dialect) or _parse_lines(data, dialect, layout)


def kernel_file(data: Source, dialect: str | None) -> ParseResult | None:
    """The result of a file in the documented layout, both values s64, read by one
    regular expression; None for any other file, which the line reader reads and reports
    on. Such a file has no finding of the parser in either layout; its source map is the
    line reader's, worked out only if something asks for it."""
    text = ascii_text(data)
    if text is None:
        return None
    match = _WHOLE.fullmatch(text)
    if match is None:
        return None
    total, free = int(match[1]), int(match[2])
    if not (-S64 <= total < S64 and -S64 <= free < S64):
        return None
    instance = {"InflatedTotal": total, "InflatedFree": free}
    lazy = LazySourceMap(_source_map, text, dialect)
    return ParseResult(FORMAT_ID, dialect or "rfc", instance, lazy)


def _source_map(text: str, dialect: str | None) -> dict[str, tuple[int, int]]:
    return dict(_parse_lines(text, dialect, Layout.LENIENT).source_map)


def _parse_lines(data: Source, dialect: str | None, layout: Layout) -> ParseResult:
    """The line reader: every line read leniently, every finding reported."""
    builder = ParseBuilder(FORMAT_ID, layout)
    instance: dict[str, Any] = {}
    found: list[tuple[str, Line]] = []
    for line in split_lines(data, builder):
        parts = split_label(line)
        if parts is None:
            if line.text.strip():
                builder.unreadable(line, "'label: value kB'")
            continue
        label, value, column = parts
        found.append((label, line))
        if label in LABELS and label not in instance:
            _read_value(builder, instance, line, label, value, column)
    check_sequence(builder, found, LABELS, FORMAT_ID)
    # the only root-level finding is "both non-zero", which the second value completes
    if "/InflatedFree" in builder.source_map:
        builder.map("", *builder.source_map["/InflatedFree"])
    return builder.result(dialect or "rfc", instance)


def _read_value(
    builder: ParseBuilder, instance: dict[str, Any], line: Line, label: str, value: str, col: int
) -> None:
    pointer = f"/{label}"
    digits = _number_before_kb(value)
    if digits is None:
        builder.error(
            "parse.bad-value",
            f"{label} {clip(value)!r} is not '<number> kB'",
            line.number,
            col,
            pointer=pointer,
        )
        return
    number = builder.number(digits, line.number, col, pointer, 64, signed=True)
    if number is None:
        return
    instance[label] = number
    builder.layout(line, _line(label, number))


def _number_before_kb(value: str) -> str | None:
    """The one word before a final ``kB`` (spaces between them or not), or None."""
    number = value[:-2].rstrip() if value.endswith("kB") else ""
    return number if number and len(number.split()) == 1 else None


def _line(label: str, value: int) -> str:
    """One line in the documented layout."""
    return f"{label}: {value} kB"


def render(instance: JSON, dialect: str) -> str:
    """The file in the documented layout."""
    return "".join(_line(label, instance[label]) + "\n" for label in LABELS)


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="Virtuozzo virtio-balloon debugfs file",
    description="/sys/kernel/debug/virtio-balloon (Virtuozzo kernels only): memory held by "
    "the balloon, counted as removed from MemTotal (InflatedTotal) or as used "
    "(InflatedFree).",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="virtio-balloon.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
