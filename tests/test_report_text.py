"""The text reporter: compiler-style lines, hints, summary, and colour only where it belongs."""

from __future__ import annotations

import io
import re

import pytest

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.report import ReportOptions
from conformance.report.model import CaptureResult, Report
from conformance.report.options import use_color
from conformance.report.text import write_text

from .report_samples import CLEAN, MIXED, SKIPPED, UNKNOWN_RELEASE

ESC = "\x1b"


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _write(report: Report, stream: io.StringIO, **options: object) -> str:
    write_text(report, stream, ReportOptions(**options))  # type: ignore[arg-type]
    return stream.getvalue()


def _one(diagnostic: Diagnostic) -> Report:
    capture = CaptureResult("c", ("f",), (diagnostic,), (diagnostic.id,))
    return Report("0", (capture,))


def test_each_finding_is_one_located_line_with_its_hint_below() -> None:
    lines = _write(MIXED, io.StringIO(), environ={}).splitlines()
    assert lines[1] == (
        "captures/t0/proc/meminfo:3:14: warning: expected 8 spaces, found a tab [layout.whitespace]"
    )
    assert lines[2] == '  hint: the kernel pads with spaces: seq_printf("%-15s%8lu kB")'
    # no line or column: the location stops where the knowledge does
    assert lines[0].startswith("captures/t0/proc/meminfo: note: ")
    assert "hv-balloon:7: error: pages added" in lines[5]


def test_findings_are_sorted_within_each_capture_and_captures_keep_their_order() -> None:
    out = _write(MIXED, io.StringIO(), environ={})
    firsts = [line for line in out.splitlines() if ": " in line and not line.startswith(" ")]
    order = [line.split(":", 1)[0] for line in firsts[:5]]
    assert (
        order == ["captures/t0/proc/meminfo"] * 2 + ["captures/t0/sys/kernel/debug/hv-balloon"] * 3
    )
    assert out.index("hv-balloon:7:") < out.index("hv-balloon:9:1:")
    assert out.index("captures/t1 50%") < out.index("series:")


def test_summary_counts_captures_files_and_each_severity() -> None:
    assert _write(MIXED, io.StringIO(), environ={}).endswith(
        "\n\n2 captures, 4 files: 4 errors, 2 warnings, 2 notes\n"
    )
    assert _write(CLEAN, io.StringIO(), environ={}) == (
        "1 capture, 2 files: 0 errors, 0 warnings, 0 notes\n"
    )


def test_a_line_break_in_a_message_stays_on_the_findings_line() -> None:
    # a diagnostic escapes its text when it is made: no message can start a line that
    # reads as a finding of its own
    out = _write(MIXED, io.StringIO(), environ={})
    assert "unknown key 'Foo%bar'\\nsecond line, with: colon [parse.unknown-key]\n" in out


def test_control_characters_in_a_message_are_shown_not_sent() -> None:
    bad = Diagnostic("x", Severity.ERROR, "found '\x1b[2J\r'", Location("f", 1, 1), "got \x07")
    out = _write(_one(bad), FakeTTY(), color=False)
    assert ESC not in out and "\r" not in out and "\x07" not in out
    assert "found '\\x1b[2J\\r'" in out and "hint: got \\x07" in out


def test_no_colour_on_a_stream_that_is_not_a_terminal() -> None:
    assert ESC not in _write(MIXED, io.StringIO(), environ={})


def test_colour_on_a_terminal() -> None:
    out = _write(MIXED, FakeTTY(), environ={})
    assert "\x1b[1;31merror\x1b[0m" in out
    assert "\x1b[1;33mwarning\x1b[0m" in out
    assert "\x1b[1;36mnote\x1b[0m" in out
    # the summary is red when the run failed
    assert out.splitlines()[-1].startswith("\x1b[1;31m2 captures")


@pytest.mark.parametrize("value", ["1", "", "false"])
def test_no_colour_on_a_terminal_when_no_color_is_set_to_anything(value: str) -> None:
    assert ESC not in _write(MIXED, FakeTTY(), environ={"NO_COLOR": value})


def test_no_color_is_read_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert ESC not in _write(MIXED, FakeTTY())
    monkeypatch.delenv("NO_COLOR")
    assert ESC in _write(MIXED, FakeTTY())


def test_an_explicit_choice_overrides_the_terminal_test_but_not_no_color() -> None:
    assert ESC in _write(MIXED, io.StringIO(), color=True, environ={})
    assert ESC not in _write(MIXED, FakeTTY(), color=False, environ={})
    assert ESC not in _write(MIXED, FakeTTY(), color=True, environ={"NO_COLOR": "1"})


def test_colour_changes_nothing_but_the_escape_codes() -> None:
    coloured = _write(MIXED, FakeTTY(), environ={})
    plain = _write(MIXED, io.StringIO(), environ={})
    assert re.sub("\x1b\\[[0-9;]*m", "", coloured) == plain


def test_a_stream_that_cannot_answer_is_no_terminal() -> None:
    class Closed(io.StringIO):
        def isatty(self) -> bool:
            raise ValueError("I/O operation on closed file")

    class Bare:
        """A write-only object with no isatty at all."""

    assert use_color(FakeTTY(), ReportOptions(environ={})) is True
    assert use_color(Closed(), ReportOptions(environ={})) is False
    assert use_color(Bare(), ReportOptions(environ={})) is False  # type: ignore[arg-type]


def test_skipped_checks_are_counted_and_listed_with_verbose() -> None:
    quiet = _write(SKIPPED, io.StringIO(), environ={})
    assert quiet == (
        "2 captures, 2 files: 0 errors, 0 warnings, 0 notes; 3 checks skipped "
        "(--verbose lists them)\n"
    )
    verbose = _write(SKIPPED, io.StringIO(), environ={}, verbose=True).splitlines()
    assert verbose[:3] == [
        "captures/t0: skipped: no hv-balloon file in the capture [hv-balloon.pages-accounting]",
        f"captures/t0: skipped: {UNKNOWN_RELEASE} [meminfo.total-bound]",
        "captures/t1 50%,done:x: skipped: kernel 6.1 predates what <the> rule & "
        '"needs" (6.15%) [meminfo.total-bound]',
    ]
    assert verbose[3:] == [
        "",
        "2 captures, 2 files: 0 errors, 0 warnings, 0 notes; 3 checks skipped",
    ]
