"""The Markdown summary of a check run that GitHub Actions shows on the run's page.

:func:`write_step_summary` writes a heading with the verdict, the counts of captures,
files and findings, a table of findings by check (id, severity, count, first place), and
the checks that could not run with the reason. Text from a capture (paths, reasons) is
already escaped of control characters; Markdown's own table characters ``|`` and the
backtick are neutralised here so a file name cannot break the table out of shape.
"""

from __future__ import annotations

from typing import TextIO

from .model import Report
from .options import SEVERITIES, ordered, plural, skipped_ids, summary_line

MAX_ROWS = 100
"""Rows of the findings table; a fleet with more checks failing says how many were left out."""


def write_step_summary(report: Report, stream: TextIO) -> None:
    """Append the summary of ``report`` to ``stream`` as GitHub-flavoured Markdown."""
    totals = report.totals()
    verdict = "failed" if totals.errors else "passed"
    stream.write(f"## balloon-conform check {verdict}\n\n{_cell(summary_line(totals))}\n\n")
    # per check: findings, worst severity's rank, first place; memory flat in fleet size
    found: dict[str, tuple[int, int, str]] = {}
    skipped: dict[tuple[str, str], int] = {}
    for capture in report.captures:
        for diagnostic in ordered(capture.diagnostics):
            rank = SEVERITIES.index(diagnostic.severity)
            count, worst, first = found.get(diagnostic.id, (0, rank, str(diagnostic.location)))
            found[diagnostic.id] = (count + 1, min(worst, rank), first)
        for rule, reason in skipped_ids(capture).items():
            skipped[(rule, reason)] = skipped.get((rule, reason), 0) + 1
    if found:
        stream.write("| check | severity | findings | first at |\n|---|---|---:|---|\n")
        rows = sorted(found.items(), key=lambda item: (item[1][1], item[0]))
        for rule, (count, worst, first) in rows[:MAX_ROWS]:
            stream.write(
                f"| `{_code(rule)}` | {SEVERITIES[worst].value} | {count} | {_cell(first)} |\n"
            )
        if len(rows) > MAX_ROWS:
            stream.write(f"\n{plural(len(rows) - MAX_ROWS, 'more check')} with findings.\n")
        stream.write("\n")
    if skipped:
        stream.write("Checks that could not run:\n\n")
        for (rule, reason), count in sorted(skipped.items()):
            where = plural(count, "capture")
            stream.write(f"- `{_code(rule)}` on {where}: {_cell(reason)}\n")
        stream.write("\n")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell or list item."""
    return (
        text.replace("\\", "\\\\")
        .replace("<", "&lt;")
        .replace("|", "\\|")
        .replace("`", "\\`")
        .replace("\n", " ")
    )


def _code(text: str) -> str:
    return text.replace("`", "'")
