"""Reporters: a check run's :class:`Report` written as text, JSON, JUnit, SARIF or GitHub commands.

Each reporter is a plain function ``(report, stream, options)`` that only writes to the
stream: it opens no file and never exits. :data:`REPORTERS` names them explicitly;
:func:`write_report` picks one by name. The same report and options always give the same
bytes: findings are sorted by :meth:`~conformance.diagnostics.Diagnostic.sort_key` and a
timestamp is written only when :attr:`ReportOptions.timestamp` is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Callable, TextIO

from ..errors import UsageError
from .model import CaptureResult, Report
from .options import ReportOptions

Reporter = Callable[[Report, TextIO, ReportOptions], None]


class _Reporters(Mapping[str, Reporter]):
    """Output format name to reporter, each reporter's module imported when it is first
    asked for: a run that writes JSON imports no XML library."""

    def __init__(self, where: dict[str, tuple[str, str]]) -> None:
        self._where = where

    def __getitem__(self, name: str) -> Reporter:
        module, function = self._where[name]
        reporter: Reporter = getattr(importlib.import_module(module, __name__), function)
        return reporter

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


REPORTERS: Mapping[str, Reporter] = _Reporters(
    {
        "text": (".text", "write_text"),
        "json": (".json_report", "write_json"),
        "junit": (".junit", "write_junit"),
        "junit-gitlab": (".junit", "write_junit_gitlab"),
        "sarif": (".sarif", "write_sarif"),
        "github": (".github", "write_github"),
        "gitlab": (".gitlab", "write_gitlab"),
    }
)
"""Every output format of ``balloon-conform check --format``, by name; ``text`` is the default."""

DEFAULT_FORMAT = "text"

_PART_WRITERS = {
    "json": (".json_report", "capture_part", ()),
    "sarif": (".sarif", "capture_part", ("base_dir",)),
    "junit": (".junit", "capture_part", ("base_dir", "timestamp")),
    "junit-gitlab": (".junit", "capture_part_gitlab", ("base_dir", "timestamp")),
}
"""The formats whose text for one capture can be written on its own (knowing nothing else
of the run), with the function that writes it and the report options it reads: a fleet's
workers write those parts while they check, so that the parent, at the end, only copies
them into the report (filling in what only the whole run tells, such as SARIF's rule
indexes)."""


PartWriter = Callable[[CaptureResult, ReportOptions], str]


def part_writer(format: str) -> PartWriter | None:
    """The function that writes one capture's part of a ``format`` report (with the
    report's options), if that part stands alone (see
    :func:`~conformance.report.model.prewritten`); else None."""
    where = _PART_WRITERS.get(format)
    if where is None:
        return None
    writer: PartWriter = getattr(importlib.import_module(where[0], __name__), where[1])
    return writer


def part_options(format: str) -> tuple[str, ...]:
    """The fields of :class:`ReportOptions` a ``format`` part is written with: parts
    written with other values of them are not that report's."""
    return _PART_WRITERS[format][2] if format in _PART_WRITERS else ()


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
    "part_options",
    "part_writer",
    "write_report",
]
