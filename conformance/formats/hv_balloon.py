"""``/sys/kernel/debug/hv-balloon``: the Hyper-V balloon driver's debugfs file.

Two dialects:

* ``6.0``: upstream since v6.0 (``drivers/hv/hv_balloon.c``, ``hv_balloon_debug_show``):
  nine lines, each label left-justified in 22 characters and followed by ``": "``,
  except ``capabilities``, whose tokens each bring their own leading space.
* ``rfc``: the layout of the pre-merge patch that Virtuozzo's kernel documentation and the
  2022 RFC ``balloon.rst`` show: ``pages_ballooned_out``, ``vm_pages_commited`` and
  ``total_pages_commited`` in place of ``pages_ballooned`` and
  ``total_pages_committed``; ten lines.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import LazySourceMap, Line, ParseBuilder, Source, ascii_text, clip, split_lines
from . import GUEST_PATHS
from ._keyed import check_sequence, split_label

FORMAT_ID = "hv-balloon"

STATES = {
    0: "Initializing",
    1: "Initialized",
    2: "Balloon Up",
    3: "Balloon Down",
    4: "Hot Add",
    5: "Error",
}

_COMMON_HEAD = (
    "host_version",
    "capabilities",
    "state",
    "page_size",
    "pages_added",
    "pages_onlined",
)
LABELS = {
    "6.0": (
        *_COMMON_HEAD,
        "pages_ballooned",
        "total_pages_committed",
        "max_dynamic_page_count",
    ),
    "rfc": (
        *_COMMON_HEAD,
        "pages_ballooned_out",
        "vm_pages_commited",
        "total_pages_commited",
        "max_dynamic_page_count",
    ),
}
_RFC_ONLY = set(LABELS["rfc"]) - set(LABELS["6.0"])
_ANY_LABEL = set(LABELS["rfc"]) | set(LABELS["6.0"])
MOSTLY = 0.75
"""Share of the non-blank lines that must carry a label of the driver for a text that
lacks ``host_version`` or ``page_size`` (a damaged line) to be hv-balloon."""
_BITS = {"pages_added": 32, "pages_onlined": 32, "pages_ballooned": 32, "pages_ballooned_out": 32}
"""C type width of each counter; the others are unsigned long or u64."""

_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_STATE = re.compile(r"^(\d+) \((.*)\)$")
"""Both anchored, applied to one value, each quantifier followed by a character it cannot
match (or by the end): linear."""

DIALECTS = (
    DialectSpec(
        "6.0",
        "upstream (v6.0 and later)",
        "hv-balloon.6.0.schema.json",
        "6.0",
        "Nine lines with 22-character labels, as printed by hv_balloon_debug_show().",
    ),
    DialectSpec(
        "rfc",
        "RFC / Virtuozzo pre-merge labels",
        "hv-balloon.rfc.schema.json",
        "RFC",
        "The pre-merge patch's labels (pages_ballooned_out, vm_pages_commited, "
        "total_pages_commited), as Virtuozzo's documentation and the 2022 RFC show them.",
    ),
)


def detect(text: str) -> str | None:
    """The dialect when the text has the ``host_version`` and ``page_size`` lines, or
    when most of its lines (:data:`MOSTLY`, at least three) carry the driver's labels;
    ``rfc`` when a label only the RFC layout prints is among them. None otherwise."""
    total = known = 0
    labels: set[str] = set()
    for line in text.split("\n"):
        if not line.strip():
            continue
        total += 1
        label, colon, _ = line.partition(":")
        if colon:
            labels.add(label.strip())
            known += label.strip() in _ANY_LABEL
    if not ({"host_version", "page_size"} <= labels or known >= max(3, MOSTLY * total)):
        return None
    return "rfc" if labels & _RFC_ONLY else "6.0"


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the file; never raises on bad input."""
    return kernel_file(data, dialect) or _parse_lines(data, dialect, layout)


def _parse_lines(data: Source, dialect: str | None, layout: Layout) -> ParseResult:
    """The line reader: every line read leniently, every finding reported."""
    builder = ParseBuilder(FORMAT_ID, layout)
    lines = split_lines(data, builder)
    dialect = dialect or detect("\n".join(line.text for line in lines)) or "6.0"
    instance: dict[str, Any] = {}
    found: list[tuple[str, Line]] = []
    for line in lines:
        parts = split_label(line)
        if parts is None:
            if line.text.strip():
                builder.unreadable(line, "'label: value'")
            continue
        label, value, column = parts
        found.append((label, line))
        if label in LABELS[dialect] and label not in instance:
            _read_value(builder, instance, line, label, value, column)
    check_sequence(builder, found, LABELS[dialect], f"{FORMAT_ID} ({dialect})")
    return builder.result(dialect, instance)


def kernel_file(data: Source, dialect: str | None) -> ParseResult | None:
    """The result of a file printed exactly as hv_balloon_debug_show() prints it (as nearly
    every real file is), read by one regular expression of the whole file; None for any
    other file, which the line reader then reads and reports on. Such a file has no
    finding in either layout; its source map is the line reader's, worked out only if
    something asks for it."""
    text = ascii_text(data)
    if text is None:
        return None
    # NUL and '//' are findings of the line reader that the pattern below would not see
    if not text.isascii() or "\0" in text or "//" in text:
        return None
    for found in (dialect,) if dialect else ("6.0", "rfc"):
        match = _whole(found).fullmatch(text)
        if match is not None:
            instance = _kernel_instance(found, match.groups())
            if instance is None:
                return None
            return ParseResult(FORMAT_ID, found, instance, LazySourceMap(_source_map, text, found))
    return None


