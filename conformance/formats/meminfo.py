"""``/proc/meminfo``: the kernel's memory summary, one ``Key: value kB`` line per field.

Three dialects (kernel-formats.md §1.3, §5):

* ``2.6``: key/value lines only, as every kernel since 2.6 prints them, with whatever
  fields its version and configuration add (``Balloon`` since 6.15);
* ``rfc``: the same plus the never-merged RFC's ``InflatedTotal:``/``InflatedFree:``
  pair (``"InflatedTotal:  %8ld kB"``), both or neither;
* ``2.4``: the 2.4 header ``total: used: free: shared: buffers: cached:`` and its
  ``Mem:``/``Swap:`` rows in bytes, followed by key/value lines (2.4 kernels, and vendor
  kernels that kept the header).

The instance is a flat object, key -> integer in file order (kB, except the
``HugePages_*`` counts of huge pages), with the 2.4 rows as ``Mem`` and ``Swap`` objects
in bytes. Keys this module does not know are kept (kernels keep adding fields) with a
note. The label width (16, or 14 on kernels before 2.6.28) is told from the ``MemTotal``
line and every line is held to it in the exact layout. The order of the lines is not
checked: vendor and old kernels print the same fields in other orders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import (
    Line,
    ParseBuilder,
    Source,
    clip,
    parse_int,
    pointer_token,
    split_lines,
    words,
)
from . import GUEST_PATHS
from ._meminfo_layout import (
    HEADER,
    INFLATED,
    KNOWN,
    MODERN_WIDTH,
    PRINTED_BEFORE_INFLATED,
    ROWS,
    field_line,
    is_header,
    label_width,
    padded_like_meminfo,
    row_line,
    template,
)
from ._meminfo_whole import kernel_file

FORMAT_ID = "meminfo"

_KEY = re.compile(r"[A-Za-z0-9_()]+")
"""Used with ``fullmatch``: one class, one quantifier, linear."""
MOSTLY = 0.75
"""Share of the non-blank lines that must be ``Key: value [kB]`` lines of known keys for
a text without a ``MemTotal:`` line (a damaged one, or an excerpt) to be meminfo."""
_HEADER_KEY = "<header>"
"""Stands for the 2.4 header among the keys seen; no meminfo key has angle brackets."""

DIALECTS = (
    DialectSpec(
        "2.6",
        "key/value lines (2.6 and later)",
        "meminfo.2.6.schema.json",
        "2.6",
        "One 'Key: value kB' line per field, as fs/proc/meminfo.c prints them.",
    ),
    DialectSpec(
        "rfc",
        "RFC InflatedTotal/InflatedFree lines",
        "meminfo.rfc.schema.json",
        "RFC",
        "The key/value lines plus the InflatedTotal:/InflatedFree: pair of the 2022 "
        "Atanasov RFC (v2 to v5), which no mainline kernel printed.",
    ),
    DialectSpec(
        "2.4",
        "2.4 header with Mem:/Swap: rows",
        "meminfo.2.4.schema.json",
        "2.4",
        "The 2.4 header 'total: used: free: shared: buffers: cached:' and its Mem:/Swap: "
        "rows in bytes, followed by key/value lines.",
    ),
)


def detect(text: str) -> str | None:
    """``2.4`` for the 2.4 header; else ``rfc`` for meminfo with Inflated lines, ``2.6``
    for meminfo without. Meminfo is a text with a ``MemTotal:`` line, or one whose lines
    are mostly (:data:`MOSTLY`) ``Key: value [kB]`` lines of keys the kernel prints (a
    damaged ``MemTotal:`` line or an excerpt), or the RFC's two Inflated lines alone in
    meminfo's padding. None otherwise."""
    return detect_lines(text.split("\n"))


