"""The ``junit`` reporter: JUnit XML, as Jenkins and GitLab read test reports.

``<testsuites>`` holds one ``<testsuite>`` per capture, named after it; each suite holds
one ``<testcase>`` per check evaluated on the capture (``classname`` = capture,
``name`` = check id). A test case fails when the capture has a finding of error severity
with that id: its ``<failure>`` lists those findings. Warnings and notes of the check go
to the test case's ``<system-out>``, which both CI systems show but do not count as
failures. A check that could not run on the capture is a test case with
``<skipped message="reason"/>``. Nothing is timed, so no ``time`` attributes are written;
a ``timestamp`` is written on each suite only when the options give one.

The document is valid against the Jenkins xunit plugin's ``junit-10.xsd``: no ``skipped``
count on ``<testsuites>`` (that schema has none there, and the plugin skips a file it
rejects). Paths are relative to the base directory, and a ``classname`` has no ``.``
from a path, since Jenkins splits a class name into packages at its dots
(``virtio-6.18-firecracker`` would become package ``virtio-6``): they become ``_``.
``junit-gitlab`` is the same document with ``file`` and ``line`` on each failing test
case, which GitLab shows and that schema does not allow.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from ..diagnostics import Diagnostic, Severity
from .model import CaptureResult, Report, prewritten
from .options import (
    ReportOptions,
    diagnostic_line,
    ordered,
    plural,
    relative_path,
    report_path,
    rule_ids,
    skipped_ids,
)

# Characters XML 1.0 cannot carry at all, not even as references; a message may quote
# one from a damaged capture, and one such character would make the whole file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_junit(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as a JUnit XML document (junit-10.xsd) to ``stream``."""
    _write(report, stream, options, gitlab=False)


