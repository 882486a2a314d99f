"""The line reader and number parsing every parser shares."""

from __future__ import annotations

import pytest

from conformance import parse
from conformance.model import Layout
from conformance.text import ODD_SPACES, ParseBuilder, first_difference, parse_int, split_lines


def read(
    data: str | bytes, layout: Layout = Layout.EXACT
) -> tuple[list[str], list[tuple[str, int, int]]]:
    builder = ParseBuilder("test", layout)
    lines = split_lines(data, builder)
    return [line.text for line in lines], [
        (d.id, d.location.line, d.location.column) for d in builder.diagnostics
    ]


def test_plain_text() -> None:
    assert read("a: 1\nb: 2\n") == (["a: 1", "b: 2"], [])


def test_missing_final_newline_is_a_layout_finding_in_exact_mode_only() -> None:
    assert read("a: 1\nb: 22") == (["a: 1", "b: 22"], [("layout.trailing-newline", 2, 6)])
    assert read("a: 1\nb: 22", Layout.LENIENT) == (["a: 1", "b: 22"], [])


def test_crlf_is_reported_once() -> None:
    assert read("a: 1\r\nb: 2\r\n") == (["a: 1", "b: 2"], [("layout.line-ending", 1, 5)])
    assert read("a: 1\r\nb: 2\r\n", Layout.LENIENT)[1] == []


def test_byte_order_mark() -> None:
    assert read("\ufeffa: 1\n") == (["a: 1"], [("text.bom", 1, 1)])
    assert read(b"\xef\xbb\xbfa: 1\n") == (["a: 1"], [("text.bom", 1, 1)])


def test_nul_byte_is_located() -> None:
    assert read("a: 1\nb:\0 2\n")[1] == [("text.nul", 2, 3)]


def test_invalid_utf8_is_located_and_replaced() -> None:
    lines, found = read(b"a: 1\nbb: \xff2\n")
    assert found == [("text.invalid-utf8", 2, 5)]
    assert lines == ["a: 1", "bb: \ufffd2"]


def test_empty_input() -> None:
    assert read("") == ([], [("text.empty", 1, 1)])
    assert read(" \n\n") == ([], [("text.empty", 1, 1)])


def test_annotations_are_taken_off() -> None:
    builder = ParseBuilder("test", Layout.LENIENT)
    lines = split_lines("a : 1   // one\n      // more\nb : 2\n", builder)
    assert [(line.number, line.text) for line in lines] == [(1, "a : 1"), (3, "b : 2")]
    assert builder.annotations == [(1, "one"), (2, "more")]
    assert builder.diagnostics == []


def test_annotations_kept_when_not_wanted() -> None:
    builder = ParseBuilder("test", Layout.LENIENT)
    lines = split_lines("see https://example.org\n", builder, annotations=False)
    assert lines[0].text == "see https://example.org"


@pytest.mark.parametrize(
    ("digits", "bits", "signed", "value"),
    [
        ("0", 64, False, 0),
        ("18446744073709551615", 64, False, 2**64 - 1),
        ("18446744073709551616", 64, False, None),
        ("4294967296", 32, False, None),
        ("-1", 64, False, None),
        ("-1", 64, True, -1),
        ("-9223372036854775808", 64, True, -(2**63)),
        ("9223372036854775808", 64, True, None),
        ("", 64, False, None),
        ("1_000", 64, False, None),
        ("+1", 64, False, None),
        ("\u0661", 64, False, None),  # an Arabic-Indic digit: isdigit() but not ASCII
        ("9" * 5000, 64, False, None),  # refused before int() sees it
    ],
)
def test_parse_int(digits: str, bits: int, signed: bool, value: int | None) -> None:
    assert parse_int(digits, bits, signed) == value


def test_first_difference() -> None:
    assert first_difference("abc", "abd") == 2
    assert first_difference("ab", "abc") == 2
    assert first_difference("abc", "abc") == 3


def test_a_lazy_source_map_is_made_once_when_first_read_and_pickles_as_a_dict() -> None:
    import pickle

    from conformance.text import LazySourceMap

    made: list[str] = []

    def make(text: str) -> dict[str, tuple[int, int]]:
        made.append(text)
        return {"/a": (1, 2), "/b": (2, 3)}

    lazy = LazySourceMap(make, "a 1\nb 2\n")
    assert made == []
    assert lazy["/b"] == (2, 3) and "/a" in lazy and len(lazy) == 2
    plain = {"/a": (1, 2), "/b": (2, 3)}
    assert lazy == plain
    assert plain.__eq__(lazy) is NotImplemented  # so Python asks the lazy map, which agrees
    assert made == ["a 1\nb 2\n"]
    copy = pickle.loads(pickle.dumps(lazy))
    assert type(copy) is dict and copy == dict(lazy)
    assert made == ["a 1\nb 2\n"]


@pytest.mark.parametrize("blank", sorted(ODD_SPACES))
def test_a_blank_the_kernel_never_prints_is_said_in_either_layout(blank: str) -> None:
    """The lenient layout reads any run of blanks, as ``str.split`` does; one that is
    not a space or a tab is read all the same, and said."""
    data = f"MemTotal:{blank}   2760316 kB\nMemFree:  \t 2 kB\n"
    for layout in Layout:
        result = parse(data, format="meminfo", layout=layout, validate=False)
        assert result.instance == {"MemTotal": 2760316, "MemFree": 2}
        odd = [
            (d.location.line, d.location.column)
            for d in result.diagnostics
            if d.id == "text.odd-space"
        ]
        assert odd == [(1, 10)], (layout, result.diagnostics)
