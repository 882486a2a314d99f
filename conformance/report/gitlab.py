"""The ``gitlab`` reporter: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array with one object per finding: ``description`` (the message, and the hint
after it), ``check_name`` (the check id), ``fingerprint`` (the SARIF reporter's, stable
across runs and machines, told apart within a file), ``severity`` (error ``major``,
warning ``minor``, note ``info``, as GitLab's own linters map theirs) and ``location``
with a ``path`` relative to the base directory and ``lines.begin`` of at least 1; a
finding about the whole capture is placed at its ``capture.json`` (or first file), line 1,
as in SARIF. GitLab shows these in the merge request's code quality widget and diff.
Checks that could not run are not findings and are not listed (the text, JSON, JUnit and
SARIF reports say them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from ..diagnostics import Severity
from ..escape import json_text
from .model import Report
from .options import ReportOptions, ordered, report_path
from .sarif import finding_place, fingerprint

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}
"""Our severities in GitLab's (info, minor, major, critical, blocker)."""


def write_gitlab(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as a GitLab Code Quality JSON array, finding by finding, so a
    fleet's report does not have to fit in memory."""
    opened = False
    for issue in _issues(report, options):
        item = json_text(json.dumps(issue, indent=2, ensure_ascii=False))
        stream.write(("," if opened else "[") + "\n  " + item.replace("\n", "\n  "))
        opened = True
    stream.write("\n]\n" if opened else "[]\n")


def _issues(report: Report, options: ReportOptions) -> Iterator[dict[str, Any]]:
    for capture in report.captures:
        seen: dict[str, int] = {}
        for diagnostic in ordered(capture.diagnostics):
            path, line = finding_place(diagnostic, capture)
            relative = report_path(path, capture, options) or capture.name
            key = fingerprint(diagnostic, relative)
            seen[key] = seen.get(key, 0) + 1
            description = diagnostic.message
            if diagnostic.hint:
                description += f" (hint: {diagnostic.hint})"
            yield {
                "type": "issue",
                "description": description,
                "check_name": diagnostic.id,
                "fingerprint": f"{key}:{seen[key]}",
                "severity": SEVERITY[diagnostic.severity],
                "location": {"path": relative, "lines": {"begin": max(line, 1)}},
            }
