"""The ``github`` reporter: GitHub Actions workflow commands that annotate files in a run.

One ``::error``, ``::warning`` or ``::notice`` command per finding (notes become notices)
with ``file``, ``line``, ``col`` and ``title`` (the check id) properties, followed by the
message and, on a second line of it, the hint. GitHub reads a command per line, so the
message escapes ``%``, CR and LF, and property values also ``:`` and ``,`` (the same
escaping as ``@actions/core``'s ``escapeData`` and ``escapeProperty``).
"""

from __future__ import annotations

from typing import TextIO

from ..diagnostics import Diagnostic, Severity
from .model import Report
from .options import ReportOptions, ordered

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def write_github(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write one workflow command per finding of ``report`` to ``stream``."""
    for capture in report.captures:
        for diagnostic in ordered(capture.diagnostics):
            stream.write(annotation(diagnostic) + "\n")


def annotation(diagnostic: Diagnostic) -> str:
    """The workflow command for one finding."""
    loc = diagnostic.location
    properties = []
    if loc.path:
        properties.append(("file", loc.path))
        # GitHub ignores a position without a file, so one is written only with a file
        if loc.line:
            properties.append(("line", str(loc.line)))
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
