"""The Markdown summary of a check run that GitHub Actions shows on the run's page.

:func:`write_step_summary` writes a heading with the verdict, the counts of captures,
files and findings, a table of findings by check (id, severity, count, first place), and
the checks that could not run with the reason. Text from a capture (paths, reasons) is
already escaped of control characters; it enters the Markdown through :func:`_text` only,
which makes it literal: a capture named ``x[link](https://evil)`` is shown as that name,
not as a link, and a ``|`` in it cannot break the table out of shape. The tool's own
text (the heading, the counts) is written as it is, and rule ids are code spans.
"""

from __future__ import annotations

import re
from typing import TextIO

from .model import Report
from .options import SEVERITIES, ordered, plural, skipped_ids, summary_line

MAX_ROWS = 100
"""Rows of the findings table; a fleet with more checks failing says how many were left out."""


def write_step_summary(report: Report, stream: TextIO) -> None:
    """Append the summary of ``report`` to ``stream`` as GitHub-flavoured Markdown."""
    totals = report.totals()
    verdict = "failed" if totals.errors else "passed"
    stream.write(f"## balloon-conform check {verdict}\n\n{summary_line(totals)}\n\n")
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
                f"| {_code(rule)} | {SEVERITIES[worst].value} | {count} | {_text(first)} |\n"
            )
        if len(rows) > MAX_ROWS:
            stream.write(f"\n{plural(len(rows) - MAX_ROWS, 'more check')} with findings.\n")
        stream.write("\n")
    if skipped:
        stream.write("Checks that could not run:\n\n")
        for (rule, reason), count in sorted(skipped.items()):
            where = plural(count, "capture")
            stream.write(f"- {_code(rule)} on {where}: {_text(reason)}\n")
        stream.write("\n")


_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
"""Every ASCII punctuation character: all that Markdown gives a meaning to."""
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def _text(text: str) -> str:
    """``text`` as literal Markdown, in a table cell or a list item: the one way text
    from a capture enters the summary. CommonMark lets any ASCII punctuation character
    be escaped with a backslash, and an escaped one is that character and starts nothing
    (no link, image, emphasis, code span, HTML, entity, URL autolink, heading or list, and
    GitHub's table cells end only at a ``|`` that is not escaped); a line break would
    end the row, so it is a space. GitHub finds e-mail addresses once the escapes are
    undone: one stays a ``mailto:`` link that shows that very address."""
    flat = text.replace("\r", " ").replace("\n", " ")
    return _PUNCTUATION.sub(r"\\\g<0>", flat)


def _code(rule: str) -> str:
    """A check id as a code span; any other text (no id of ours is) as :func:`_text`."""
    return f"`{rule}`" if _ID.match(rule) else _text(rule)
