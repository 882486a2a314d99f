"""hv-balloon: every kind of bad input is located; rendered instances parse back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import detect, parse
from conformance.formats import hv_balloon

GOOD = hv_balloon.render(
    {
        "host_version": {"major": 2, "minor": 0},
        "capabilities": ["enabled", "hot_add"],
        "state": {"code": 2, "name": "Balloon Up"},
        "page_size": 4096,
        "pages_added": 0,
        "pages_onlined": 0,
        "pages_ballooned": 262144,
        "total_pages_committed": 1239934,
        "max_dynamic_page_count": 268435456,
    },
    "6.0",
)


def found(text: str, layout: str = "lenient") -> list[tuple[str, int, int]]:
    result = parse(text, format="hv-balloon", layout=layout)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def test_good_text_is_clean_in_both_layouts() -> None:
    assert found(GOOD) == []
    assert found(GOOD, "exact") == []


def test_unknown_label() -> None:
    text = GOOD.replace("pages_onlined         : 0\n", "pages_onlined         : 0\nfoo: 1\n")
    assert ("parse.unknown-label", 7, 1) in found(text)


def test_duplicated_line() -> None:
    text = GOOD + "page_size             : 4096\n"
    assert found(text) == [("parse.duplicate-line", 10, 1)]


def test_missing_line_is_reported_where_it_belongs() -> None:
    text = GOOD.replace("pages_ballooned       : 262144\n", "")
    # pages_onlined is on line 6, so pages_ballooned belonged on line 7
    assert found(text) == [("parse.missing-line", 7, 1)]


def test_order() -> None:
    lines = GOOD.splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    assert found("".join(lines)) == [("parse.order", 5, 1)]


def test_bad_number_points_at_the_value() -> None:
    text = GOOD.replace(": 262144", ": 26x144")
    assert found(text) == [("parse.bad-number", 7, 25)]


def test_number_too_wide_for_u32() -> None:
    text = GOOD.replace(": 262144", ": 4294967296")
    assert ("parse.bad-number", 7, 25) in found(text)


def test_state_code_and_name_disagree() -> None:
    text = GOOD.replace("2 (Balloon Up)", "3 (Balloon Up)")
    # reported once, by the parser, at the name; the schema's oneOf is not repeated
    assert found(text) == [("hv-balloon.state-name", 3, 28)]


def test_unreadable_line() -> None:
    text = GOOD.replace("page_size             : 4096\n", "page_size 4096\n")
    diagnostics = found(text)
    assert ("parse.unreadable-line", 4, 1) in diagnostics
    assert ("parse.missing-line", 4, 1) in diagnostics


def test_page_size_is_4096() -> None:
    text = GOOD.replace(": 4096", ": 16384")
    assert found(text) == [("schema.const", 4, 25)]


def test_exact_layout_names_the_column() -> None:
    text = GOOD.replace("page_size             : 4096", "page_size : 4096")
    result = parse(text, format="hv-balloon", layout="exact")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.id, diagnostic.location.line, diagnostic.location.column) == (
        "layout.whitespace",
        4,
        11,
    )
    assert "column 11" in diagnostic.message
    assert parse(text, format="hv-balloon").instance == parse(GOOD).instance


def test_capabilities_without_tokens_take_no_space() -> None:
    text = GOOD.replace("enabled hot_add", "").replace(
        "pages_ballooned       : 262144", "pages_ballooned       : 0"
    )
    assert found(text, "exact") == [("layout.whitespace", 2, 24)]


def test_documentation_example_with_annotations() -> None:
    text = (
        "host_version : 2.0   // the protocol\n"
        "capabilities : enabled hot_add\n"
        "state : 1 (Initialized)\n"
        "page_size : 4096\n"
        "pages_added : 0\n"
        "pages_onlined : 0\n"
        "                     // a comment line alone\n"
        "pages_ballooned_out : 0\n"
        "vm_pages_commited : 795365\n"
        "total_pages_commited : 977790\n"
        "max_dynamic_page_count: 268435456\n"
    )
    result = parse(text)
    assert (result.format, result.dialect) == ("hv-balloon", "rfc")
    assert result.diagnostics == ()
    assert result.annotations == ((1, "the protocol"), (7, "a comment line alone"))


def test_upstream_labels_in_the_rfc_dialect_are_unknown() -> None:
    result = parse(GOOD, format="hv-balloon", dialect="rfc")
    ids = {d.id for d in result.diagnostics}
    assert {"parse.unknown-label", "parse.missing-line"} <= ids


u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)


@st.composite
def instances(draw: Any, dialect: str) -> dict[str, Any]:
    version = draw(st.sampled_from([(2, 0), (1, 0), (0, 3)]))
    code = draw(st.integers(0, 5))
    instance: dict[str, Any] = {
        "host_version": {"major": version[0], "minor": version[1]},
        "capabilities": draw(
            st.sampled_from([[], ["enabled"], ["hot_add"], ["enabled", "hot_add"]])
        ),
        "state": {"code": code, "name": hv_balloon.STATES[code]},
        "page_size": 4096,
    }
    for label in hv_balloon.LABELS[dialect][4:]:
        instance[label] = draw(u32 if label in hv_balloon._BITS else u64)
    return instance


@given(st.sampled_from(["6.0", "rfc"]).flatmap(lambda d: st.tuples(st.just(d), instances(d))))
def test_rendered_instances_parse_back(case: tuple[str, dict[str, Any]]) -> None:
    dialect, instance = case
    result = parse(
        hv_balloon.render(instance, dialect), format="hv-balloon", layout="exact", validate=False
    )
    assert result.dialect == dialect
    assert result.instance == instance
    assert result.diagnostics == ()


def test_detection_tolerates_a_damaged_line() -> None:
    damaged = GOOD.replace("host_version          : 2.0", "host_versi0n: 2.0")
    assert detect(damaged) == (hv_balloon.SPEC, "6.0")
    assert ("parse.unknown-label", 1, 1) in found(damaged)
    assert hv_balloon.detect("state: 1 (Initialized)\nfoo: 1\nbar: 2\nbaz: 3\n") is None
