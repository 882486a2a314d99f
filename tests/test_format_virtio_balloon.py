"""virtio-balloon (Virtuozzo debugfs): bad input is located; rendered instances parse back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import detect, format_for_path, parse
from conformance.formats import virtio_balloon

GOOD = "InflatedTotal: 0 kB\nInflatedFree: 524288 kB\n"


def found(text: str | bytes, layout: str = "lenient") -> list[tuple[str, int, int]]:
    result = parse(text, format="virtio-balloon", layout=layout)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def test_good_text_is_clean_in_both_layouts() -> None:
    assert found(GOOD) == []
    assert found(GOOD, "exact") == []
    result = parse(GOOD, format="virtio-balloon")
    assert (result.dialect, result.instance) == (
        "rfc",
        {"InflatedTotal": 0, "InflatedFree": 524288},
    )


def test_both_non_zero_is_reported_at_the_second_value() -> None:
    result = parse("InflatedTotal: 4 kB\nInflatedFree: 8 kB\n", format="virtio-balloon")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.id, diagnostic.location.line, diagnostic.location.column) == (
        "rfc.inflated-exclusive",
        2,
        15,
    )
    assert "never both non-zero" in diagnostic.message


def test_negative_value_is_read_and_refused_by_the_schema() -> None:
    result = parse("InflatedTotal: -4 kB\nInflatedFree: 0 kB\n", format="virtio-balloon")
    assert result.instance["InflatedTotal"] == -4
    assert [(d.id, d.location.line, d.location.column) for d in result.diagnostics] == [
        ("schema.minimum", 1, 16)
    ]
    assert "never negative" in result.diagnostics[0].message


def test_value_beyond_signed_long() -> None:
    # what %lu of a negative long would print
    text = "InflatedTotal: 18446744073709551612 kB\nInflatedFree: 0 kB\n"
    assert found(text) == [("parse.bad-number", 1, 16)]


def test_missing_label() -> None:
    assert found("InflatedTotal: 0 kB\n") == [("parse.missing-line", 2, 1)]
    assert found("InflatedFree: 0 kB\n") == [("parse.missing-line", 1, 1)]


def test_unknown_label() -> None:
    assert found(GOOD + "MemTotal: 1024 kB\n") == [("parse.unknown-label", 3, 1)]


def test_order() -> None:
    assert found("InflatedFree: 0 kB\nInflatedTotal: 0 kB\n") == [("parse.order", 2, 1)]


def test_duplicate() -> None:
    assert found(GOOD + "InflatedFree: 0 kB\n") == [("parse.duplicate-line", 3, 1)]


def test_value_without_unit() -> None:
    assert found("InflatedTotal: 0\nInflatedFree: 0 kB\n") == [("parse.bad-value", 1, 16)]


def test_bad_number() -> None:
    assert found("InflatedTotal: 1x2 kB\nInflatedFree: 0 kB\n") == [("parse.bad-number", 1, 16)]


def test_unreadable_line() -> None:
    assert ("parse.unreadable-line", 2, 1) in found("InflatedTotal: 0 kB\nInflatedFree 0 kB\n")


def test_spacing_is_lenient_only() -> None:
    text = "InflatedTotal:   0 kB\nInflatedFree:\t0 kB\n"
    assert found(text) == []
    assert found(text, "exact") == [("layout.whitespace", 1, 16), ("layout.whitespace", 2, 14)]


def test_unit_glued_to_the_number_is_a_layout_finding() -> None:
    text = "InflatedTotal: 0kB\nInflatedFree: 0 kB\n"
    assert found(text) == []
    assert found(text, "exact") == [("layout.whitespace", 1, 17)]


def test_detection() -> None:
    assert virtio_balloon.detect(GOOD) == "rfc"
    spec, dialect = detect(GOOD)
    assert (spec.id, dialect) == ("virtio-balloon", "rfc")


@pytest.mark.parametrize(
    "text",
    [
        "MemTotal:       16384000 kB\nInflatedTotal:         0 kB\nInflatedFree:          0 kB\n",
        "Balloon InflatedTotal:0kB InflatedFree:0kB\n",
        "InflatedTotal: 0 kB\n",
        GOOD + "junk\n",
        "0110000000000000000000000000110010000000000000000000000000000000\n",
        "host_version          : 2.0\npage_size             : 4096\n",
    ],
)
def test_detection_leaves_other_text_alone(text: str) -> None:
    assert virtio_balloon.detect(text) is None


def test_guest_path() -> None:
    spec = format_for_path("/sys/kernel/debug/virtio-balloon")
    assert spec is not None and spec.id == "virtio-balloon"


kb = st.integers(0, 2**63 - 1)


@st.composite
def instances(draw: Any) -> dict[str, int]:
    value = draw(kb)
    if draw(st.booleans()):
        return {"InflatedTotal": value, "InflatedFree": 0}
    return {"InflatedTotal": 0, "InflatedFree": value}


@given(instances())
def test_rendered_instances_parse_back(instance: dict[str, int]) -> None:
    text = virtio_balloon.render(instance, "rfc")
    result = parse(text, format="virtio-balloon", layout="exact")
    assert result.dialect == "rfc"
    assert result.instance == instance
    assert result.diagnostics == ()


@given(st.one_of(st.text(), st.binary()), st.booleans())
def test_random_input_never_raises(data: str | bytes, exact: bool) -> None:
    parse(data, format="virtio-balloon", layout="exact" if exact else "lenient")
