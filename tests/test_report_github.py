"""The GitHub reporter: one workflow command per finding, escaped as the runner unescapes."""

from __future__ import annotations

import re

import pytest

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.report.github import annotation, escape_data, escape_property
from conformance.report.model import Report

from .report_samples import MIXED, SKIPPED, UNKNOWN_RELEASE, render

COMMAND = re.compile(
    r"^::(error|warning|notice) ((?:[a-zA-Z]+=[^,:]*)(?:,[a-zA-Z]+=[^,:]*)*)::(.*)$"
)


def _unescape_property(text: str) -> str:
    """What the Actions runner does to a property value (its CommandExtensions escape map,
    read backwards; ``%25`` last so that ``%2525`` stays ``%25``)."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    match = COMMAND.match(line)
    assert match, line
    properties = dict(p.split("=", 1) for p in match.group(2).split(","))
    return match.group(1), {k: _unescape_property(v) for k, v in properties.items()}, match.group(3)


def test_one_command_per_finding_with_the_right_level() -> None:
    lines = render(MIXED, "github").splitlines()
    assert len(lines) == len(MIXED.diagnostics)
    levels = [_parse(line)[0] for line in lines]
    assert sorted(levels) == sorted(
        {"error": "error", "warning": "warning", "note": "notice"}[d.severity.value]
        for d in MIXED.diagnostics
    )


def test_properties_name_the_file_position_and_rule() -> None:
    first = _parse(render(MIXED, "github").splitlines()[2])
    assert first == (
        "error",
        {
            "file": "captures/t0/sys/kernel/debug/hv-balloon",
            "line": "4",
            "endLine": "4",
            "col": "21",
            "title": "schema.maximum",
        },
        "/host_version/major: 65536 is greater than 65535"
        "%0Ahint: schema path: properties/host_version/major/maximum",
    )


def test_zero_positions_are_left_out() -> None:
    note = Diagnostic("n", Severity.NOTE, "m", Location("f"))
    assert annotation(note) == "::notice file=f,title=n::m"
    no_file = Diagnostic("n", Severity.WARNING, "m", Location("", 3, 4))
    assert annotation(no_file) == "::warning title=n::m"


def test_message_escapes_percent_and_line_breaks_only() -> None:
    assert escape_data("50% a:b, c\r\nd") == "50%25 a:b, c%0D%0Ad"
    assert escape_data("%0A") == "%250A"  # the runner must not turn it into a line break


def test_property_also_escapes_colon_and_comma() -> None:
    assert escape_property("t1 50%,done:x\n") == "t1 50%25%2Cdone%3Ax%0A"


@pytest.mark.parametrize("path", ["captures/t1 50%,done:x/proc/meminfo", "a,b:c%2C\r\n"])
def test_a_path_survives_the_round_trip(path: str) -> None:
    finding = Diagnostic("r", Severity.ERROR, "m", Location(path, 1, 2))
    _, properties, _ = _parse(annotation(finding))
    # the location escaped the line break when it was made; the rest comes back as it was
    assert properties["file"] == path.replace("\r", "\\r").replace("\n", "\\n")


def test_escaped_commands_stay_on_one_line() -> None:
    out = render(MIXED, "github")
    assert out.count("\n") == len(MIXED.diagnostics)
    assert "'Foo%25bar'\\nsecond line, with: colon" in out  # escaped in the diagnostic
    assert "%0Ahint: " in out  # the reporter's own line break, before a hint


def test_skipped_checks_are_notices_counted_per_check_and_reason() -> None:
    lines = render(SKIPPED, "github").splitlines()
    assert lines == [
        "::notice title=hv-balloon.pages-accounting skipped::not checked on captures/t0: "
        "no hv-balloon file in the capture",
        "::notice title=meminfo.total-bound skipped::not checked on captures/t1 50%25,done:x: "
        'kernel 6.1 predates what <the> rule & "needs" (6.15%25)',
        "::notice title=meminfo.total-bound skipped::not checked on captures/t0: "
        + UNKNOWN_RELEASE,
    ]
    twice = Report(SKIPPED.version, (*SKIPPED.captures, SKIPPED.captures[0]), SKIPPED.catalogue)
    assert "not checked on 2 captures, first captures/t0: no hv-balloon" in render(twice, "github")


def test_step_summary_counts_each_check_with_its_worst_severity_and_first_place() -> None:
    import io

    from conformance.diagnostics import Diagnostic, Location, Severity
    from conformance.report.model import CaptureResult, Report
    from conformance.report.summary import write_step_summary

    def finding(severity: Severity, path: str, line: int) -> Diagnostic:
        return Diagnostic("x.y", severity, "m", Location(path, line))

    captures = (
        CaptureResult("a", ("a/f",), (finding(Severity.NOTE, "a/f", 3),), ("x.y",)),
        CaptureResult("b", ("b/f",), (finding(Severity.ERROR, "b/f", 1),), ("x.y",)),
        CaptureResult("c", ("c/f|x",), (finding(Severity.WARNING, "c/f|x", 2),), ("x.y",)),
    )
    stream = io.StringIO()
    write_step_summary(Report("0", captures), stream)
    assert "| `x.y` | error | 3 | a/f:3 |\n" in stream.getvalue()
    stream = io.StringIO()
    write_step_summary(Report("0", captures[2:]), stream)
    assert "| `x.y` | warning | 1 | c/f\\|x:2 |\n" in stream.getvalue()  # a | stays in its cell
