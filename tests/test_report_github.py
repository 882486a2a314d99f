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
    assert "| `x.y` | error | 3 | a\\/f\\:3 |\n" in stream.getvalue()
    stream = io.StringIO()
    write_step_summary(Report("0", captures[2:]), stream)
    assert "| `x.y` | warning | 1 | c\\/f\\|x\\:2 |\n" in stream.getvalue()  # | stays in its cell


# names a capture may have, each of which Markdown would otherwise read as something else
HOSTILE = (
    "x[link](https://evil.example)",
    "![x](https://evil.example/i.png)",
    "[ref]: https://evil.example",
    "<https://evil.example>",
    "https://evil.example/bare www.evil.example user@evil.example",
    "a`code`b ``two``",
    "pipe|in|the|table",
    "# heading",
    "> quote",
    "- item",
    "1. item",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "*em* _em_ **strong** __strong__ ~~gone~~",
    "&lt;not a tag&gt; &#x41; &amp;",
    "$x^2$ and trailing backslash \\",
    "---",
)
PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _hostile_summary() -> str:
    import io

    from conformance.report.model import CaptureResult, Skip
    from conformance.report.summary import write_step_summary

    captures = tuple(
        CaptureResult(
            name,
            (f"{name}/proc/meminfo",),
            (Diagnostic(f"r.n{i:02d}", Severity.ERROR, "m", Location(f"{name}/proc/meminfo", 3)),),
            (f"r.n{i:02d}",),
            (Skip(f"s.n{i:02d}", f"no release in {name}"),),
        )
        for i, name in enumerate(HOSTILE)
    )
    stream = io.StringIO()
    write_step_summary(Report("0", captures), stream)
    return stream.getvalue()


def _cells(row: str) -> list[str]:
    """A GitHub table row's cells: it splits at each ``|`` that is not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _literal(markdown: str) -> str:
    """What CommonMark shows for text of escaped punctuation, after checking that no
    punctuation character in it is left unescaped."""
    shown = []
    escaped = False
    for char in markdown:
        if escaped:
            shown.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            assert char not in PUNCTUATION, (char, markdown)
            shown.append(char)
    assert not escaped, markdown
    return "".join(shown)


def test_step_summary_shows_every_name_and_reason_as_it_is() -> None:
    """Before, a capture named x[link](https://evil.example) was a link in the summary,
    ![x](...) an image, *em* emphasis, and a backtick opened a code span."""
    lines = _hostile_summary().splitlines()
    rows = [line for line in lines if line.startswith("| `r.n")]
    assert [_cells(row)[0] for row in rows] == [f"`r.n{i:02d}`" for i in range(len(HOSTILE))]
    assert all(len(_cells(row)) == 4 for row in rows)
    assert [_literal(_cells(row)[3]) for row in rows] == [
        f"{name}/proc/meminfo:3" for name in HOSTILE
    ]
    items = [line for line in lines if line.startswith("- `s.n")]
    assert [_literal(item.split(": ", 1)[1]) for item in items] == [
        f"no release in {name}" for name in HOSTILE
    ]


def _render_cmarkgfm(markdown: str) -> str:
    """The summary as GitHub shows it: cmark-gfm, GitHub's own renderer (the test
    extra installs it)."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    # raw HTML let through, as the strictest test: none may come from a capture's name
    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def test_step_summary_renders_hostile_names_as_text() -> None:
    """Rendered as GitHub renders a job summary (cmark-gfm): no element comes from a name
    (no link, image, emphasis, heading, quote, list, code span or HTML), and each is shown
    as it is."""
    bs4 = pytest.importorskip("bs4")
    page = bs4.BeautifulSoup(_render_cmarkgfm(_hostile_summary()), "html.parser")
    # cmark-gfm finds e-mail addresses in the text once escapes are undone, so no escape
    # stops them: one stays a mailto: link that shows that very address
    assert all(a["href"] == f"mailto:{a.get_text()}" for a in page.find_all("a"))
    made = {tag.name for tag in page.find_all(True)} - {"a"}
    assert made <= {"h2", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "ul", "li"}
    assert [h.get_text() for h in page.find_all("h2")] == ["balloon-conform check failed"]
    assert [c.get_text() for c in page.find_all("code")] == [
        *(f"r.n{i:02d}" for i in range(len(HOSTILE))),
        *(f"s.n{i:02d}" for i in range(len(HOSTILE))),
    ]
    cells = [row.find_all("td") for row in page.find_all("tr")[1:]]
    assert [row[3].get_text() for row in cells] == [f"{name}/proc/meminfo:3" for name in HOSTILE]
    items = [li.get_text().split(": ", 1)[1] for li in page.find_all("li")]
    assert items == [f"no release in {name}" for name in HOSTILE]
