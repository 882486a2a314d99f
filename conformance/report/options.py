"""What every reporter shares: its options, the order of findings and their one-line form.

A reporter is a plain function ``(report, stream, options)``; :class:`ReportOptions` is
the only thing besides the report that can change its output, so the same report and
options always give the same bytes. Nothing here writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from ..diagnostics import Diagnostic, Severity
from .model import CaptureResult, Report

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.NOTE)
"""Worst first: the order counts are said in."""


@dataclass(frozen=True)
class ReportOptions:
    """How to write a report.

    ``timestamp`` (an ISO 8601 string the caller chose) is written by the JSON, SARIF and
    JUnit reporters only when given, so that a run repeated on the same input gives the
    same bytes. ``color`` is None for "when the stream is a terminal", True or False to
    choose (``NO_COLOR`` in the environment still turns colour off); ``environ`` replaces
    :data:`os.environ` for that decision (tests, embedding callers).
    """

    timestamp: str | None = None
    color: bool | None = None
    environ: Mapping[str, str] | None = None


def use_color(stream: TextIO, options: ReportOptions) -> bool:
    """Whether to write ANSI colours to ``stream``.

    Never when the environment has ``NO_COLOR``, whatever its value, not even when
    ``options.color`` asks for colour (issue #3 says never); otherwise ``options.color``
    when given, else only when the stream is a terminal.
    """
    environ = os.environ if options.environ is None else options.environ
    if "NO_COLOR" in environ:
        return False
    if options.color is not None:
        return options.color
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream is no terminal
        return False


def ordered(diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """``diagnostics`` by file, line, column, id and message (stable for equal keys)."""
    return sorted(diagnostics, key=Diagnostic.sort_key)


def all_files(report: Report) -> list[str]:
    """Every file checked in the run, each once, sorted."""
    return sorted({path for capture in report.captures for path in capture.files})


def rule_ids(capture: CaptureResult) -> list[str]:
    """The checks of one capture: the rules evaluated plus any id a finding carries that
    the engine did not list, so no finding is lost by a reporter organised by rule."""
    return sorted(set(capture.rules) | {d.id for d in capture.diagnostics})


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(report: Report) -> str:
    """``2 captures, 5 files: 1 error, 0 warnings, 3 notes``."""
    counts = ", ".join(plural(report.count(s), s.value) for s in SEVERITIES)
    captures = plural(len(report.captures), "capture")
    return f"{captures}, {plural(len(all_files(report)), 'file')}: {counts}"


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """``path:line:col: severity: message [id]``, with a ``  hint:`` line when there is one."""
    line = str(diagnostic)
    if diagnostic.hint:
        line += "\n  hint: " + diagnostic.hint
    return line
