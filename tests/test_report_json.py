"""The JSON reporter: valid against schemas/report.schema.json, and saying what the run found."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import schemas
from conformance.diagnostics import Diagnostic, Location, Severity, to_json
from conformance.report import ReportOptions
from conformance.report.model import CaptureResult, Report, Skip
from conformance.report.options import ordered

from .report_samples import MIXED, SAMPLES, UNKNOWN_RELEASE, render

SCHEMA = "report.schema.json"


def _document(name: str, options: ReportOptions | None = None) -> Any:
    return json.loads(render(SAMPLES[name], "json", options))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_report_is_valid_against_its_schema(name: str) -> None:
    errors = [e.message for e in schemas.iter_errors(SCHEMA, _document(name))]
    assert errors == []


def test_report_with_a_timestamp_is_valid_too() -> None:
    document = _document("mixed", ReportOptions(timestamp="2026-01-31T12:00:00Z"))
    assert document["timestamp"] == "2026-01-31T12:00:00Z"
    assert list(schemas.iter_errors(SCHEMA, document)) == []


def test_schema_passes_the_project_meta_schema_and_names_itself() -> None:
    assert [p for p in schemas.check_schemas() if p.startswith(SCHEMA)] == []
    document = _document("clean")
    assert document["$schema"] == schemas.document(SCHEMA)["$id"]


def test_schema_rejects_what_the_reporter_never_writes() -> None:
    document = _document("mixed")
    document["captures"][0]["diagnostics"][0]["severity"] = "fatal"
    del document["summary"]["failed"]
    document["extra"] = 1
    messages = sorted(e.message for e in schemas.iter_errors(SCHEMA, document))
    assert len(messages) == 3, messages


def test_summary_counts() -> None:
    # the series' own entry is neither a capture nor more files
    assert _document("mixed")["summary"] == {
        "captures": 2,
        "files": 4,
        "errors": 4,
        "warnings": 2,
        "notes": 2,
        "skipped": 0,
        "failed": True,
    }
    assert _document("clean")["summary"]["failed"] is False


def test_skipped_checks_are_listed_per_capture_with_the_reason() -> None:
    document = _document("skipped")
    assert document["summary"]["skipped"] == 3
    first, second = document["captures"]
    assert first["skipped"] == [
        {"rule": "hv-balloon.pages-accounting", "reason": "no hv-balloon file in the capture"},
        {"rule": "meminfo.total-bound", "reason": UNKNOWN_RELEASE},
    ]
    assert [s["rule"] for s in second["skipped"]] == ["meminfo.total-bound"]
    assert "meminfo.total-bound" not in first["rules"]


def test_each_capture_has_its_files_rules_counts_and_sorted_findings() -> None:
    captures = _document("mixed")["captures"]
    assert [c["name"] for c in captures] == [c.name for c in MIXED.captures]
    for written, capture in zip(captures, MIXED.captures):
        assert written["files"] == list(capture.files)
        assert written["rules"] == list(capture.rules)
        assert (written["errors"], written["warnings"], written["notes"]) == (
            capture.count(Severity.ERROR),
            capture.count(Severity.WARNING),
            capture.count(Severity.NOTE),
        )
        # the same shape as `balloon-conform parse --meta`, in sort_key order
        assert written["diagnostics"] == [to_json(d) for d in ordered(capture.diagnostics)]


def test_optional_members_of_a_finding_appear_only_when_set() -> None:
    first = _document("mixed")["captures"][0]["diagnostics"]
    by_message = {d["message"]: d for d in first}
    schema_max = by_message["/host_version/major: 65536 is greater than 65535"]
    assert schema_max["pointer"] == "/host_version/major" and "hint" in schema_max
    note = by_message["MemTotal is within 64 kB of the bound"]
    assert "hint" not in note and "pointer" not in note
    assert (note["line"], note["column"]) == (0, 0)


def test_rule_catalogue_is_sorted_and_complete() -> None:
    rules = _document("mixed")["rules"]
    assert [r["id"] for r in rules] == sorted(MIXED.catalogue)
    total = {r["id"]: r for r in rules}["meminfo.total-bound"]
    info = MIXED.catalogue["meminfo.total-bound"]
    assert total == {
        "id": info.id,
        "severity": "note",
        "scope": "capture",
        "title": info.title,
        "source": info.source,
        "tolerance": info.tolerance,
        "example": info.example,
    }
    assert "tolerance" not in {r["id"]: r for r in rules}["schema.maximum"]


def test_non_ascii_is_written_as_is() -> None:
    finding = Diagnostic("x", Severity.NOTE, "MemTotal \u2260 1\u202f024 kB", Location("f", 1))
    report = Report("0", (CaptureResult("c", ("f",), (finding,), ("x",)),))
    out = render(report, "json")
    assert "MemTotal \u2260 1\u202f024 kB" in out and "\\u" not in out


_TEXT = st.text(max_size=12)  # controls, surrogates and quotes included
_DIAGNOSTICS = st.builds(
    Diagnostic,
    _TEXT,
    st.sampled_from(list(Severity)),
    _TEXT,
    st.builds(Location, _TEXT, st.integers(0, 10**6), st.integers(0, 10**6)),
    _TEXT,
    _TEXT,
)
_RESULTS = st.builds(
    CaptureResult,
    _TEXT,
    st.lists(_TEXT, max_size=3).map(tuple),
    st.lists(_DIAGNOSTICS, max_size=3).map(tuple),
    st.lists(_TEXT, max_size=3).map(tuple),
    st.lists(st.builds(Skip, _TEXT, _TEXT), max_size=3).map(tuple),
)


@given(_RESULTS)
def test_a_capture_written_by_hand_is_what_json_dumps_writes(result: CaptureResult) -> None:
    """The capture objects of a fleet's report are written by a template for their one
    shape: the same text as the general writer, and so as ``json.dumps(indent=2)``."""
    from conformance.report import json_report

    value = json_report._capture(result)
    assert json_report._written_capture(result) == json.dumps(value, indent=2, ensure_ascii=False)
