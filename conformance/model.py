"""Value types shared by the parsers, the schema layer and the callers.

A *format* (``meminfo``, ``hv-balloon`` ...) has one or more *dialects*, each a
generation of the layout named after the first kernel that printed it. Parsing a text
gives a :class:`ParseResult`: the *instance* (JSON-compatible data that the dialect's
schema validates), a *source map* from JSON pointers to places in the text, and the
diagnostics found on the way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

from .diagnostics import Diagnostic, Location

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

JSON = Any
"""A JSON-compatible value: dict, list, str, int, bool or None."""

SourceMap = Mapping[str, tuple[int, int]]
"""JSON pointer -> (line, column), both 1-based."""


class Layout(enum.Enum):
    """How closely a text must follow the kernel's bytes.

    ``EXACT`` checks label padding, value widths, separators and the trailing newline,
    and reports each deviation as a ``layout.*`` warning; ``LENIENT`` accepts any run of
    whitespace where the kernel pads, as documentation examples do. Both give the same
    instance.
    """

    EXACT = "exact"
    LENIENT = "lenient"


@dataclass(frozen=True)
class DialectSpec:
    """One generation of a format's layout."""

    id: str
    title: str
    schema: str
    """File name of the dialect's schema in ``schemas/``."""
    first_kernel: str
    """The first kernel that printed this layout, or ``RFC`` for never-merged patches."""
    description: str


@dataclass(frozen=True)
class ParseResult:
    """What a parser makes of one text."""

    format: str
    dialect: str
    instance: JSON
    source_map: SourceMap
    diagnostics: tuple[Diagnostic, ...] = ()
    annotations: tuple[tuple[int, str], ...] = ()
    """``(line, text)`` of ``// ...`` annotations that were left out of the instance."""

    def locate(self, pointer: str) -> Location:
        """The place in the text of the value at ``pointer`` (or its nearest parent)."""
        probe = pointer
        while True:
            if probe in self.source_map:
                line, column = self.source_map[probe]
                return Location("", line, column)
            if not probe:
                return Location("", 1, 1)
            probe = probe.rsplit("/", 1)[0]


Parser = Callable[..., ParseResult]
Renderer = Callable[[JSON, str], str]
Detector = Callable[[str], Optional[str]]


@dataclass(frozen=True)
class FormatSpec:
    """A registered format: its id, guest paths, dialects and the functions that handle it.

    ``parse(text, dialect, layout, context)`` never raises on bad input;
    ``detect(text)`` returns the dialect id when the text looks like this format, else
    None; ``render(instance, dialect)`` prints an instance back in the kernel's exact
    layout (used by the round-trip tests and the sample generators).
    """

    id: str
    title: str
    description: str
    paths: tuple[str, ...]
    """Guest paths as glob patterns relative to the root, e.g. ``proc/meminfo``."""
    dialects: tuple[DialectSpec, ...]
    schema: str
    """File name of the format's schema (any dialect)."""
    parse: Parser
    detect: Detector
    render: Renderer

    def dialect(self, dialect_id: str) -> DialectSpec:
        for dialect in self.dialects:
            if dialect.id == dialect_id:
                return dialect
        from .errors import UnknownFormatError

        known = ", ".join(d.id for d in self.dialects)
        raise UnknownFormatError(
            f"format {self.id!r} has no dialect {dialect_id!r} (known: {known})"
        )

    @property
    def dialect_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dialects)
