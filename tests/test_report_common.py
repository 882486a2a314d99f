"""The reporter registry and what every reporter promises: same input, same bytes."""

from __future__ import annotations

import io

import pytest

from conformance import records
from conformance.errors import UsageError
from conformance.report import DEFAULT_FORMAT, REPORTERS, ReportOptions, write_report
from conformance.report.model import Report

from .report_samples import MIXED, SAMPLES, golden, render

FORMATS = sorted(REPORTERS)


def test_registry_names_the_five_formats_of_issue_3() -> None:
    assert FORMATS == ["github", "gitlab", "json", "junit", "junit-gitlab", "sarif", "text"]
    assert DEFAULT_FORMAT == "text"


def test_unknown_format_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="unknown report format 'html'; known: text, json"):
        write_report(MIXED, "html", io.StringIO())


def test_options_default_when_not_given() -> None:
    stream = io.StringIO()
    write_report(MIXED, "json", stream)
    assert stream.getvalue() == render(MIXED, "json")


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("format", FORMATS)
def test_output_matches_its_golden_file(name: str, format: str) -> None:
    expected = golden(name, format).read_text(encoding="utf-8")
    assert render(SAMPLES[name], format) == expected


@pytest.mark.parametrize("format", FORMATS)
def test_two_runs_give_the_same_bytes(format: str) -> None:
    first = render(MIXED, format).encode("utf-8")
    second = render(MIXED, format).encode("utf-8")
    assert first == second


def _shuffled(report: Report) -> Report:
    """The same findings and catalogue, given in the reverse order."""
    captures = tuple(
        records.replace(c, diagnostics=tuple(reversed(c.diagnostics))) for c in report.captures
    )
    catalogue = dict(reversed(list(report.catalogue.items())))
    return records.replace(report, captures=captures, catalogue=catalogue)


@pytest.mark.parametrize("format", FORMATS)
def test_the_order_findings_are_given_in_does_not_matter(format: str) -> None:
    assert render(_shuffled(MIXED), format) == render(MIXED, format)


@pytest.mark.parametrize("format", FORMATS)
def test_no_timestamp_unless_given(format: str) -> None:
    stamp = "2026-01-31T12:00:00Z"
    assert stamp not in render(MIXED, format)
    stamped = render(MIXED, format, ReportOptions(timestamp=stamp, environ={}))
    # the machine-readable reports carry it; the text and GitHub ones have no place for it
    assert (stamp in stamped) == (format in ("json", "junit", "junit-gitlab", "sarif"))
