"""Reporters: a check run's :class:`Report` written as text, JSON, JUnit, SARIF or GitHub commands.

Each reporter is a plain function ``(report, stream, options)`` that only writes to the
stream: it opens no file and never exits. :data:`REPORTERS` names them explicitly;
:func:`write_report` picks one by name. The same report and options always give the same
bytes: findings are sorted by :meth:`~conformance.diagnostics.Diagnostic.sort_key` and a
timestamp is written only when :attr:`ReportOptions.timestamp` is given.
"""

from __future__ import annotations

from typing import Callable, TextIO

from ..errors import UsageError
from .github import write_github
from .gitlab import write_gitlab
from .json_report import write_json
from .junit import write_junit, write_junit_gitlab
from .model import CaptureResult, Report
from .options import ReportOptions
from .sarif import write_sarif
from .text import write_text

Reporter = Callable[[Report, TextIO, ReportOptions], None]

REPORTERS: dict[str, Reporter] = {
    "text": write_text,
    "json": write_json,
    "junit": write_junit,
    "junit-gitlab": write_junit_gitlab,
    "sarif": write_sarif,
    "github": write_github,
    "gitlab": write_gitlab,
}
"""Every output format of ``balloon-conform check --format``, by name; ``text`` is the default."""

DEFAULT_FORMAT = "text"


def write_report(
    report: Report, format: str, stream: TextIO, options: ReportOptions | None = None
) -> None:
    """Write ``report`` to ``stream`` in output format ``format`` (a key of :data:`REPORTERS`).

    Raises :class:`~conformance.errors.UsageError` for an unknown format.
    """
    try:
        reporter = REPORTERS[format]
    except KeyError:
        known = ", ".join(REPORTERS)
        raise UsageError(f"unknown report format {format!r}; known: {known}") from None
    reporter(report, stream, options if options is not None else ReportOptions())


__all__ = [
    "DEFAULT_FORMAT",
    "REPORTERS",
    "CaptureResult",
    "Report",
    "ReportOptions",
    "Reporter",
    "write_report",
]
