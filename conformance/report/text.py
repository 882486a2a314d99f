"""The ``text`` reporter: one compiler-style line per finding and a summary, for people.

Each finding is ``path:line:col: severity: message [rule]`` (the form editors and
``grep`` know), followed by an indented ``  hint: ...`` line when the finding has one.
Captures come in the order given, the findings of each sorted; a summary line ends the
output; it counts the checks that could not run on a capture, which ``verbose`` lists
as ``capture: skipped: reason [rule]``. The severity word and the summary are coloured only when
:func:`~conformance.report.options.use_color` says so.
"""

from __future__ import annotations

import re
from typing import TextIO

from ..diagnostics import Diagnostic, Severity
from .model import Report, Totals
from .options import ReportOptions, ordered, skipped_ids, summary_line, use_color

_RESET = "\x1b[0m"
_STYLE = {
    Severity.ERROR: "\x1b[1;31m",  # bold red
    Severity.WARNING: "\x1b[1;33m",  # bold yellow
    Severity.NOTE: "\x1b[1;36m",  # bold cyan
}
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"

# A message can quote bytes of a damaged capture; an ESC or CR among them would move the
# cursor or recolour the terminal, so control characters are shown, not sent.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def write_text(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write every finding of ``report`` and a summary line to ``stream``."""
    color = use_color(stream, options)
    totals = report.totals()
    for capture in report.captures:
        for diagnostic in ordered(capture.diagnostics):
            stream.write(_finding(diagnostic, color))
        for rule, reason in sorted(skipped_ids(capture).items()) if options.verbose else ():
            stream.write(_skipped(capture.name, rule, reason, color))
    listed = totals.skipped if options.verbose else 0
    if totals.errors + totals.warnings + totals.notes + listed:
        stream.write("\n")  # set the summary apart from the last finding
    summary = _summary(totals, color)
    if totals.skipped and not options.verbose:
        summary += " (--verbose lists them)"
    stream.write(summary + "\n")


def _skipped(capture: str, rule: str, reason: str, color: bool) -> str:
    """``capture: skipped: reason [rule]``: a check that could not run, and why."""
    label, tag = "skipped", f"[{rule}]"
    if color:
        label, tag = _DIM + label + _RESET, _DIM + tag + _RESET
    return f"{_shown(capture)}: {label}: {_shown(reason)} {tag}\n"


def _finding(diagnostic: Diagnostic, color: bool) -> str:
    severity = diagnostic.severity.value
    rule = f"[{diagnostic.id}]"
    if color:
        severity = _STYLE[diagnostic.severity] + severity + _RESET
        rule = _DIM + rule + _RESET
    text = f"{_shown(str(diagnostic.location))}: {severity}: {_shown(diagnostic.message)} {rule}\n"
    if diagnostic.hint:
        label = _DIM + "hint:" + _RESET if color else "hint:"
        text += f"  {label} {_shown(diagnostic.hint)}\n"
    return text


def _shown(text: str) -> str:
    """``text`` safe for a terminal, a line break continuing on an indented line so that
    only a finding's first line starts with its location."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("\n", "\n  ")


def _summary(totals: Totals, color: bool) -> str:
    line = summary_line(totals)
    if not color:
        return line
    style = _STYLE[Severity.ERROR] if totals.errors else _BOLD
    return style + line + _RESET
