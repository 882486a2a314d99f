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

from ..diagnostics import Severity, to_json
from ..escape import json_text
from ..rules.base import RuleInfo
from ..schemas import BASE_URI
from . import indented
from .model import CaptureResult, Report
from .options import ReportOptions, ordered, skipped_ids, stream_marker, write_json_streaming

SCHEMA_URI = BASE_URI + "report.schema.json"
TOOL = "balloon-conform"


def write_json(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as the JSON document of ``report.schema.json``, capture by capture."""
    marker = stream_marker()
    document = _document(report, options, marker)
    write_json_streaming(stream, document, marker, map(_written_capture, report.captures))


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
    value = _counted(capture)
    value["rules"] = list(capture.rules)
    value["skipped"] = [{"rule": rule, "reason": reason} for rule, reason in _skipped(capture)]
    return value


def _written_capture(capture: CaptureResult) -> dict[str, Any]:
    """:func:`_capture` with its lists of check ids and of skipped checks written once for
    all the captures that have the same (in a fleet, nearly all of one kind of guest)."""
    value = _counted(capture)
    value["rules"] = _written(capture.rules)
    value["skipped"] = _written_skips(_skipped(capture))
    return value


def _counted(capture: CaptureResult) -> dict[str, Any]:
    """A capture's object, its two lists of checks left as placeholders, in their place."""
    counts = dict.fromkeys(Severity, 0)
    for diagnostic in capture.diagnostics:
        counts[diagnostic.severity] += 1
    return {
        "name": capture.name,
        "files": list(capture.files),
        "rules": None,
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "notes": counts[Severity.NOTE],
        "diagnostics": [to_json(d) for d in ordered(capture.diagnostics)],
        "skipped": None,
    }


def _skipped(capture: CaptureResult) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(skipped_ids(capture).items()))


@lru_cache(maxsize=256)
def _written(strings: tuple[str, ...]) -> indented.Written:
    return indented.Written(json_text(indented.dumps(list(strings))))


@lru_cache(maxsize=256)
def _written_skips(pairs: tuple[tuple[str, str], ...]) -> indented.Written:
    skipped = [{"rule": rule, "reason": reason} for rule, reason in pairs]
    return indented.Written(json_text(indented.dumps(skipped)))


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