def write_junit_gitlab(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """As :func:`write_junit`, with ``file`` and ``line`` on failing test cases for GitLab."""
    _write(report, stream, options, gitlab=True)


def _write(report: Report, stream: TextIO, options: ReportOptions, gitlab: bool) -> None:
    """Write ``report`` as a JUnit XML document to ``stream``, one suite at a time.

    The root's totals come from a first pass that keeps only two numbers; each suite is
    then built, written and dropped, so memory does not grow with the fleet. Suites a
    fleet's workers wrote ahead (:func:`capture_part`) are copied, counts and all."""
    format = "junit-gitlab" if gitlab else "junit"
    tests = failures = 0
    parts = prewritten(report.captures, format, options)
    counts = map(_suite_counts, report.captures) if parts is None else map(_part_counts, parts)
    for tested, failed, *_ in counts:
        tests, failures = tests + tested, failures + failed
    root = ET.Element("testsuites", name="balloon-conform")
    # no "skipped" here: junit-10.xsd has none on <testsuites>, and the xunit plugin
    # skips a whole file that its schema rejects
    totals = (("tests", tests), ("failures", failures), ("errors", 0))
    for key, value in totals:
        root.set(key, str(value))
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not report.captures:
        stream.write(ET.tostring(root, encoding="unicode") + "\n")
        return
    opening = ET.tostring(root, encoding="unicode").replace(" />", ">")
    stream.write(opening + "\n")
    parts = prewritten(report.captures, format, options)
    if parts is not None:
        for part in parts:
            stream.write(part[part.index(_COUNTED) + 1 :])
    else:
        for capture in report.captures:
            stream.write(_suite_text(capture, options, gitlab))
    stream.write("</testsuites>\n")


def _suite_text(capture: CaptureResult, options: ReportOptions, gitlab: bool) -> str:
    suite = _suite(capture, options, gitlab)
    ET.indent(suite, level=1)
    return "  " + ET.tostring(suite, encoding="unicode").rstrip(" \n") + "\n"


_COUNTED = "\x01"
"""Between the counts of a part and its suite (XML text never holds this character)."""


def capture_part(capture: CaptureResult, options: ReportOptions, gitlab: bool = False) -> str:
    """One capture's suite as :func:`write_junit` writes it, after its counts (a fleet's
    workers write these while they check, :func:`conformance.report.part_writer`)."""
    tests, failures, _ = _suite_counts(capture)
    return f"{tests} {failures}{_COUNTED}{_suite_text(capture, options, gitlab)}"


def capture_part_gitlab(capture: CaptureResult, options: ReportOptions) -> str:
    """As :func:`capture_part`, for :func:`write_junit_gitlab`."""
    return capture_part(capture, options, gitlab=True)


def _part_counts(part: str) -> tuple[int, int]:
    tests, failures = part[: part.index(_COUNTED)].split()
    return int(tests), int(failures)


def _suite_counts(capture: CaptureResult) -> tuple[int, int, int]:
    """(test cases, failed test cases, skipped test cases) of a capture's suite."""
    failing = {d.id for d in capture.diagnostics if d.severity is Severity.ERROR}
    rules = rule_ids(capture)
    skipped = len(skipped_ids(capture))
    return len(rules) + skipped, sum(1 for rule in rules if rule in failing), skipped


def _suite(capture: CaptureResult, options: ReportOptions, gitlab: bool) -> ET.Element:
    name = capture.name if capture.series else relative_path(capture.name, options)
    suite = ET.Element("testsuite", name=_xml(name))
    classname = _xml(name.replace(".", "_"))
    findings = ordered(capture.diagnostics)
    cases = [
        _case(classname, rule, findings, capture, options, gitlab) for rule in rule_ids(capture)
    ]
    for rule, reason in sorted(skipped_ids(capture).items()):
        case = ET.Element("testcase", classname=classname, name=_xml(rule))
        ET.SubElement(case, "skipped", message=_xml(reason))
        cases.append(case)
    cases.sort(key=lambda case: case.get("name", ""))
    _set_counts(suite, cases)
    if options.timestamp is not None:
        suite.set("timestamp", _xml(options.timestamp))
    suite.extend(cases)
    return suite


def _set_counts(element: ET.Element, children: list[ET.Element]) -> None:
    """The count attributes of a suite (or of the root) from its test cases (or suites)."""
    if element.tag == "testsuites":
        tests = sum(int(s.get("tests", "0")) for s in children)
        failures = sum(int(s.get("failures", "0")) for s in children)
    else:
        tests = len(children)
        failures = sum(1 for c in children if c.find("failure") is not None)
    skipped = sum(1 for c in children if c.find("skipped") is not None)
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    # findings are failures of a check; a check that could not run on the capture is a
    # skipped test case with the reason; errors do not happen, but readers expect the count
    element.set("errors", "0")
    element.set("skipped", str(skipped))


def _case(
    classname: str,
    rule: str,
    findings: list[Diagnostic],
    capture: CaptureResult,
    options: ReportOptions,
    gitlab: bool,
) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=_xml(rule))
    mine = [d for d in findings if d.id == rule]
    errors = [d for d in mine if d.severity is Severity.ERROR]
    others = [d for d in mine if d.severity is not Severity.ERROR]
    if errors and gitlab:  # where GitLab's test report looks for the place of a failure
        where = errors[0].location
        case.set("file", _xml(report_path(where.path, capture, options)))
        if where.line:
            case.set("line", str(where.line))
    if errors:
        failure = ET.SubElement(
            case, "failure", message=_xml(_failure_message(errors)), type=_xml(rule)
        )
        failure.text = _xml(_lines(errors))
    if others:
        ET.SubElement(case, "system-out").text = _xml(_lines(others))
    return case


def _failure_message(errors: list[Diagnostic]) -> str:
    first = errors[0]
    if len(errors) == 1:
        return f"{first.location}: {first.message}"
    return f"{plural(len(errors), 'error')}, first {first.location}: {first.message}"


def _lines(findings: list[Diagnostic]) -> str:
    return "".join(diagnostic_line(d) + "\n" for d in findings)


def _xml(text: str) -> str:
    """``text`` with the characters XML cannot hold written as ``\\xNN`` or ``\\uNNNN``."""
    return _NOT_XML.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
