"""The ``json`` reporter: the whole run as one document that ``report.schema.json`` describes.

The document carries its own ``$schema`` (the schema's ``$id``), the tool's version, a
summary with the counts the text reporter prints, one object per capture with its files,
the checks evaluated, its sorted findings and the checks skipped (with the reason), and the
catalogue of every check id used.
Each finding has the shape ``balloon-conform parse --meta`` prints
(:func:`conformance.diagnostics.to_json`), so one consumer reads both.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TextIO

from ..diagnostics import Diagnostic, Severity, to_json
from ..rules.base import RuleInfo
from ..schemas import BASE_URI
from . import indented
from .model import CaptureResult, Report, prewritten
from .options import (
    ReportOptions,
    dumps,
    ordered,
    skipped_ids,
    stream_marker,
    write_json_streaming,
)

SCHEMA_URI = BASE_URI + "report.schema.json"
TOOL = "balloon-conform"


def write_json(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as the JSON document of ``report.schema.json``, capture by capture."""
    marker = stream_marker()
    document = _document(report, options, marker)
    parts = prewritten(report.captures, "json", options)
    if parts is None:
        parts = map(_written_capture, report.captures)
    write_json_streaming(stream, document, marker, parts)


def capture_part(capture: CaptureResult, options: ReportOptions | None = None) -> str:
    """The object of one capture in the ``captures`` list, as :func:`write_json` writes
    it (what a fleet's workers write ahead, :func:`conformance.report.part_writer`)."""
    return dumps(_written_capture(capture))


def report_json(report: Report, options: ReportOptions) -> dict[str, Any]:
    """The report document as a JSON value (for callers that embed it)."""
    document = _document(report, options, None)
    document["captures"] = [_capture(capture) for capture in report.captures]
    return document


def _document(report: Report, options: ReportOptions, captures: Any) -> dict[str, Any]:
    totals = report.totals()
    document: dict[str, Any] = {"$schema": SCHEMA_URI, "tool": TOOL, "version": report.version}
    if options.timestamp is not None:
        document["timestamp"] = options.timestamp
    document["summary"] = {
        "captures": totals.captures,
        "files": totals.files,
        "errors": totals.errors,
        "warnings": totals.warnings,
        "notes": totals.notes,
        "skipped": totals.skipped,
        "failed": totals.errors > 0,
    }
    document["captures"] = captures
    document["rules"] = [_rule(report.catalogue[key]) for key in sorted(report.catalogue)]
    return document


def _capture(capture: CaptureResult) -> dict[str, Any]:
    return {
        "name": capture.name,
        "files": list(capture.files),
        "rules": list(capture.rules),
        "errors": capture.count(Severity.ERROR),
        "warnings": capture.count(Severity.WARNING),
        "notes": capture.count(Severity.NOTE),
        "diagnostics": [to_json(d) for d in ordered(capture.diagnostics)],
        "skipped": [{"rule": rule, "reason": reason} for rule, reason in _skipped(capture)],
    }


def _written_capture(capture: CaptureResult) -> indented.Written:
    """``indented.dumps(_capture(capture))``, written by hand for the one shape it has: a
    fleet's report is mostly these objects. Its lists of check ids and of skipped checks
    are written once for all the captures that share them (in a fleet, nearly all of one
    kind of guest)."""
    errors = warnings = notes = 0
    for diagnostic in capture.diagnostics:
        severity = diagnostic.severity
        if severity is Severity.ERROR:
            errors += 1
        elif severity is Severity.WARNING:
            warnings += 1
        else:
            notes += 1
    if capture.diagnostics:
        items = ",\n    ".join(map(_written_diagnostic, ordered(capture.diagnostics)))
        diagnostics = "[\n    " + items + "\n  ]"
    else:
        diagnostics = "[]"
    return indented.Written(
        f'{{\n  "name": {_STRING(capture.name)},\n  "files": {_strings(capture.files)},\n'
        f'  "rules": {_strings(capture.rules)},\n  "errors": {errors},\n'
        f'  "warnings": {warnings},\n  "notes": {notes},\n  "diagnostics": {diagnostics},\n'
        f'  "skipped": {_written_skips(_skipped(capture))}\n}}'
    )


_STRING = indented.STRING


def _strings(strings: tuple[str, ...]) -> str:
    """A list of strings as a member of a capture's object."""
    if not strings:
        return "[]"
    return "[\n    " + ",\n    ".join(map(_STRING, strings)) + "\n  ]"


def _written_diagnostic(diagnostic: Diagnostic) -> str:
    """A finding as an item of a capture's ``diagnostics`` (:func:`to_json`'s object)."""
    loc = diagnostic.location
    text = (
        f'{{\n      "id": {_STRING(diagnostic.id)},\n'
        f'      "severity": "{diagnostic.severity.value}",\n'
        f'      "message": {_STRING(diagnostic.message)},\n      "file": {_STRING(loc.path)},\n'
        f'      "line": {int(loc.line)},\n      "column": {int(loc.column)}'
    )
    if diagnostic.hint:
        text += f',\n      "hint": {_STRING(diagnostic.hint)}'
    if diagnostic.pointer:
        text += f',\n      "pointer": {_STRING(diagnostic.pointer)}'
    return text + "\n    }"


def _skipped(capture: CaptureResult) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(skipped_ids(capture).items()))


@lru_cache(maxsize=256)
def _written_skips(pairs: tuple[tuple[str, str], ...]) -> str:
    """The ``skipped`` member of a capture's object."""
    skipped = [{"rule": rule, "reason": reason} for rule, reason in pairs]
    return indented.dumps(skipped).replace("\n", "\n  ")


def _rule(info: RuleInfo) -> dict[str, Any]:
    out = {
        "id": info.id,
        "severity": info.severity.value,
        "scope": info.scope.value,
        "title": info.title,
        "source": info.source,
    }
    if info.tolerance:
        out["tolerance"] = info.tolerance
    if info.example:
        out["example"] = info.example
    return out
