"""The JUnit reporter: the structure Jenkins and GitLab read, with counts that add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.report import ReportOptions
from conformance.report.model import CaptureResult, Report

from .report_samples import CLEAN, MIXED, SERIES, SKIPPED, T0, T1, UNKNOWN_RELEASE, render


def _root(report: Report, options: ReportOptions | None = None) -> ET.Element:
    return ET.fromstring(render(report, "junit", options).encode("utf-8"))


def _counts(element: ET.Element) -> tuple[int, int, int, int]:
    # junit-10.xsd has no skipped count on <testsuites>: the root's is counted here
    skipped = element.get("skipped") or sum(int(s.get("skipped", "0")) for s in element)
    counts = [int(element.attrib[k]) for k in ("tests", "failures", "errors")]
    return (counts[0], counts[1], counts[2], int(skipped))


def test_document_is_testsuites_of_testsuites_of_testcases() -> None:
    root = _root(MIXED)
    assert root.tag == "testsuites"
    assert [s.tag for s in root] == ["testsuite"] * 3
    assert {c.tag for s in root for c in s} == {"testcase"}
    assert render(MIXED, "junit").startswith('<?xml version="1.0" encoding="UTF-8"?>\n')


def test_one_suite_per_capture_and_one_case_per_rule() -> None:
    root = _root(MIXED)
    assert [s.get("name") for s in root] == [T0, T1, SERIES]
    t0 = root[0]
    assert [c.get("name") for c in t0] == sorted(MIXED.captures[0].rules)
    assert {c.get("classname") for c in t0} == {T0}


def test_a_finding_whose_id_the_rule_list_lacks_still_gets_a_case() -> None:
    t1 = _root(MIXED)[1]
    assert "parse.unknown-key" not in MIXED.captures[1].rules
    assert [c.get("name") for c in t1] == [
        "meminfo.total-bound",
        "parse.unknown-key",
        "schema.maximum",
        "virtio.features-known",
    ]


def test_counts_add_up_at_every_level() -> None:
    root = _root(MIXED)
    assert [_counts(s) for s in root] == [(4, 2, 0, 0), (4, 0, 0, 0), (1, 1, 0, 0)]
    assert _counts(root) == (9, 3, 0, 0)
    for suite in root:
        assert int(suite.attrib["tests"]) == len(suite)
        failed = sum(1 for case in suite if case.find("failure") is not None)
        assert int(suite.attrib["failures"]) == failed


def test_a_case_fails_with_every_error_of_its_rule_listed() -> None:
    cases = {c.get("name"): c for c in _root(MIXED)[0]}
    failure = cases["hv-balloon.pages-accounting"].find("failure")
    assert failure is not None
    assert failure.get("type") == "hv-balloon.pages-accounting"
    assert failure.get("message", "").startswith("2 errors, first ")
    assert (failure.text or "").splitlines() == [
        f"{T0}/sys/kernel/debug/hv-balloon:7: error: pages added 10 < pages onlined 12"
        " [hv-balloon.pages-accounting]",
        f"{T0}/sys/kernel/debug/hv-balloon:9:1: error: pages ballooned 512 != 256 + 128"
        " [hv-balloon.pages-accounting]",
    ]
    single = cases["schema.maximum"].find("failure")
    assert single is not None and "hint: schema path:" in (single.text or "")


def test_warnings_and_notes_go_to_system_out_and_do_not_fail() -> None:
    cases = {c.get("name"): c for c in _root(MIXED)[0]}
    for name, word in (("layout.whitespace", "warning"), ("meminfo.total-bound", "note")):
        case = cases[name]
        assert case.find("failure") is None
        out = case.find("system-out")
        assert out is not None and f": {word}: " in (out.text or "")


def test_a_passing_case_is_empty() -> None:
    root = _root(CLEAN)
    assert _counts(root) == (2, 0, 0, 0)
    assert all(len(case) == 0 for case in root[0])


def test_timestamp_only_when_given() -> None:
    assert all("timestamp" not in s.attrib for s in _root(MIXED))
    stamped = _root(MIXED, ReportOptions(timestamp="2026-01-31T12:00:00"))
    assert {s.get("timestamp") for s in stamped} == {"2026-01-31T12:00:00"}


def test_characters_xml_cannot_hold_are_escaped_so_the_file_still_parses() -> None:
    finding = Diagnostic("x", Severity.ERROR, "byte \x00 and \x1b and \udcff", Location("f", 1))
    report = Report("0", (CaptureResult("cap\x01", ("f",), (finding,), ("x",)),))
    root = _root(report)
    failure = root[0][0].find("failure")
    assert failure is not None
    # escaped in the diagnostic already; the undecodable byte shows as the byte it was
    assert "byte \\x00 and \\x1b and \\xff" in (failure.text or "")
    assert root[0].get("name") == "cap\\x01"


def test_markup_characters_round_trip() -> None:
    finding = Diagnostic("x", Severity.ERROR, 'a < b & c > "d"', Location("f", 1))
    report = Report("0", (CaptureResult("c", ("f",), (finding,), ("x",)),))
    failure = _root(report)[0][0].find("failure")
    assert failure is not None
    assert failure.get("message") == 'f:1: a < b & c > "d"'
    assert 'a < b & c > "d" [x]' in (failure.text or "")


def test_empty_report() -> None:
    root = _root(Report("0", ()))
    assert _counts(root) == (0, 0, 0, 0) and len(root) == 0


def test_a_skipped_check_is_a_skipped_case_with_the_reason() -> None:
    root = ET.fromstring(render(SKIPPED, "junit"))
    assert (root.get("tests"), _counts(root)[3], root.get("failures")) == ("5", 3, "0")
    assert "skipped" not in root.attrib  # junit-10.xsd has none there
    first = root.findall("testsuite")[0]
    assert first.get("skipped") == "2"
    cases = {case.get("name"): case for case in first.findall("testcase")}
    skipped = cases["meminfo.total-bound"].find("skipped")
    assert skipped is not None and skipped.get("message") == UNKNOWN_RELEASE
    assert cases["schema.maximum"].find("skipped") is None
    second = root.findall("testsuite")[1].find("testcase/skipped")
    assert second is not None
    assert second.get("message") == 'kernel 6.1 predates what <the> rule & "needs" (6.15%)'


def test_classname_has_no_dot_from_a_path_and_paths_are_relative(tmp_path: Path) -> None:
    # Jenkins takes a classname's last dot as the package boundary
    name = str(tmp_path / "fleet" / "virtio-6.18-firecracker")
    finding = Diagnostic("x.y", Severity.ERROR, "bad", Location(f"{name}/proc/meminfo", 3))
    report = Report("1", (CaptureResult(name, (f"{name}/proc/meminfo",), (finding,), ("x.y",)),))
    options = ReportOptions(base_dir=str(tmp_path))
    suite = _root(report, options)[0]
    assert suite.get("name") == "fleet/virtio-6.18-firecracker"
    assert suite[0].get("classname") == "fleet/virtio-6_18-firecracker"
    assert "file" not in suite[0].attrib  # junit-10.xsd allows no file on a test case
    gitlab = ET.fromstring(render(report, "junit-gitlab", options).encode())[0][0]
    assert (gitlab.get("file"), gitlab.get("line")) == (
        "fleet/virtio-6.18-firecracker/proc/meminfo",
        "3",
    )