@cache
def _whole(dialect: str) -> re.Pattern[str]:
    """The whole file of ``dialect`` as the driver prints it, one group a number (the
    version's two), the capabilities and the state's name. Linear: each quantifier is
    followed by a character it cannot match (a word by a space or newline, the state's
    name by the ')' that ends its line, which it may hold: the last one ends it)."""
    numbers = "(0|[1-9][0-9]{0,39})"
    lines = []
    for label in LABELS[dialect]:
        value = {
            "host_version": f" {numbers}\\.{numbers}",
            "capabilities": "((?: [!-~]+)*)",
            "state": f" {numbers} \\(([^\\n]*)\\)",
        }.get(label, " " + numbers)
        lines.append(re.escape(f"{label:<22}:") + value + "\n")
    return re.compile("".join(lines))


def _kernel_instance(dialect: str, groups: tuple[str, ...]) -> dict[str, Any] | None:
    """The instance of :func:`_whole`'s groups; None when a number is past its C type
    or the state's name is not the driver's name of its code (findings)."""
    major, minor, capabilities, code, name, *counters = groups
    numbers = [int(major), int(minor), int(code), *map(int, counters)]
    labels = LABELS[dialect][3:]
    widths = [32, 32, 32, *(_BITS.get(label, 64) for label in labels)]
    if any(number >> width for number, width in zip(numbers, widths)):
        return None
    if STATES.get(numbers[2]) != name:
        return None
    instance: dict[str, Any] = {
        "host_version": {"major": numbers[0], "minor": numbers[1]},
        "capabilities": capabilities.split(),
        "state": {"code": numbers[2], "name": name},
    }
    instance.update(zip(labels, numbers[3:]))
    return instance


def _source_map(text: str, dialect: str) -> dict[str, tuple[int, int]]:
    return dict(_parse_lines(text, dialect, Layout.LENIENT).source_map)


def _read_value(
    builder: ParseBuilder, instance: dict[str, Any], line: Line, label: str, value: str, col: int
) -> None:
    pointer = f"/{label}"
    if label == "host_version":
        match = _VERSION.match(value)
        if not match:
            builder.error(
                "parse.bad-value",
                f"host_version {clip(value)!r} is not MAJOR.MINOR",
                line.number,
                col,
            )
            return
        major = builder.number(match[1], line.number, col, pointer + "/major", 32)
        minor = builder.number(match[2], line.number, col + match.start(2), pointer + "/minor", 32)
        if major is None or minor is None:
            return
        instance[label] = {"major": major, "minor": minor}
        builder.map(pointer, line.number, col)
    elif label == "capabilities":
        words = value.split()
        instance[label] = words
        builder.map(pointer, line.number, col)
        for index, word in enumerate(words):
            builder.map(f"{pointer}/{index}", line.number, col + value.find(word))
    elif label == "state":
        if not _read_state(builder, instance, line, value, col):
            return
    else:
        number = builder.number(value, line.number, col, pointer, _BITS.get(label, 64))
        if number is None:
            return
        instance[label] = number
    builder.layout(line, _line(label, instance[label]))


def _read_state(
    builder: ParseBuilder, instance: dict[str, Any], line: Line, value: str, col: int
) -> bool:
    match = _STATE.match(value if builder.exact else " ".join(value.split()))
    if not match:
        builder.error(
            "parse.bad-value", f"state {clip(value)!r} is not 'N (Name)'", line.number, col
        )
        return False
    code = builder.number(match[1], line.number, col, "/state/code", 32)
    if code is None:
        return False
    name = match[2]
    name_column = col + value.find("(") + 1
    instance["state"] = {"code": code, "name": name}
    builder.map("/state", line.number, col)
    builder.map("/state/name", line.number, name_column)
    if STATES.get(code, "Unknown") != name:
        builder.error(
            "hv-balloon.state-name",
            f"state {code} is {STATES.get(code, 'Unknown')!r} in the driver, not {clip(name)!r}",
            line.number,
            name_column,
            pointer="/state",
        )
    return True


def _line(label: str, value: Any) -> str:
    """One line as hv_balloon_debug_show() prints it."""
    if label == "host_version":
        return f"{label:<22}: {value['major']}.{value['minor']}"
    if label == "capabilities":
        return f"{label:<22}:" + "".join(" " + word for word in value)
    if label == "state":
        return f"{label:<22}: {value['code']} ({value['name']})"
    return f"{label:<22}: {value}"


def render(instance: JSON, dialect: str) -> str:
    """The file as the kernel prints it (exact layout)."""
    return "".join(_line(label, instance[label]) + "\n" for label in LABELS[dialect])


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="Hyper-V balloon debugfs file",
    description="/sys/kernel/debug/hv-balloon: the hv_balloon driver's state and page counts.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="hv-balloon.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
