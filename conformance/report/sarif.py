"""The ``sarif`` reporter: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run, whose ``tool.driver.rules`` is the report's catalogue sorted by id (title as
short description, documentation source as full description, tolerance and example in
the help text, the check's severity as default level); one result per finding, with
``ruleIndex`` into that list, and a physical location whose URI is the finding's path
written as a URI reference. Columns count characters, which SARIF calls
``unicodeCodePoints``; lines and columns that are 0 (whole file, whole line) are left out.
A check that could not run on a capture is a ``toolExecutionNotifications`` entry of the
run's invocation (level ``note``, descriptor the rule id, message the reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TextIO
from urllib.parse import quote

from ..diagnostics import Diagnostic
from ..rules.base import RuleInfo
from .model import CaptureResult, Report
from .options import ReportOptions, ordered, skipped_ids, stream_marker, write_json_lists

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL = "balloon-conform"
INFORMATION_URI = "https://sphinxext-balloon.github.io/"

# RFC 3986 characters a path segment may hold as they are; ":" is left out on purpose,
# since in a relative reference's first segment it would read as a URI scheme.
_SEGMENT_SAFE = "-._~!$&'()*+,;=@"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def write_sarif(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as a SARIF 2.1.0 log to ``stream``, result by result."""
    marker, skips = stream_marker(), stream_marker()
    log, index = _log(report, options, marker, skips)
    lists = [(marker, _results(report, index))]
    if "toolExecutionNotifications" in log["runs"][0].get("invocations", [{}])[0]:
        lists.insert(0, (skips, _notifications(report, index)))
    write_json_lists(stream, log, lists)


def sarif_log(report: Report, options: ReportOptions) -> dict[str, Any]:
    """The SARIF log as a JSON value (for callers that merge logs)."""
    log, index = _log(report, options, None, None)
    run = log["runs"][0]
    run["results"] = list(_results(report, index))
    if "toolExecutionNotifications" in run.get("invocations", [{}])[0]:
        run["invocations"][0]["toolExecutionNotifications"] = list(_notifications(report, index))
    return log


def _notifications(report: Report, index: dict[str, int]) -> Iterator[dict[str, Any]]:
    """A check that could not run on a capture: SARIF's closest construct is a note
    about the tool's execution, naming the rule and the reason."""
    for capture in report.captures:
        for rule, reason in sorted(skipped_ids(capture).items()):
            yield {
                "level": "note",
                "message": {"text": f"{rule} skipped on {capture.name}: {reason}"},
                "descriptor": {"id": rule},
                "associatedRule": {"id": rule, "index": index[rule]},
                "properties": {"capture": capture.name, "reason": reason},
            }


def _log(
    report: Report, options: ReportOptions, results: Any, skips: Any
) -> tuple[dict[str, Any], dict[str, int]]:
    # a finding whose id the catalogue lacks still needs a descriptor for its ruleIndex
    totals = report.totals()
    skipped = {s.rule for c in report.captures for s in c.skipped} if totals.skipped else set()
    rules = sorted(set(report.catalogue) | totals.ids | skipped)
    index = {rule: i for i, rule in enumerate(rules)}
    driver = {
        "name": TOOL,
        "version": report.version,
        "semanticVersion": report.version,
        "informationUri": INFORMATION_URI,
        "rules": [_descriptor(rule, report.catalogue.get(rule)) for rule in rules],
    }
    run: dict[str, Any] = {"tool": {"driver": driver}}
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if options.timestamp is not None:
        invocation["endTimeUtc"] = options.timestamp
    if totals.skipped:
        invocation["toolExecutionNotifications"] = skips
    if len(invocation) > 1:
        run["invocations"] = [invocation]
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = results
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, index


def _results(report: Report, index: dict[str, int]) -> Iterator[dict[str, Any]]:
    for capture in report.captures:
        for diagnostic in ordered(capture.diagnostics):
            yield _result(diagnostic, index[diagnostic.id], capture)


def _descriptor(rule: str, info: RuleInfo | None) -> dict[str, Any]:
    if info is None:
        return {"id": rule}
    out: dict[str, Any] = {"id": rule}
    out["shortDescription"] = {"text": info.title or rule}
    if info.source:
        out["fullDescription"] = {"text": info.source}
    out["help"] = {"text": _help(info)}
    out["defaultConfiguration"] = {"level": info.severity.value}
    out["properties"] = {"scope": info.scope.value}
    return out


def _help(info: RuleInfo) -> str:
    parts = [info.title or info.id]
    if info.source:
        parts.append("Source: " + info.source)
    if info.tolerance:
        parts.append("Tolerance: " + info.tolerance)
    if info.example:
        parts.append("Example of a violation:\n" + info.example)
    return "\n\n".join(parts)


def _result(diagnostic: Diagnostic, rule_index: int, capture: CaptureResult) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": diagnostic.id,
        "ruleIndex": rule_index,
        "level": diagnostic.severity.value,  # SARIF's levels have our severities' names
        "message": {"text": diagnostic.message},
    }
    location = _location(diagnostic)
    if location:
        result["locations"] = [location]
    properties = {"capture": capture.name}
    if diagnostic.hint:
        properties["hint"] = diagnostic.hint
    if diagnostic.pointer:
        properties["pointer"] = diagnostic.pointer
    result["properties"] = properties
    return result


def _location(diagnostic: Diagnostic) -> dict[str, Any]:
    loc = diagnostic.location
    if not loc.path:
        return {}  # SARIF has no way to say "no file"; the result simply has no location
    physical: dict[str, Any] = {"artifactLocation": {"uri": path_uri(loc.path)}}
    if loc.line:
        region = {"startLine": loc.line}
        if loc.column:
            region["startColumn"] = loc.column
        physical["region"] = region
    return {"physicalLocation": physical}


def path_uri(path: str) -> str:
    """``path`` as a URI reference: relative paths stay relative, with forward slashes and
    percent-encoding; absolute ones (POSIX or Windows) become ``file:`` URIs."""
    if _WINDOWS_DRIVE.match(path):
        drive, rest = path[:2], path[3:]
        return "file:///" + drive + "/" + _segments(rest)
    if path.startswith("/"):
        return "file://" + "/" + _segments(path[1:])
    return _segments(path)


def _segments(path: str) -> str:
    # backslash is taken as a separator: a path written on Windows, not a file name
    parts = path.replace("\\", "/").split("/")
    return "/".join(quote(part, safe=_SEGMENT_SAFE) for part in parts)