def detect_lines(lines: Iterable[str]) -> str | None:
    """:func:`detect` on the lines of a text, one pass, in linear time."""
    memtotal = False
    total = fit = 0
    inflated: list[str] = []
    for raw in lines:
        text = raw.strip()
        if not text:
            continue
        if is_header(text):
            return "2.4"
        total += 1
        key, colon, rest = text.partition(":")
        memtotal = memtotal or (key == "MemTotal" and bool(colon))
        if key in INFLATED and colon:
            inflated.append(text)
        elif not memtotal and colon and key in KNOWN and _value_fits(rest):
            fit += 1  # counted only while it may matter: a MemTotal line settles it
    fit += len(inflated)
    if memtotal or (fit > len(inflated) and fit >= MOSTLY * total):
        return "rfc" if inflated else "2.6"
    pair = {line.partition(":")[0] for line in inflated} == set(INFLATED)
    if pair and total == len(inflated) and all(map(padded_like_meminfo, inflated)):
        return "rfc"
    return None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _value_fits(rest: str) -> bool:
    """Whether ``rest`` is a number with an optional `` kB``, as after a meminfo key."""
    parts = rest.split()
    return 0 < len(parts) <= 2 and _digits(parts[0]) and parts[1:] in ([], ["kB"])


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the file; never raises on bad input."""
    whole = kernel_file(data, dialect)
    if whole is not None:
        return whole
    builder = ParseBuilder(FORMAT_ID, layout)
    lines = split_lines(data, builder)
    dialect = dialect or detect_lines(line.text for line in lines) or "2.6"
    memtotal = next((line.text for line in lines if line.text.startswith("MemTotal:")), "")
    reader = _Reader(builder, label_width(memtotal))
    for line in lines:
        reader.read(line)
    if dialect == "rfc":
        _check_inflated(builder, reader)
    if dialect == "2.4":
        _check_header(builder, reader)
    return builder.result(dialect, reader.instance)


class _Reader:
    """Reads lines one by one into the instance, keeping where each key was seen."""

    def __init__(self, builder: ParseBuilder, width: int) -> None:
        self.builder = builder
        self.width = width
        self.instance: dict[str, Any] = {}
        self.seen: dict[str, Line] = {}
        self.order: list[str] = []

    def read(self, line: Line) -> None:
        if not line.text.strip():
            if self.builder.exact:
                self.builder.warning(
                    "layout.blank-line", "the kernel prints no blank line here", line.number, 1
                )
            return
        if is_header(line.text):
            if self._first(_HEADER_KEY, line):
                self.builder.layout(line, HEADER)
            return
        key, colon, rest = line.text.partition(":")
        key = key.lstrip()
        if not colon or not _KEY.fullmatch(key):
            self.builder.unreadable(line, "'Key: value kB'")
            return
        if not self._first(key, line):
            return
        value_column = len(line.text) - len(rest) + 1
        if key in ROWS:
            self._row(line, key, rest, value_column)
        else:
            self._field(line, key, rest, value_column)

    def _first(self, key: str, line: Line) -> bool:
        """Record ``key`` on ``line``; False (with an error) if it was already seen."""
        if key in self.seen:
            what = "the 2.4 header" if key == _HEADER_KEY else repr(clip(key))
            self.builder.error(
                "parse.duplicate-line",
                f"{what} appears twice (first on line {self.seen[key].number})",
                line.number,
                1,
            )
            return False
        self.seen[key] = line
        self.order.append(key)
        return True

    def _field(self, line: Line, key: str, rest: str, column: int) -> None:
        if self._kernel_line(line, key, rest, column):
            return
        tokens = words(rest, column)
        if not self._shape_ok(line, key, tokens, column + len(rest)):
            return
        (digits, digits_column), *unit = tokens
        pointer = "/" + pointer_token(key)
        value = self.builder.number(
            digits, line.number, digits_column, pointer, 64, signed=key in INFLATED
        )
        if value is None:
            return
        self.instance[key] = value
        shape = template(key, self.width, unit=bool(unit))
        if key not in KNOWN:
            self.builder.note(
                "meminfo.unknown-field",
                f"{clip(key)!r} is not a field this checker knows; accepted as a value",
                line.number,
                1,
                hint="kernels add fields; the schema accepts any extra integer field",
            )
        elif shape.unit != bool(unit):
            self.builder.error(
                "meminfo.unit",
                f"{key!r} is printed {'with' if shape.unit else 'without'} ' kB'",
                line.number,
                unit[0][1] if unit else column + len(rest),
                pointer=pointer,
            )
        if self.builder.exact:
            self.builder.layout(line, field_line(key, value, shape))

    def _kernel_line(self, line: Line, key: str, rest: str, column: int) -> bool:
        """Take a known field printed exactly as the kernel prints it, the lines of nearly
        every real file, in a few string operations; anything else is left to the general
        reader, which says what is wrong with it."""
        if key not in KNOWN:
            return False
        parts = rest.split()
        digits = parts[0] if parts else ""
        value = parse_int(digits, 64, signed=key in INFLATED)
        unit = parts[1:] == ["kB"]
        if value is None or len(parts) > 1 + unit:
            return False
        shape = template(key, self.width, unit=unit)
        if line.text != field_line(key, value, shape):  # the shape's unit, the text's too
            return False
        self.builder.map("/" + pointer_token(key), line.number, column + rest.find(digits))
        self.instance[key] = value
        return True

    def _shape_ok(
        self, line: Line, key: str, tokens: list[tuple[str, int]], end_column: int
    ) -> bool:
        """Report a missing value or text other than `` kB`` after it."""
        pointer = "/" + pointer_token(key)
        if not tokens:
            self.builder.error(
                "parse.bad-value",
                f"{clip(key)!r} has no value",
                line.number,
                end_column,
                pointer=pointer,
            )
            return False
        extra = tokens[2:] if len(tokens) > 1 and tokens[1][0] == "kB" else tokens[1:]
        if extra:
            word, column = extra[0]
            self.builder.error(
                "parse.bad-value",
                f"unexpected {word[:20]!r} after the value of {clip(key)!r}; the kernel prints "
                "a number and ' kB' (or no unit)",
                line.number,
                column,
                pointer=pointer,
            )
            return False
        return True

    def _row(self, line: Line, name: str, rest: str, column: int) -> None:
        tokens = words(rest, column)
        columns = ROWS[name]
        if len(tokens) != len(columns):
            self.builder.error(
                "parse.bad-value",
                f"the 2.4 row {name!r} has {len(tokens)} values, not {len(columns)}",
                line.number,
                column,
                pointer=f"/{name}",
            )
            return
        row: dict[str, int] = {}
        for field, (digits, digits_column) in zip(columns, tokens):
            value = self.builder.number(digits, line.number, digits_column, f"/{name}/{field}")
            if value is None:
                return
            row[field] = value
        self.instance[name] = row
        self.builder.map(f"/{name}", line.number, 1)
        self.builder.layout(line, row_line(name, row))


def _check_inflated(builder: ParseBuilder, reader: _Reader) -> None:
    """Both Inflated lines or neither; a note where they sit as in the RFC's proc.rst."""
    present = [key for key in INFLATED if key in reader.seen]
    if len(present) == 1:
        (key,) = present
        other = INFLATED[1 - INFLATED.index(key)]
        builder.error(
            "meminfo.inflated-pair",
            f"{key!r} without {other!r}: the RFC prints both lines or neither",
            reader.seen[key].number,
            1,
            pointer="/" + other,
        )
    if not present:
        return
    first = min(reader.order.index(key) for key in present)
    after = [key for key in reader.order[first:] if key in PRINTED_BEFORE_INFLATED]
    if after:
        builder.note(
            "meminfo.rfc-placement",
            f"the Inflated lines come before {after[0]!r}, as in the RFC's proc.rst "
            "example; the RFC's code prints them after every field up to CmaFree",
            reader.seen[reader.order[first]].number,
            1,
        )


def _check_header(builder: ParseBuilder, reader: _Reader) -> None:
    """The 2.4 dialect opens with the header and its two rows."""
    last = 0
    parts = ((_HEADER_KEY, "the header"), ("Mem", "the Mem: row"), ("Swap", "the Swap: row"))
    for key, what in parts:
        if key in reader.seen:
            last = reader.seen[key].number
            continue
        builder.error(
            "parse.missing-line",
            f"a 2.4 meminfo lacks {what}",
            last + 1,
            1,
            pointer="" if key == _HEADER_KEY else f"/{key}",
        )


def render(instance: JSON, dialect: str, width: int = MODERN_WIDTH) -> str:
    """The file as the kernel prints it (exact layout); ``width`` is the label width."""
    lines = []
    if any(name in instance for name in ROWS):
        lines.append(HEADER)
        lines += [row_line(name, instance[name]) for name in ROWS if name in instance]
    for key, value in instance.items():
        if key not in ROWS:
            lines.append(field_line(key, value, template(key, width)))
    return "".join(line + "\n" for line in lines)


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="/proc/meminfo",
    description="/proc/meminfo: the kernel's memory summary, including the Balloon line "
    "(6.15+) and the RFC's InflatedTotal/InflatedFree lines.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="meminfo.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
