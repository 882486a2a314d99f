"""``/proc/vmstat``: the kernel's memory counters, one ``name value`` line each.

One dialect, ``2.6``: ``vmstat_show()`` in ``mm/vmstat.c`` prints the name, one space
and the value as an unsigned long (kernel-formats.md §5.3). The balloon lines are
``nr_balloon_pages`` (pages, 6.15+) and the events ``balloon_inflate``,
``balloon_deflate`` and ``balloon_migrate``; every other name is accepted as a counter,
since the list changes with every kernel version and configuration.

The instance is a flat object, name -> integer, in file order.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import (
    LazySourceMap,
    Line,
    ParseBuilder,
    Source,
    ascii_text,
    clip,
    pointer_token,
    split_lines,
)
from ..text import words as words_of
from . import GUEST_PATHS

FORMAT_ID = "vmstat"

_NAME = re.compile(r"[A-Za-z0-9_]+")
U64_MAX = 2**64 - 1
_DETECT = re.compile(r"[a-z][a-z0-9_]* [0-9]+")
"""Every kernel name starts with a letter, so a bit string split by a space is not one.
Both used with ``fullmatch`` on one line: no two quantifiers can take the same character,
so the match is linear."""
MOSTLY = 0.75
"""Share of the non-blank lines that must be ``name value`` for the text to be vmstat:
a few damaged lines do not hide the format (they are findings of the parse)."""

DIALECTS = (
    DialectSpec(
        "2.6",
        "name value lines (2.6 and later)",
        "vmstat.schema.json",
        "2.6",
        "One 'name value' line per counter, as vmstat_show() prints them.",
    ),
)


def detect(text: str) -> str | None:
    """``2.6`` when most non-blank lines (:data:`MOSTLY`) are ``name value``, else None."""
    total = fit = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        total += 1
        fit += _DETECT.fullmatch(line.rstrip("\r")) is not None
    return "2.6" if fit and fit >= MOSTLY * total else None


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the file; never raises on bad input."""
    whole = _kernel_file(data, dialect)
    if whole is not None:
        return whole
    builder = ParseBuilder(FORMAT_ID, layout)
    instance: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for line in split_lines(data, builder, annotations=False):
        _read(builder, instance, seen, line)
    return builder.result(dialect or "2.6", instance)


def _kernel_file(data: Source, dialect: str | None) -> ParseResult | None:
    """The result of a file printed exactly as the kernel prints it, every line of it (as
    nearly every real file is), read by C-level string calls with no Python work per
    line; None for any other file, which the line reader then reads and reports on. Such
    a file has no finding in either layout, and its source map is worked out only if
    something asks for it."""
    text = ascii_text(data)
    if text is None or not text.isascii():
        return None
    raw = data if isinstance(data, bytes) else text.encode("ascii")
    # with the characters of names and values taken out, a file of 'name value' lines
    # leaves exactly ' \n' per line: this one C pass checks every character and where
    # each space and newline stands (a tab, a CR, a sign, two spaces: none pass)
    separators = raw.translate(None, _TOKEN_BYTES)
    lines = len(separators) // 2
    if not lines or separators != _SEPARATORS * lines:
        return None
    words = text.split()
    if len(words) != 2 * lines:
        return None  # an empty name or value
    names, digits = words[::2], words[1::2]
    # values: digits only, no leading zero (as %lu prints them)
    if not "".join(digits).isdigit() or _LEADING_ZERO.search(raw) is not None:
        return None
    try:
        instance = dict(zip(names, map(int, digits)))
    except ValueError:  # thousands of digits: past Python's limit, and any u64's
        return None
    if len(instance) != lines or max(instance.values()) > U64_MAX:
        return None  # a name twice, or a value past the u64
    source_map = LazySourceMap(_kernel_source_map, names)
    return ParseResult(FORMAT_ID, dialect or "2.6", instance, source_map)


_TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
"""What names ([A-Za-z0-9_]) and values (digits) are made of."""
_SEPARATORS = b" \n"
_LEADING_ZERO = re.compile(rb" 0[0-9]")
"""A value with a leading zero (the one place a space is followed by '0' and a digit)."""


def _kernel_source_map(names: list[str]) -> dict[str, tuple[int, int]]:
    # one name per line, from line 1, its value after the name and one space; names of
    # [A-Za-z0-9_] need no escaping in a JSON pointer
    return {"/" + name: (number, len(name) + 2) for number, name in enumerate(names, 1)}


def _read(
    builder: ParseBuilder, instance: dict[str, Any], seen: dict[str, int], line: Line
) -> None:
    if _kernel_line(builder, instance, seen, line):
        return
    words = words_of(line.text, 1)
    if not words:
        if builder.exact:
            builder.warning("layout.blank-line", "the kernel prints no blank line", line.number, 1)
        return
    name = words[0][0]
    if not _NAME.fullmatch(name):
        builder.unreadable(line, "'name value'")
        return
    if name in seen:
        builder.error(
            "parse.duplicate-line",
            f"{clip(name)!r} appears twice (first on line {seen[name]})",
            line.number,
            1,
        )
        return
    seen[name] = line.number
    pointer = "/" + pointer_token(name)
    if len(words) != 2:
        missing = len(words) < 2
        builder.error(
            "parse.bad-value",
            f"{clip(name)!r} has no value"
            if missing
            else f"unexpected {words[2][0][:20]!r} after the value",
            line.number,
            len(line.text.rstrip()) + 1 if missing else words[2][1],
            pointer=pointer,
        )
        return
    value = builder.number(words[1][0], line.number, words[1][1], pointer)
    if value is None:
        return
    instance[name] = value
    if builder.exact:
        builder.layout(line, _line(name, value))


def _kernel_line(
    builder: ParseBuilder, instance: dict[str, Any], seen: dict[str, int], line: Line
) -> bool:
    """Take a line exactly as the kernel prints it (``name value``, one space, a u64 with
    no leading zero), the lines of nearly every real file, in a few string operations;
    anything else is left to the general reader, which says what is wrong with it."""
    name, space, digits = line.text.partition(" ")
    if not (space and digits.isdigit() and digits.isascii() and name not in seen):
        return False
    if (digits[0] == "0" and digits != "0") or len(digits) > 20 or not _NAME.fullmatch(name):
        return False
    value = int(digits)
    if value > U64_MAX:
        return False
    seen[name] = line.number
    builder.map("/" + pointer_token(name), line.number, len(name) + 2)
    instance[name] = value
    return True


def _line(name: str, value: int) -> str:
    """One line as vmstat_show() prints it."""
    return f"{name} {value}"


def render(instance: JSON, dialect: str) -> str:
    """The file as the kernel prints it (exact layout)."""
    return "".join(_line(name, value) + "\n" for name, value in instance.items())


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="/proc/vmstat",
    description="/proc/vmstat: the kernel's memory counters, including nr_balloon_pages "
    "(6.15+) and the balloon_inflate/deflate/migrate events.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="vmstat.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
