"""Text handling shared by every parser: decoding, lines, numbers, layout comparison.

The kernel prints these files with fixed printf templates, so the exact-layout check is
the same for every format: a parser reads a line leniently, renders the values it read
back through the kernel's template, and :meth:`ParseBuilder.layout` compares the two,
reporting the first column where they differ. Parsers collect their findings and source
map in a :class:`ParseBuilder` instead of threading lists through every function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Union

from .diagnostics import Diagnostic, Location, Severity
from .model import JSON, Layout, ParseResult

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

MAX_DIGITS = 40
"""No C type the kernel prints needs more digits; longer runs are refused unread."""

BITS_MAX = {32: 2**32 - 1, 64: 2**64 - 1}

ODD_SPACES = frozenset(
    "\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(map(chr, range(0x2000, 0x200B)))
)
"""What ``str.split()`` takes for blanks besides the space, the tab and the line ends:
no kernel prints one in these files (``text.odd-space``)."""

SHOWN = 60
"""At most this many characters of the input are quoted in a message or hint, so that a
finding about a line of a megabyte does not carry a copy of it."""


@dataclass(frozen=True)
class Line:
    """One line of input: its 1-based number and its text without the line end."""

    number: int
    text: str
    annotation: str = ""
    """A ``// ...`` comment removed from the end of the line (documentation samples)."""


class ParseBuilder:
    """Collects the diagnostics and source map of one parse, then makes the result."""

    def __init__(
        self, format_id: str, layout: Layout, source_map: LazySourceMap | None = None
    ) -> None:
        self.format_id = format_id
        self.layout_mode = layout
        self.exact = layout is Layout.EXACT
        self.diagnostics: list[Diagnostic] = []
        self.source_map: dict[str, tuple[int, int]] = {}
        self.annotations: list[tuple[int, str]] = []
        self.lazy_map = source_map
        """The result's source map when it is worked out only if asked for: :meth:`map`
        then records nothing."""

    # -- findings ---------------------------------------------------------------
    def add(
        self,
        id: str,
        severity: Severity,
        message: str,
        line: int = 0,
        column: int = 0,
        hint: str = "",
        pointer: str = "",
    ) -> None:
        location = Location("", line, column)
        self.diagnostics.append(Diagnostic(id, severity, message, location, hint, pointer))

    def error(self, id: str, message: str, line: int = 0, column: int = 0, **kw: str) -> None:
        self.add(id, Severity.ERROR, message, line, column, **kw)

    def warning(self, id: str, message: str, line: int = 0, column: int = 0, **kw: str) -> None:
        self.add(id, Severity.WARNING, message, line, column, **kw)

    def note(self, id: str, message: str, line: int = 0, column: int = 0, **kw: str) -> None:
        self.add(id, Severity.NOTE, message, line, column, **kw)

    def unreadable(self, line: Line, what: str) -> None:
        """A line that does not have the shape of any line of this format."""
        self.error(
            "parse.unreadable-line",
            f"cannot read this line as {what}: {clip(line.text)!r}",
            line.number,
            1,
        )

    # -- values -----------------------------------------------------------------
    def map(self, pointer: str, line: int, column: int) -> None:
        if self.lazy_map is None:
            self.source_map.setdefault(pointer, (line, column))

    def number(
        self,
        digits: str,
        line: int,
        column: int,
        pointer: str,
        bits: int = 64,
        signed: bool = False,
    ) -> int | None:
        """``digits`` as an integer of a C type of ``bits`` bits, or None with an error."""
        value = parse_int(digits, bits, signed)
        if value is None:
            kind = f"{'s' if signed else 'u'}{bits}"
            self.error(
                "parse.bad-number",
                f"{clip(digits)!r} is not a {kind} decimal number",
                line,
                column,
                pointer=pointer,
            )
            return None
        self.map(pointer, line, column)
        return value

    # -- layout -----------------------------------------------------------------
    def layout(self, line: Line, expected: str) -> None:
        """In exact mode, report where ``line`` first differs from ``expected``."""
        if not self.exact or line.text == expected:
            return
        index = first_difference(line.text, expected)
        want, got = expected[index : index + 24], line.text[index : index + 24]
        self.warning(
            "layout.whitespace" if _same_but_space(line.text, expected) else "layout.text",
            f"differs from the kernel's layout at column {index + 1}: expected "
            f"{want!r}, found {got!r}",
            line.number,
            index + 1,
            hint=f"the kernel prints: {clip(expected, 4 * SHOWN)!r}",
        )

    def result(self, dialect: str, instance: JSON) -> ParseResult:
        return ParseResult(
            format=self.format_id,
            dialect=dialect,
            instance=instance,
            source_map=dict(self.source_map) if self.lazy_map is None else self.lazy_map,
            diagnostics=tuple(self.diagnostics),
            annotations=tuple(self.annotations),
        )


class LazySourceMap(Mapping[str, tuple[int, int]]):
    """A source map worked out from the text only when someone reads it.

    A file read by a whole-file fast path has no finding to locate, and most files of a
    fleet are such files: working out where each value stands would cost more than reading
    them. ``make(*args)`` gives the map as a dict on first use; pickled, it is that dict.
    """

    __slots__ = ("_args", "_made", "_make")

    def __init__(self, make: Callable[..., dict[str, tuple[int, int]]], *args: Any) -> None:
        self._make = make
        self._args = args
        self._made: dict[str, tuple[int, int]] | None = None

    def _map(self) -> dict[str, tuple[int, int]]:
        if self._made is None:
            self._made = self._make(*self._args)
            self._args = ()  # the text it was made from is not kept twice
        return self._made

    def __getitem__(self, pointer: str) -> tuple[int, int]:
        return self._map()[pointer]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())

    def __repr__(self) -> str:
        return repr(self._map())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._map(),))


