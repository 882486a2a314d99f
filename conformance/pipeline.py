"""Text to checked instance: detection, parsing and schema validation in one call.

:func:`parse` is the library's front door. It picks the format (from ``format``, else from
the guest ``path``, else from the content), the dialect (given, else detected), runs the
format's parser and validates the instance against the dialect's schema. It never raises
on bad input; it raises :class:`~conformance.errors.UsageError` for unknown ids and
:class:`~conformance.errors.DetectionError` when the format cannot be told.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from . import schemas
from .diagnostics import Diagnostic, sorted_diagnostics
from .errors import DetectionError
from .formats import GUEST_PATHS, all_formats, format_ids, get_format
from .model import FormatSpec, Layout, ParseResult
from .records import replace
from .text import Source

MAX_PER_KIND = 100
"""At most this many findings of one id are listed for one file; one more finding says
how many were left out. A file of a hundred thousand bad lines would otherwise cost a
diagnostic each, in memory and in every report, and say nothing the first hundred do not."""


def format_for_path(path: str, by_name: bool = True) -> FormatSpec | None:
    """The format whose guest path ``path`` ends with, if any (``/proc/meminfo``,
    ``capture/sys/kernel/debug/vmmemctl``, ``sys/bus/virtio/devices/virtio0/features``);
    with ``by_name``, also a file named after a format id (``flat/meminfo.txt``)."""
    format_id = format_id_for_path(path, by_name)
    return get_format(format_id) if format_id is not None else None


_PATTERNS = tuple(GUEST_PATHS.items())
_NAME_PATTERNS = tuple(
    (format_id, tuple(p for p in patterns if "/" not in p)) for format_id, patterns in _PATTERNS
)


def _single_names(by_name: bool) -> dict[str, str] | None:
    """What a path of a single name names, as a table (a fleet's listing asks it of every
    member): the patterns without a '/', then with ``by_name`` the format ids and their
    ``.txt`` files, the first to match winning; None if one of those patterns is a glob."""
    table: dict[str, str] = {}
    for format_id, patterns in _NAME_PATTERNS:
        for pattern in patterns:
            if any(c in pattern for c in "*?["):
                return None
            table.setdefault(pattern, format_id)
    for format_id in format_ids() if by_name else ():
        table.setdefault(format_id, format_id)
        table.setdefault(format_id + ".txt", format_id)
    return table


_SINGLE_NAMES = {by_name: _single_names(by_name) for by_name in (True, False)}


def format_id_for_path(path: str, by_name: bool = True) -> str | None:
    """:func:`format_for_path`'s format id, told from the table of guest paths alone
    (no parser is imported)."""
    names = _SINGLE_NAMES[by_name]
    if names is not None and "/" not in path and "\\" not in path:
        return names.get(path)
    return _matched(path, by_name)


def _matched(path: str, by_name: bool) -> str | None:
    """:func:`format_id_for_path` by matching every pattern (the table's reference)."""
    parts = path.replace("\\", "/").strip("/").split("/")
    tails = ["/".join(parts[start:]) for start in range(len(parts))]
    # a pattern with a '/' in it only matches a path with one: a single name (a fleet's
    # member, say) is held to the few patterns without
    table = _PATTERNS if len(parts) > 1 else _NAME_PATTERNS
    for format_id, patterns in table:
        for pattern in patterns:
            # fnmatch's '*' also matches '/', so 'sys/devices/*/virtio*/features' covers
            # any depth of transport path; try every tail so a capture prefix is ignored
            if any(fnmatch.fnmatchcase(tail, pattern) for tail in tails):
                return format_id
    name = parts[-1]
    for format_id in format_ids() if by_name else ():
        if name in (format_id, format_id + ".txt"):
            return format_id
    return None


def detect(text: str, path: str | None = None) -> tuple[FormatSpec, str]:
    """``(format, dialect)`` of ``text``: from ``path`` when it names a guest file,
    otherwise from the content alone. When the path names the format but the content
    fits none of its dialects, the format's first (default) dialect is given."""
    spec, dialect = _detect(text, path)
    return spec, dialect or spec.dialects[0].id


def _detect(text: str, path: str | None) -> tuple[FormatSpec, str | None]:
    if path:
        spec = format_for_path(path)
        if spec is not None:
            # None lets the parser pick the closest dialect of damaged text itself
            return spec, spec.detect(text)
    claims = [(spec, dialect) for spec in all_formats() if (dialect := spec.detect(text))]
    if len(claims) == 1:
        return claims[0]
    if not claims:
        raise DetectionError(
            "cannot tell the format of this text; name it with --format "
            f"(known: {', '.join(format_ids())})"
        )
    candidates = ", ".join(f"{spec.id} ({dialect})" for spec, dialect in claims)
    raise DetectionError(f"the text fits several formats: {candidates}; name one with --format")


def parse(
    text: Source,
    format: str | None = None,
    dialect: str | None = None,
    layout: Layout | str = Layout.LENIENT,
    path: str | None = None,
    context: Mapping[str, str] | None = None,
    validate: bool = True,
) -> ParseResult:
    """Parse ``text`` into an instance and check it against its schema.

    ``format`` and ``dialect`` are ids (``meminfo``, ``6.0`` ...); when left out they are
    detected. ``path`` is where the text came from: it helps detection and is recorded in
    every diagnostic's location. ``context`` passes neighbouring files a format may need
    (``{"device": "0x0005"}`` for virtio features).
    """
    layout = layout if isinstance(layout, Layout) else Layout(layout)
    if format is None:
        as_text = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        spec, detected = _detect(as_text, path)
    else:
        spec, detected = get_format(format), None
    if dialect is not None:
        spec.dialect(dialect)  # raises UnknownFormatError for a wrong id
    result = spec.parse(text, dialect or detected, layout, dict(context or {}))
    diagnostics: Sequence[Diagnostic] = result.diagnostics
    if validate:
        found = schemas.validate(result, spec.dialect(result.dialect).schema)
        diagnostics = [*diagnostics, *found] if found else diagnostics
    if not diagnostics:
        return result  # nearly every file of a fleet: nothing to sort, locate or copy
    if len(diagnostics) > 1:  # one finding (a note, say) is sorted and within bounds
        diagnostics = bounded(sorted_diagnostics(diagnostics))
    if path:
        diagnostics = [d.at(path) for d in diagnostics]
    # made field by field, not by records.replace, whose generic copy costs more than
    # the rest of this function for a small file (tests/test_pipeline.py holds the fields)
    return ParseResult(
        result.format,
        result.dialect,
        result.instance,
        result.source_map,
        tuple(diagnostics),
        result.annotations,
    )


def bounded(diagnostics: Sequence[Diagnostic], limit: int = MAX_PER_KIND) -> list[Diagnostic]:
    """The first ``limit`` diagnostics of each id (in the given order), and for each id
    with more, one diagnostic of its worst severity where the first left out stands,
    saying how many were left out."""
    kept: list[Diagnostic] = []
    counts: dict[str, int] = {}
    left_out: dict[str, Diagnostic] = {}
    for diagnostic in diagnostics:
        count = counts[diagnostic.id] = counts.get(diagnostic.id, 0) + 1
        if count <= limit:
            kept.append(diagnostic)
            continue
        first = left_out.setdefault(diagnostic.id, diagnostic)
        if first.severity < diagnostic.severity:
            left_out[diagnostic.id] = replace(first, severity=diagnostic.severity)
    if not left_out:
        return kept
    for id, first in left_out.items():
        more = counts[id] - limit
        message = f"{more} more {id} finding{'s' if more > 1 else ''} from here on, not listed"
        hint = f"at most {limit} findings of one kind are listed for one file"
        kept.append(Diagnostic(id, first.severity, message, first.location, hint))
    return sorted_diagnostics(kept)
