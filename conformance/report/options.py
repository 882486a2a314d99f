"""What every reporter shares: its options, the order of findings and their one-line form.

A reporter is a plain function ``(report, stream, options)``; :class:`ReportOptions` is
the only thing besides the report that can change its output, so the same report and
options always give the same bytes. :func:`write_json_streaming` writes a JSON document
whose one long list comes item by item, so the JSON and SARIF reporters keep memory flat.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..diagnostics import Diagnostic, Severity
from ..escape import json_text
from . import indented
from .model import CaptureResult, Totals

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

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
    verbose: bool = False
    """The text reporter also lists the checks that were skipped, with the reason."""
    base_dir: str | None = None
    """The directory paths in SARIF, JUnit and GitLab reports are relative to (the
    checkout's root in CI); None for the working directory."""
    category: str | None = None
    """SARIF ``runAutomationDetails.id``: tells apart the runs of a matrix of jobs."""


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


def relative_path(path: str, options: ReportOptions) -> str:
    """``path`` relative to ``options.base_dir`` (default the working directory), with
    forward slashes: CI systems match report paths against the files of the checkout.
    A relative path is taken from the working directory; ``..`` says a path is outside."""
    if not path:
        return path
    base = os.path.abspath(options.base_dir or os.curdir)
    absolute = os.path.normpath(os.path.join(os.path.abspath(os.curdir), path))
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows: no relative path exists
        return path.replace("\\", "/")
    return relative.replace(os.sep, "/")


def report_path(path: str, capture: CaptureResult, options: ReportOptions) -> str:
    """Where a report says a finding is: a guest's own path for a guest checked in place
    (``/proc/meminfo``: there is no copy under the working directory), else
    :func:`relative_path`."""
    if capture.guest and path.startswith("/"):
        return path
    return relative_path(path, options)


def ordered(diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """``diagnostics`` by file, line, column, id and message (stable for equal keys)."""
    return sorted(diagnostics, key=Diagnostic.sort_key)


def write_json_streaming(
    stream: TextIO, document: dict[str, Any], marker: str, items: Iterable[Any]
) -> None:
    """``json.dumps(document, indent=2)`` with the string ``marker`` (a value somewhere in
    ``document``) replaced by the list of ``items``, written item by item: the same bytes
    as dumping the whole list, without holding it in memory."""
    write_json_lists(stream, document, [(marker, items)])


def write_json_lists(
    stream: TextIO, document: dict[str, Any], lists: Sequence[tuple[str, Iterable[Any]]]
) -> None:
    """As :func:`write_json_streaming`, for several markers, given in the order they
    appear in the dumped document."""
    rest = _dumps(document)
    for marker, items in lists:
        head, rest = rest.split(json.dumps(marker), 1)
        line = head[head.rfind("\n") + 1 :]
        base = len(line) - len(line.lstrip(" "))
        pad = "\n" + " " * (base + 2)
        stream.write(head)
        opened = False
        for item in items:
            kind = type(item)
            if kind is DumpedItems:
                if not item:
                    continue
                text = item.replace("\n", pad).replace(ITEMS, "," + pad)
            else:
                text = (item if kind is Dumped else _dumps(item)).replace("\n", pad)
            stream.write(("," if opened else "[") + pad)
            stream.write(text)
            opened = True
        stream.write("\n" + " " * base + "]" if opened else "[]")
    stream.write(rest + "\n")


ITEMS = "\x02"
"""Between the items of :class:`DumpedItems`: a raw control character, which JSON text
never holds (its strings escape them)."""


class DumpedItems(str):
    """Several items of a streamed list (none, when empty), each as :func:`dumps` wrote
    it, with :data:`ITEMS` between them: :func:`write_json_lists` writes them at once."""


class Dumped(str):
    """An item of a streamed list as :func:`dumps` wrote it already (at the top level):
    :func:`write_json_lists` only indents it where it stands."""


def dumps(value: Any) -> Dumped:
    """``value`` as an item of a list :func:`write_json_lists` streams writes it (at the
    top level: the list indents it where it stands)."""
    return Dumped(_dumps(value))


def _dumps(value: Any) -> str:
    # diagnostics are escaped already; json_text also covers whatever else a report says
    return json_text(indented.dumps(value))


def stream_marker() -> str:
    """A string no report can contain, to stand for a streamed list."""
    return f"@@balloon-conform-stream-{os.urandom(16).hex()}@@"


def rule_ids(capture: CaptureResult) -> list[str]:
    """The checks of one capture: the rules evaluated plus any id a finding carries that
    the engine did not list, so no finding is lost by a reporter organised by rule."""
    return sorted(set(capture.rules) | {d.id for d in capture.diagnostics})


def skipped_ids(capture: CaptureResult) -> dict[str, str]:
    """The checks that could not run on one capture (and are not among its checks run),
    with the reason."""
    ran = set(rule_ids(capture))
    return {skip.rule: skip.reason for skip in capture.skipped if skip.rule not in ran}


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(totals: Totals) -> str:
    """``2 captures, 5 files: 1 error, 0 warnings, 3 notes``, and ``; 4 checks skipped``
    when some could not run."""
    counts = ", ".join(plural(totals.count(s), s.value) for s in SEVERITIES)
    captures = plural(totals.captures, "capture")
    line = f"{captures}, {plural(totals.files, 'file')}: {counts}"
    if totals.skipped:
        line += f"; {plural(totals.skipped, 'check')} skipped"
    return line


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """``path:line:col: severity: message [id]``, with a ``  hint:`` line when there is one."""
    line = str(diagnostic)
    if diagnostic.hint:
        line += "\n  hint: " + diagnostic.hint
    return line
