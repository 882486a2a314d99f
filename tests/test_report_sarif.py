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


def test_a_finding_without_a_file_has_no_location_and_is_valid(sarif_schema: Any) -> None:
    finding = Diagnostic("x", Severity.WARNING, "no file", Location())
    log = _log(Report("0", (CaptureResult("c", (), (finding,), ("x",)),)))
    result = log["runs"][0]["results"][0]
    assert "locations" not in result
    assert _errors(sarif_schema, log) == []


def test_an_id_missing_from_the_catalogue_still_gets_a_rule(sarif_schema: Any) -> None:
    finding = Diagnostic("parse.odd", Severity.ERROR, "odd", Location("f", 1, 1))
    log = _log(Report("0", (CaptureResult("c", ("f",), (finding,), ()),)))
    run = log["runs"][0]
    assert run["tool"]["driver"]["rules"] == [{"id": "parse.odd"}]
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
