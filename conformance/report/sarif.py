"""The ``sarif`` reporter: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run, whose ``tool.driver.rules`` is the report's catalogue sorted by id (title as
short description, documentation source as full description, tolerance and example in
the help text, the check's severity as default level); one result per finding, with
``ruleIndex`` into that list, and a physical location whose URI is the finding's path
written as a URI reference. Columns count characters, which SARIF calls
``unicodeCodePoints``; lines and columns that are 0 (whole file, whole line) are left out.
A check that could not run on a capture is a ``toolExecutionNotifications`` entry of the
run's invocation (level ``note``, descriptor the rule id, message the reason).

As GitHub code scanning wants it: every URI is relative to the base directory under the
``uriBaseId`` ``%SRCROOT%`` (``originalUriBaseIds`` says where that is when a base
directory is given), never a ``file:`` URI; a finding about a whole capture points at its
``capture.json`` (or its first file), line 1; ``partialFingerprints`` hash the rule id,
the relative path and the finding's JSON pointer (else its message with numbers blanked),
so they stay the same across runs and machines; every rule has a ``helpUri`` into the
documentation and ``help.markdown``; ``--category`` becomes ``runAutomationDetails.id``;
at most :data:`MAX_RESULTS` results (errors first), the rest counted in a notification.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO
from urllib.parse import quote

from ..diagnostics import Diagnostic, Severity
from ..rules import FAMILIES, known_ids
from ..rules.base import RuleInfo
from .model import CaptureResult, Report, prewritten
from .options import (
    ITEMS,
    SEVERITIES,
    DumpedItems,
    ReportOptions,
    dumps,
    ordered,
    plural,
    report_path,
    skipped_ids,
    stream_marker,
    write_json_lists,
)

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL = "balloon-conform"
INFORMATION_URI = "https://sphinxext-balloon.github.io/"
RULES_URI = INFORMATION_URI + "rules.html"
_DOCUMENTED = frozenset(known_ids())  # each has its own entry in docs/rules.rst
SRCROOT = "%SRCROOT%"
GUESTROOT = "GUESTROOT"
"""The base of a live guest's paths (``check --live``): its root directory."""
MAX_RESULTS = 25_000
"""GitHub code scanning's limit of results per run."""