def parse_int(digits: str, bits: int = 64, signed: bool = False) -> int | None:
    """A decimal integer that fits the C type, else None. Never slow on huge input."""
    body = digits[1:] if signed and digits[:1] == "-" else digits
    if not body or len(body) > MAX_DIGITS or not body.isascii() or not body.isdigit():
        return None
    value = int(digits)
    limit = BITS_MAX[bits] >> 1 if signed else BITS_MAX[bits]
    if value > limit or value < -limit - 1:
        return None
    return value


def first_difference(a: str, b: str) -> int:
    """Index of the first character where ``a`` and ``b`` differ."""
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return min(len(a), len(b))


def _same_but_space(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def clip(text: str, limit: int = SHOWN) -> str:
    """``text`` as quoted in a message: its first ``limit`` characters and ``...``."""
    return text if len(text) <= limit else text[:limit] + "..."


def words(text: str, offset: int = 0) -> list[tuple[str, int]]:
    """The whitespace-separated words of ``text`` with the index of each (plus ``offset``).

    ``str.split`` and ``str.find`` from the end of the previous word: one pass over the
    text, where a regular expression per line would cost a call per word.
    """
    found = []
    at = 0
    for word in text.split():
        at = text.find(word, at)
        found.append((word, at + offset))
        at += len(word)
    return found


def annotation_start(text: str) -> int:
    """Index where a ``// ...`` annotation starts in ``text`` (the whitespace before its
    first ``//`` included), or -1 when there is none.

    The first ``//`` starts it, as ``\\s*//`` searched from the left would find, but
    without the regular expression, whose search restarts at every space of a long run
    (quadratic time on a line of spaces with no ``//`` after them).
    """
    slashes = text.find("//")
    return -1 if slashes < 0 else len(text[:slashes].rstrip())


Source = Union[str, bytes]


def ascii_text(data: Source) -> str | None:
    """``data`` as text for a whole-file fast path: text as it is, bytes when they are
    ASCII (as the kernel prints); None for other bytes, which only a line reader reads
    (and reports on)."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


def decode(data: Source, builder: ParseBuilder) -> str:
    """Text from ``data``; invalid UTF-8 is replaced and reported at its line and column."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        builder.error(
            "text.invalid-utf8",
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; the kernel prints ASCII",
            line,
            column,
        )
        return data.decode("utf-8", errors="replace")


def split_lines(data: Source, builder: ParseBuilder, annotations: bool = True) -> list[Line]:
    """The lines of ``data``, with the text-level findings recorded in ``builder``.

    A byte-order mark, NUL bytes and invalid UTF-8 are errors or warnings in both
    layouts; CRLF line ends and a missing final newline are layout findings in exact
    mode only. With ``annotations``, ``// ...`` comments (documentation samples) are
    taken off the lines and kept in ``builder.annotations``; lines that hold only a
    comment disappear.
    """
    text = decode(data, builder)
    if text.startswith("\ufeff"):
        builder.warning("text.bom", "a byte-order mark precedes the text", 1, 1)
        text = text[1:]
    if not text.strip():
        builder.error("text.empty", "the input is empty", 1, 1)
        return []
    raw = text.split("\n")
    ends_with_newline = raw[-1] == ""
    if ends_with_newline:
        raw.pop()
    elif builder.exact:
        builder.warning(
            "layout.trailing-newline",
            "the last line has no newline; the kernel ends every line with one",
            len(raw),
            len(raw[-1]) + 1,
        )
    lines = []
    crlf = 0
    for number, content in enumerate(raw, start=1):
        if content.endswith("\r"):
            content = content[:-1]
            crlf += 1
            if crlf == 1 and builder.exact:
                builder.warning(
                    "layout.line-ending",
                    "CRLF line end; the kernel ends lines with LF alone",
                    number,
                    len(content) + 1,
                )
        nul = content.find("\0")
        if nul >= 0:
            builder.error("text.nul", "NUL byte in the text", number, nul + 1)
        if not content.isascii() or not content.isprintable():
            _odd_space(content, number, builder)
        start = annotation_start(content) if annotations else -1
        if start >= 0:
            note = content[content.index("//", start) + 2 :].strip()
            builder.annotations.append((number, note))
            if builder.exact:
                builder.warning(
                    "layout.annotation", "a '//' annotation is not kernel output", number, start + 1
                )
            content = content[:start]
            if not content.strip():
                continue
            lines.append(Line(number, content, note))
            continue
        lines.append(Line(number, content))
    return lines


def _odd_space(content: str, number: int, builder: ParseBuilder) -> None:
    """A warning at the first blank of ``content`` that is not a space or a tab."""
    for column, char in enumerate(content, start=1):
        if char in ODD_SPACES:
            builder.warning(
                "text.odd-space",
                f"{char!r} (U+{ord(char):04X}) is no padding the kernel prints",
                number,
                column,
            )
            return


def pointer_token(key: str) -> str:
    """``key`` escaped as one JSON pointer reference token (RFC 6901)."""
    if "~" not in key and "/" not in key:
        return key
    return key.replace("~", "~0").replace("/", "~1")
