"""The ``json`` reporter: the whole run as one document that ``report.schema.json`` describes.

The document carries its own ``$schema`` (the schema's ``$id``), the tool's version, a
summary with the counts the text reporter prints, one object per capture with its files,
the checks evaluated, its sorted findings and the checks skipped (with the reason), and the
catalogue of every check id used.
Each finding has the shape ``balloon-conform parse --meta`` prints
(:func:`conformance.diagnostics.to_json`), so one consumer reads both.
"""

from __future__ import annotations

from typing import Any, TextIO

from ..diagnostics import Severity, to_json
from ..rules.base import RuleInfo
from ..schemas import BASE_URI
from .model import CaptureResult, Report
from .options import ReportOptions, ordered, skipped_ids, stream_marker, write_json_streaming

SCHEMA_URI = BASE_URI + "report.schema.json"
TOOL = "balloon-conform"


def write_json(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as the JSON document of ``report.schema.json``, capture by capture."""
    marker = stream_marker()
    document = _document(report, options, marker)
    write_json_streaming(stream, document, marker, map(_capture, report.captures))


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
        "skipped": [
            {"rule": rule, "reason": reason}
            for rule, reason in sorted(skipped_ids(capture).items())
        ],
    }


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