# RFC 3986 characters a path segment may hold as they are; ":" is left out on purpose,
# since in a relative reference's first segment it would read as a URI scheme.
_SEGMENT_SAFE = "-._~!$&'()*+,;=@"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def write_sarif(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as a SARIF 2.1.0 log to ``stream``, result by result (from the
    parts a fleet's workers wrote, when they did and no result is left out)."""
    marker, skips = stream_marker(), stream_marker()
    log, index, quota = _log(report, options, marker, skips)
    ahead = None if _left_out(report, quota) else prewritten(report.captures, "sarif", options)
    if ahead is not None:  # a pass over the parts for each list
        notes: Iterable[Any] = _from_parts(ahead, index, 0)
        results: Iterable[Any] = _from_parts(
            prewritten(report.captures, "sarif", options) or (), index, 1
        )
    else:
        results = _results(report, index, options, quota)
        notes = _notifications(report, index, quota)
    lists = [(marker, results)]
    if "toolExecutionNotifications" in log["runs"][0].get("invocations", [{}])[0]:
        lists.insert(0, (skips, notes))
    write_json_lists(stream, log, lists)


_SLOT = "@rule-index:"
"""What a part written ahead holds where a rule's index goes, followed by the rule's id:
the index into the run's rules, which only the whole run tells."""
_SLOTS = re.compile(r'("ruleIndex": |"index": )"@rule-index:([^"\\]*)"')
"""A slot in a part: after a key, never inside a string (where each quote is escaped)."""
_LIST = "\x01"
"""Between a part's notifications and its results: a raw control character, which JSON
text never holds (its strings escape them); its items are :data:`ITEMS` apart."""


class _Slots:
    """The rule indexes of a part written ahead: a slot for each, filled in at the end."""

    def __getitem__(self, rule: str) -> str:
        return _SLOT + rule


def capture_part(capture: CaptureResult, options: ReportOptions) -> str:
    """One capture's notifications (checks skipped) and results, each as
    :func:`write_sarif` writes it, with a slot for each rule index (a fleet's workers
    write these while they check, :func:`conformance.report.part_writer`)."""
    slots: Any = _Slots()
    notes = ITEMS.join(map(dumps, _capture_notes(capture, slots)))
    results = ITEMS.join(map(dumps, _capture_results(capture, slots, options, None)))
    return notes + _LIST + results


def _from_parts(parts: Iterable[str], index: dict[str, int], which: int) -> Iterator[DumpedItems]:
    """The notifications (``which`` 0) or the results (1) of each part written ahead,
    their slots filled with the run's rule indexes."""

    def fill(match: re.Match[str]) -> str:
        return match.group(1) + str(index[match.group(2)])

    for part in parts:
        yield DumpedItems(_SLOTS.sub(fill, part.split(_LIST)[which]))


def sarif_log(report: Report, options: ReportOptions) -> dict[str, Any]:
    """The SARIF log as a JSON value (for callers that merge logs)."""
    log, index, quota = _log(report, options, None, None)
    run = log["runs"][0]
    run["results"] = list(_results(report, index, options, quota))
    if "toolExecutionNotifications" in run.get("invocations", [{}])[0]:
        notes = list(_notifications(report, index, quota))
        run["invocations"][0]["toolExecutionNotifications"] = notes
    return log


def _quota(report: Report) -> dict[Severity, int]:
    """How many results of each severity fit in :data:`MAX_RESULTS`, errors first."""
    totals, room, quota = report.totals(), MAX_RESULTS, {}
    for severity in SEVERITIES:
        quota[severity] = min(totals.count(severity), room)
        room -= quota[severity]
    return quota


def _left_out(report: Report, quota: dict[Severity, int]) -> int:
    totals = report.totals()
    return sum(totals.count(s) - quota[s] for s in SEVERITIES)


def _notifications(
    report: Report, index: dict[str, int], quota: dict[Severity, int]
) -> Iterator[dict[str, Any]]:
    """A check that could not run on a capture: SARIF's closest construct is a note
    about the tool's execution, naming the rule and the reason. Results left out over
    GitHub's limit are counted in one warning first."""
    left = _left_out(report, quota)
    if left:
        text = f"{plural(left, 'result')} left out: GitHub reads at most {MAX_RESULTS} per run"
        yield {"level": "warning", "message": {"text": text}}
    for capture in report.captures:
        yield from _capture_notes(capture, index)


def _capture_notes(capture: CaptureResult, index: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
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
) -> tuple[dict[str, Any], dict[str, int], dict[Severity, int]]:
    # a finding whose id the catalogue lacks still needs a descriptor for its ruleIndex
    totals = report.totals()
    skipped: set[str] = set()
    if totals.skipped:  # a spool counted them as results came
        known = getattr(report.captures, "skipped_rules", None)
        skipped = (
            known if known is not None else {s.rule for c in report.captures for s in c.skipped}
        )
    rules = sorted(set(report.catalogue) | totals.ids | skipped)
    index = {rule: i for i, rule in enumerate(rules)}
    quota = _quota(report)
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
    if totals.skipped or _left_out(report, quota):
        invocation["toolExecutionNotifications"] = skips
    if len(invocation) > 1:
        run["invocations"] = [invocation]
    if options.category:
        # GitHub takes everything before the last "/" as the category
        run["automationDetails"] = {"id": options.category.rstrip("/") + "/"}
    bases: dict[str, Any] = {}
    if options.base_dir is not None:
        bases[SRCROOT] = {"uri": _directory_uri(options.base_dir)}
    if totals.guest:
        description = "The root of the guest checked in place (balloon-conform check --live)."
        bases[GUESTROOT] = {"uri": "file:///", "description": {"text": description}}
    if bases:
        run["originalUriBaseIds"] = bases
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = results
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, index, quota


def _directory_uri(base: str) -> str:
    """The absolute ``file:`` URI of a directory, ending in ``/`` as SARIF requires."""
    return path_uri(os.path.abspath(base).replace(os.sep, "/").rstrip("/") + "/")


def _results(
    report: Report, index: dict[str, int], options: ReportOptions, quota: dict[Severity, int]
) -> Iterator[dict[str, Any]]:
    room = dict(quota)
    for capture in report.captures:
        yield from _capture_results(capture, index, options, room)


def _capture_results(
    capture: CaptureResult,
    index: Mapping[str, Any],
    options: ReportOptions,
    room: dict[Severity, int] | None,
) -> Iterator[dict[str, Any]]:
    """A capture's results, as many of each severity as ``room`` has left (all, when
    None)."""
    seen: dict[str, int] = {}
    for diagnostic in ordered(capture.diagnostics):
        if room is not None:
            if room[diagnostic.severity] == 0:
                continue
            room[diagnostic.severity] -= 1
        yield _result(diagnostic, index[diagnostic.id], capture, options, seen)


def help_uri(rule: str, info: RuleInfo | None) -> str:
    """The documentation of ``rule``: its own entry in ``docs/rules.rst`` for a rule or an
    explained finding, else the entry of its family (``parse.*``), else the rules page;
    the anchors are those the ``balloon-rules`` list makes."""
    family = rule.split(".", 1)[0]
    if rule in _DOCUMENTED:
        target = rule
    elif family in FAMILIES:
        target = family + ".family"
    else:
        return RULES_URI
    anchor = re.sub(r"[^a-z0-9]+", "-", ("balloon-rule-" + target).lower()).strip("-")
    return f"{RULES_URI}#{anchor}"


def _descriptor(rule: str, info: RuleInfo | None) -> dict[str, Any]:
    uri = help_uri(rule, info)
    out: dict[str, Any] = {"id": rule, "helpUri": uri}
    if info is None:
        out["help"] = {"text": rule, "markdown": f"`{rule}`: see [the rules]({uri})"}
        return out
    out["shortDescription"] = {"text": info.title or rule}
    if info.source:
        out["fullDescription"] = {"text": info.source}
    out["help"] = {"text": _help(info), "markdown": _help_markdown(info, uri)}
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


def _help_markdown(info: RuleInfo, uri: str) -> str:
    parts = [f"**{_md(info.title or info.id)}** (`{info.id}`, {info.severity.value})"]
    if info.source:
        parts.append("Source: " + _md(info.source))
    if info.tolerance:
        parts.append("Tolerance: " + _md(info.tolerance))
    if info.example:
        example = info.example.replace("`", "'")  # no fence can end early
        parts.append(f"Example of a violation:\n\n```\n{example}\n```")
    parts.append(f"[Documentation]({uri})")
    return "\n\n".join(parts)


def _md(text: str) -> str:
    """Text that Markdown shows as written (no emphasis, links or HTML from a title)."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _result(
    diagnostic: Diagnostic,
    rule_index: int | str,
    capture: CaptureResult,
    options: ReportOptions,
    seen: dict[str, int],
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": diagnostic.id,
        "ruleIndex": rule_index,
        "level": diagnostic.severity.value,  # SARIF's levels have our severities' names
        "message": {"text": diagnostic.message},
    }
    path, line = finding_place(diagnostic, capture)
    relative = report_path(path, capture, options)
    if relative:
        result["locations"] = [_location(relative, line, diagnostic.location.column)]
    key = fingerprint(diagnostic, relative)
    seen[key] = seen.get(key, 0) + 1  # the same finding twice in a file: told apart
    result["partialFingerprints"] = {"balloonFinding/v1": f"{key}:{seen[key]}"}
    properties = {"capture": capture.name}
    if diagnostic.hint:
        properties["hint"] = diagnostic.hint
    if diagnostic.pointer:
        properties["pointer"] = diagnostic.pointer
    result["properties"] = properties
    return result


def finding_place(diagnostic: Diagnostic, capture: CaptureResult) -> tuple[str, int]:
    """Where a finding is: its own file and line, or for one about the whole capture (no
    file, or the capture itself) its ``capture.json``, else its first file, line 1."""
    loc = diagnostic.location
    if (loc.path and loc.path != capture.name) or capture.series:
        return loc.path, loc.line
    if not capture.files:
        return capture.name.rstrip("/") + "/capture.json", 1
    manifest = capture.name.rstrip("/") + "/capture.json"
    # a capture directory's manifest is read but not among the files checked
    known = manifest in capture.files or os.path.isfile(manifest)
    return (manifest if known else capture.files[0]), 1


def fingerprint(diagnostic: Diagnostic, relative: str) -> str:
    """A hash of what makes a finding the same finding on another run or machine: the
    rule, the relative path, and the JSON pointer (else the message, numbers blanked,
    so a counter that moved on does not make it a new finding). Not the line: lines
    move when a file grows."""
    what = diagnostic.pointer or re.sub(r"\d+", "#", diagnostic.message)
    text = "\0".join((diagnostic.id, relative, what))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _location(path: str, line: int, column: int) -> dict[str, Any]:
    # a guest's own path (check --live) is relative to the guest's root, never a file: URI
    base, path = (GUESTROOT, path.lstrip("/")) if path.startswith("/") else (SRCROOT, path)
    uri = {"uri": path_uri(path), "uriBaseId": base}
    physical: dict[str, Any] = {"artifactLocation": uri}
    if line:
        region = {"startLine": line}
        if column:
            region["startColumn"] = column
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
