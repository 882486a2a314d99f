"""The SARIF reporter: valid against the official SARIF 2.1.0 schema, with consistent rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft4Validator, Draft7Validator

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.report import ReportOptions
from conformance.report.model import CaptureResult, Report
from conformance.report.sarif import path_uri, sarif_log
from conformance.rules import describe

from .report_samples import MIXED, SAMPLES, SKIPPED, render

SARIF_SCHEMA = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_schema() -> Any:
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def _log(report: Report, options: ReportOptions | None = None) -> Any:
    return json.loads(render(report, "sarif", options))


def _errors(schema: Any, log: Any) -> list[str]:
    # draft 7 as issue #3 asks, and draft 4, which the OASIS file declares; they agree on
    # every keyword the file uses, and both run here so a disagreement would show
    messages = []
    for cls in (Draft7Validator, Draft4Validator):
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        messages += [
            f"{cls.__name__}: {e.json_path}: {e.message}" for e in validator.iter_errors(log)
        ]
    return messages


def test_shipped_schema_is_the_oasis_sarif_2_1_0_schema(sarif_schema: Any) -> None:
    assert sarif_schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert sarif_schema["properties"]["version"]["enum"] == ["2.1.0"]
    Draft7Validator.check_schema(sarif_schema)
    Draft4Validator.check_schema(sarif_schema)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_log_is_valid_sarif(sarif_schema: Any, name: str) -> None:
    assert _errors(sarif_schema, _log(SAMPLES[name])) == []


def test_log_with_a_timestamp_is_valid_sarif(sarif_schema: Any) -> None:
    log = _log(MIXED, ReportOptions(timestamp="2026-01-31T12:00:00Z"))
    assert log["runs"][0]["invocations"] == [
        {"executionSuccessful": True, "endTimeUtc": "2026-01-31T12:00:00Z"}
    ]
    assert _errors(sarif_schema, log) == []


def test_the_schema_check_is_not_vacuous(sarif_schema: Any) -> None:
    log = _log(MIXED)
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"] = {}
    assert len(_errors(sarif_schema, log)) == 4  # each of the two, by each validator


def test_driver_describes_the_tool_and_every_rule() -> None:
    driver = _log(MIXED)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "balloon-conform"
    assert driver["version"] == MIXED.version
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == sorted(MIXED.catalogue)
    rules = {r["id"]: r for r in driver["rules"]}
    total, info = rules["meminfo.total-bound"], MIXED.catalogue["meminfo.total-bound"]
    assert total["shortDescription"] == {"text": info.title}
    assert total["fullDescription"] == {"text": info.source}
    assert "Tolerance: " + info.tolerance in total["help"]["text"]
    assert info.example in total["help"]["text"]
    levels = {rule: r["defaultConfiguration"]["level"] for rule, r in rules.items()}
    assert levels == {k: v.severity.value for k, v in MIXED.catalogue.items()}
    assert set(levels.values()) == {"error", "warning", "note"}


def test_every_result_points_at_its_rule() -> None:
    run = _log(MIXED)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(MIXED.diagnostics)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == MIXED.catalogue[result["ruleId"]].severity.value


def test_results_are_sorted_within_each_capture() -> None:
    results = _log(MIXED)["runs"][0]["results"]
    captures = [r["properties"]["capture"] for r in results]
    assert captures == sorted(captures, key=[c.name for c in MIXED.captures].index)
    first = [r for r in results if r["properties"]["capture"] == MIXED.captures[0].name]
    lines = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine", 0),
        )
        for r in first
    ]
    assert lines == sorted(lines)


def test_region_leaves_out_what_is_zero() -> None:
    results = _log(MIXED)["runs"][0]["results"]
    regions = [r["locations"][0]["physicalLocation"].get("region") for r in results]
    assert {"startLine": 4, "startColumn": 21} in regions
    assert {"startLine": 7} in regions  # column 0
    assert None in regions  # line 0: the whole file


def test_hint_and_pointer_travel_as_properties() -> None:
    results = _log(MIXED)["runs"][0]["results"]
    schema_max = next(r for r in results if r["ruleId"] == "schema.maximum")
    assert schema_max["properties"]["pointer"] == "/host_version/major"
    assert schema_max["properties"]["hint"].startswith("schema path:")


@pytest.mark.parametrize(
    "path,uri",
    [
        ("captures/t0/proc/meminfo", "captures/t0/proc/meminfo"),
        ("captures/t1 50%,done:x/proc/meminfo", "captures/t1%2050%25,done%3Ax/proc/meminfo"),
        ("series:a..b", "series%3Aa..b"),
        ("<stdin>", "%3Cstdin%3E"),
        ("dir\\sub\\file", "dir/sub/file"),
        ("/proc/meminfo", "file:///proc/meminfo"),
        ("C:\\captures\\t0\\meminfo", "file:///C:/captures/t0/meminfo"),
        ("caf\u00e9/#1?", "caf%C3%A9/%231%3F"),
    ],
)
def test_paths_become_uri_references(path: str, uri: str) -> None:
    assert path_uri(path) == uri


@pytest.mark.parametrize("path", ["captures/t1 50%,done:x/proc/meminfo", "a:b/c d", "x#y?z"])
def test_a_relative_uri_reads_back_as_the_path(path: str) -> None:
    uri = path_uri(path)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == ("", "", "", "")
    assert unquote(parts.path) == path


def test_a_finding_about_the_whole_capture_points_at_it(sarif_schema: Any) -> None:
    # GitHub code scanning drops a result without a location
    whole = Diagnostic("x", Severity.WARNING, "no file", Location())
    at_capture = Diagnostic("x", Severity.WARNING, "the capture", Location("c"))
    for files, where in (
        ((), "c/capture.json"),
        (("c/b", "c/capture.json"), "c/capture.json"),
        (("c/proc/meminfo",), "c/proc/meminfo"),
    ):
        log = _log(Report("0", (CaptureResult("c", files, (whole, at_capture), ("x",)),)))
        for result in log["runs"][0]["results"]:
            physical = result["locations"][0]["physicalLocation"]
            assert physical["artifactLocation"] == {"uri": where, "uriBaseId": "%SRCROOT%"}
            assert physical["region"] == {"startLine": 1}
        assert _errors(sarif_schema, log) == []


def test_an_id_missing_from_the_catalogue_still_gets_a_rule(sarif_schema: Any) -> None:
    finding = Diagnostic("parse.odd", Severity.ERROR, "odd", Location("f", 1, 1))
    log = _log(Report("0", (CaptureResult("c", ("f",), (finding,), ()),)))
    run = log["runs"][0]
    uri = "https://sphinxext-balloon.github.io/rules.html#balloon-rule-parse-family"
    assert run["tool"]["driver"]["rules"] == [
        {
            "id": "parse.odd",
            "helpUri": uri,
            "help": {"text": "parse.odd", "markdown": f"`parse.odd`: see [the rules]({uri})"},
        }
    ]
    assert run["results"][0]["ruleIndex"] == 0
    assert _errors(sarif_schema, log) == []


@pytest.mark.parametrize("timestamp", [None, "2026-01-31T12:00:00Z"])
def test_a_skipped_check_is_a_tool_execution_notification(
    sarif_schema: Any, timestamp: str | None
) -> None:
    log = _log(SKIPPED, ReportOptions(timestamp=timestamp))
    assert _errors(sarif_schema, log) == []
    run = log["runs"][0]
    (invocation,) = run["invocations"]
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["descriptor"]["id"]) for n in notes] == [
        ("note", "hv-balloon.pages-accounting"),
        ("note", "meminfo.total-bound"),
        ("note", "meminfo.total-bound"),
    ]
    rules = run["tool"]["driver"]["rules"]
    for note in notes:
        assert rules[note["associatedRule"]["index"]]["id"] == note["descriptor"]["id"]
        assert note["properties"]["reason"] in note["message"]["text"]
    assert sarif_log(SKIPPED, ReportOptions(timestamp=timestamp)) == log


def test_no_invocation_without_a_timestamp_or_a_skip() -> None:
    assert "invocations" not in _log(MIXED)["runs"][0]


def _github_problems(log: Any) -> list[str]:
    """GitHub code scanning's documented SARIF upload requirements and limits (docs page
    "SARIF support for code scanning": required properties, at most 20 runs a file,
    25,000 results and 25,000 rules a run, 1,000 locations a result)."""
    problems: list[str] = []
    runs = log["runs"]
    if len(runs) > 20:
        problems.append("more than 20 runs")
    for run in runs:
        driver = run["tool"]["driver"]
        if not driver.get("name"):
            problems.append("tool.driver.name missing")
        if len(run["results"]) > 25_000 or len(driver.get("rules", [])) > 25_000:
            problems.append("over 25,000 results or rules")
        ids = {rule["id"] for rule in driver["rules"]}
        for rule in driver["rules"]:
            if not rule.get("helpUri") or not rule.get("help", {}).get("markdown"):
                problems.append(f"rule {rule['id']} lacks helpUri or help.markdown")
        for result in run["results"]:
            if result.get("ruleId") not in ids:
                problems.append("result without a known ruleId")
            if not result.get("message", {}).get("text"):
                problems.append("result without message.text")
            locations = result.get("locations", [])
            if not 1 <= len(locations) <= 1000:
                problems.append(f"{result['ruleId']}: {len(locations)} locations")
            for location in locations:
                physical = location["physicalLocation"]
                uri = physical["artifactLocation"]["uri"]
                if ":" in uri.split("/", 1)[0] or uri.startswith("/"):
                    problems.append(f"{uri}: not a relative URI")
                if physical.get("region", {}).get("startLine", 1) < 1:
                    problems.append(f"{uri}: startLine < 1")
            if not result.get("partialFingerprints"):
                problems.append("result without partialFingerprints")
    return problems


def test_github_requirements_hold_for_every_sample() -> None:
    for report in SAMPLES.values():
        assert _github_problems(_log(report, ReportOptions(base_dir="/tmp"))) == []
    broken = _log(
        Report("0", (CaptureResult("c", (), (Diagnostic("x", Severity.ERROR, ""),), ()),))
    )
    assert "result without message.text" in _github_problems(broken)  # the check can fail


def test_absolute_paths_become_relative_under_srcroot(tmp_path: Path, sarif_schema: Any) -> None:
    name = str(tmp_path / "fleet" / "g1")
    finding = Diagnostic("x", Severity.ERROR, "bad", Location(f"{name}/proc/meminfo", 2))
    report = Report("0", (CaptureResult(name, (f"{name}/proc/meminfo",), (finding,), ("x",)),))
    log = _log(report, ReportOptions(base_dir=str(tmp_path), category="matrix/py3.9"))
    run = log["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "fleet/g1/proc/meminfo", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": f"file://{tmp_path}/"}}
    assert run["automationDetails"] == {"id": "matrix/py3.9/"}
    assert "file:" not in json.dumps(run["results"])
    assert _errors(sarif_schema, log) == []


def test_fingerprints_are_the_same_on_another_machine(tmp_path: Path) -> None:
    def fingerprints(root: Path, value: int) -> list[str]:
        name = str(root / "cap")
        findings = tuple(
            Diagnostic("x", Severity.ERROR, f"{value} > 10", Location(f"{name}/f", line))
            for line in (3, 9)
        )
        report = Report("0", (CaptureResult(name, (f"{name}/f",), findings, ("x",)),))
        results = _log(report, ReportOptions(base_dir=str(root)))["runs"][0]["results"]
        return [r["partialFingerprints"]["balloonFinding/v1"] for r in results]

    here, there = fingerprints(tmp_path / "a", 12), fingerprints(tmp_path / "b" / "c", 13)
    assert here == there  # another checkout, another value: the same two findings
    assert len(set(here)) == 2  # two findings alike in one file are told apart
    other = Diagnostic("y", Severity.ERROR, "12 > 10", Location(f"{tmp_path}/a/cap/f", 3))
    report = Report("0", (CaptureResult(f"{tmp_path}/a/cap", (), (other,), ("y",)),))
    moved = _log(report, ReportOptions(base_dir=str(tmp_path / "a")))["runs"][0]["results"][0]
    assert moved["partialFingerprints"]["balloonFinding/v1"] not in here  # another rule


def test_help_uris_are_the_anchors_the_docs_have() -> None:
    domain = pytest.importorskip("sphinxext_balloon.domain")
    from conformance.report.sarif import help_uri
    from conformance.rules import FAMILIES, RULES

    for rule in RULES:
        assert help_uri(rule.id, rule.info).endswith("#" + domain.rule_anchor(rule.id))
    for family in FAMILIES:
        info = describe(f"{family}.anything")
        assert help_uri(f"{family}.anything", info).endswith(
            "#" + domain.rule_anchor(family + ".*")
        )


def test_results_over_githubs_limit_keep_errors_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.report import sarif

    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    findings = tuple(
        Diagnostic("x", severity, str(n), Location("f", n + 1))
        for n, severity in enumerate(
            [Severity.NOTE, Severity.ERROR, Severity.WARNING, Severity.ERROR]
        )
    )
    run = _log(Report("0", (CaptureResult("c", ("f",), findings, ("x",)),)))["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "warning", "error"]
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["message"]["text"].startswith("1 result left out")


def test_a_guest_checked_in_place_is_located_under_its_own_root(sarif_schema: Any) -> None:
    finding = Diagnostic("x", Severity.ERROR, "bad", Location("/proc/meminfo", 2, 5))
    guest = CaptureResult("live", ("/proc/meminfo",), (finding,), ("x",), guest=True)
    log = _log(Report("0", (guest,)), ReportOptions(base_dir="/tmp"))
    run = log["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "proc/meminfo", "uriBaseId": "GUESTROOT"}
    assert run["originalUriBaseIds"]["GUESTROOT"]["uri"] == "file:///"
    assert run["originalUriBaseIds"]["%SRCROOT%"] == {"uri": "file:///tmp/"}
    assert _errors(sarif_schema, log) == [] and _github_problems(log) == []
    # a capture that is not a guest in place keeps its absolute path under %SRCROOT%
    elsewhere = CaptureResult("/tmp/c", ("/tmp/c/f",), (finding.at("/tmp/c/f"),), ("x",))
    run = _log(Report("0", (elsewhere,)), ReportOptions(base_dir="/tmp"))["runs"][0]
    assert "GUESTROOT" not in run["originalUriBaseIds"]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "c/f",
        "uriBaseId": "%SRCROOT%",
    }


class _WrittenAhead(tuple):  # type: ignore[type-arg]
    """Captures that carry each one's parts of a report, as a fleet's spool keeps those
    its workers wrote."""

    def prewritten(self, format: str, options: ReportOptions) -> list[str] | None:
        from conformance.report import part_writer

        writer = part_writer(format)
        return None if writer is None else [writer(capture, options) for capture in self]


SLOT_LOOKALIKE = '"ruleIndex": "@rule-index:capture.unchecked" "index": "@rule-index:x"'


@pytest.mark.parametrize("format", ["sarif", "junit", "junit-gitlab", "json"])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_parts_written_ahead_make_the_same_report(sample: str, format: str) -> None:
    # a message that looks like a slot where a rule's index goes is left as it is
    report = SAMPLES[sample]
    odd = CaptureResult(
        "odd",
        ("odd/proc/meminfo",),
        (
            Diagnostic(
                "meminfo.total", Severity.ERROR, SLOT_LOOKALIKE, Location("odd/proc/meminfo", 2)
            ),
        ),
        ("meminfo.total",),
    )
    captures = (*report.captures, odd)
    catalogue = {**report.catalogue, "meminfo.total": describe("meminfo.total")}
    plain = render(Report(report.version, captures, catalogue), format)
    ahead = render(Report(report.version, _WrittenAhead(captures), catalogue), format)
    assert ahead == plain
    assert "@rule-index:capture.unchecked" in plain  # the message, as it was
