"""The ``github`` reporter: GitHub Actions workflow commands that annotate files in a run.

One ``::error``, ``::warning`` or ``::notice`` command per finding (notes become notices)
with ``file``, ``line``, ``endLine``, ``col`` and ``title`` (the check id) properties,
followed by the message and, on a second line of it, the hint. GitHub reads a command per
line, so the message escapes ``%``, CR and LF, and property values also ``:`` and ``,`` (the same
escaping as ``@actions/core``'s ``escapeData`` and ``escapeProperty``). A check that could
not run is one ``::notice`` per check and reason, saying on how many captures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from ..diagnostics import Diagnostic, Severity
from .model import Report
from .options import ReportOptions, ordered, plural, skipped_ids

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def write_github(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write one workflow command per finding of ``report`` to ``stream``, then one
    ``::notice`` per check and reason that kept it from running on some captures."""
    for line in finding_commands(report):
        stream.write(line + "\n")
    for line in skipped_notices(report):
        stream.write(line + "\n")


def finding_commands(report: Report) -> Iterator[str]:
    """The command of each finding, capture by capture, in report order."""
    for capture in report.captures:
        for diagnostic in ordered(capture.diagnostics):
            yield annotation(diagnostic)


def skipped_notices(report: Report) -> Iterator[str]:
    """One ``::notice`` per check and reason that kept it from running on some captures."""
    skipped: dict[tuple[str, str], list[Any]] = {}
    for capture in report.captures:
        for rule, reason in skipped_ids(capture).items():
            # counted, not listed: a fleet of thousands would otherwise repeat one line
            seen = skipped.setdefault((rule, reason), [0, capture.name])
            seen[0] += 1
    for (rule, reason), (count, first) in sorted(skipped.items()):
        where = first if count == 1 else f"{plural(count, 'capture')}, first {first}"
        title = escape_property(f"{rule} skipped")
        yield f"::notice title={title}::{escape_data(f'not checked on {where}: {reason}')}"


def annotation(diagnostic: Diagnostic) -> str:
    """The workflow command for one finding."""
    loc = diagnostic.location
    properties = []
    if loc.path:
        properties.append(("file", loc.path))
        # GitHub ignores a position without a file, so one is written only with a file
        if loc.line:
            properties.append(("line", str(loc.line)))
            # a finding is about one line: saying where it ends keeps GitHub from
            # stretching the annotation over the lines after it
            properties.append(("endLine", str(loc.line)))
            if loc.column:
                properties.append(("col", str(loc.column)))
    properties.append(("title", diagnostic.id))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = diagnostic.message
    if diagnostic.hint:
        message += "\nhint: " + diagnostic.hint
    return f"::{COMMAND[diagnostic.severity]} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A command's message: ``%`` first, so the escapes it adds are not escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: as a message, and ``:`` and ``,`` that end a value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
