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
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import Line, ParseBuilder, Source, clip, split_lines
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
