"""Where a check run's reports go: ``--report FORMAT[:PATH]`` (repeatable), ``--output-format``
and ``--output``, and the extras a CI environment asks for.

:func:`targets` turns the options into a list of :class:`Target`, one per report, and
refuses what cannot be written sensibly (an unknown format, two reports on standard
output, one file named twice). :func:`write_targets` writes the reports to files first,
each whole or not at all (:func:`~conformance.output.write_output`), and the report on
standard output last, so a reader that goes away early (``| head``) costs no file.
Under GitHub Actions it also writes annotations (to standard error, which the runner
reads for workflow commands as it does standard output, so a JSON or SARIF report on
standard output stays parsable) and appends a summary to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from ..errors import InputError, UsageError
from ..output import write_output
from . import REPORTERS, write_report
from .annotations import write_limited_annotations
from .model import Report
from .options import ReportOptions
from .summary import write_step_summary

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

STDOUT = "-"
PAGES = {"html": "html"}
"""Formats ``--report FORMAT[:PATH]`` writes besides :data:`REPORTERS`: pages that read
the captures again for what they draw (see :mod:`conformance.report.html`), by the
module that writes them, imported when one is asked for."""


@dataclass(frozen=True)
class Target:
    """One report: its output format and where it goes (``-`` for standard output)."""

    format: str
    path: str = STDOUT


def parse_target(spec: str) -> Target:
    """``FORMAT`` or ``FORMAT:PATH`` as ``--report`` takes it; an empty path is stdout."""
    fmt, _, path = spec.partition(":")
    if fmt not in REPORTERS and fmt not in PAGES:
        known = ", ".join(sorted({*REPORTERS, *PAGES}))
        raise UsageError(f"--report {spec!r}: unknown format {fmt!r}; known: {known}")
    return Target(fmt, path or STDOUT)


def targets(
    reports: Sequence[str] | None, output_format: str | None, output: str | None
) -> list[Target]:
    """Every report a run writes, in the order given: the ``--report`` ones, then the one
    ``--output-format``/``--output`` name; ``text`` on standard output when none is named."""
    found = [parse_target(spec) for spec in reports or ()]
    if output_format is not None or output is not None or not found:
        found.append(Target(output_format or "text", output or STDOUT))
    streams = [t for t in found if t.path == STDOUT]
    if len(streams) > 1:
        named = ", ".join(t.format for t in streams)
        raise UsageError(f"only one report can go to standard output, not {named}")
    paths = [os.path.normpath(t.path) for t in found if t.path != STDOUT]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise UsageError(f"{twice[0]} is named for two reports")
    return found


def write_targets(
    report: Report,
    chosen: Sequence[Target],
    options: ReportOptions,
    annotations: bool = True,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Write every chosen report, files first; then, under GitHub Actions, annotations
    (unless ``annotations`` is False or a ``github`` report already goes to standard
    output) and the step summary."""
    env = os.environ if environ is None else environ
    for target in chosen:
        if target.path != STDOUT:
            _write_file(report, target, options)
    if env.get("GITHUB_ACTIONS") == "true":
        summary = env.get("GITHUB_STEP_SUMMARY")
        if summary:
            _append_summary(report, summary)
        on_stdout = any(t.path == STDOUT and t.format == "github" for t in chosen)
        if annotations and not on_stdout:
            write_limited_annotations(report, sys.stderr)
    for target in chosen:
        if target.path == STDOUT:
            _write(report, target.format, sys.stdout, options)
            sys.stdout.flush()  # a closed pipe shows here, inside the command, not at exit


def _write_file(report: Report, target: Target, options: ReportOptions) -> None:
    try:
        write_output(target.path, lambda stream: _write(report, target.format, stream, options))
    except OSError as exc:
        raise InputError(f"{target.path}: cannot write the report: {exc.strerror}") from exc


def _write(report: Report, fmt: str, stream: TextIO, options: ReportOptions) -> None:
    module = PAGES.get(fmt)
    if module is not None:
        page = importlib.import_module(f".{module}", __package__)
        page.write_page(report, stream, options)
    else:
        write_report(report, fmt, stream, options)


def _append_summary(report: Report, path: str) -> None:
    # appended, as GitHub asks: earlier steps' summaries share the file
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as stream:
            write_step_summary(report, stream)
    except OSError as exc:
        raise InputError(f"{path}: cannot append the step summary: {exc.strerror}") from exc
