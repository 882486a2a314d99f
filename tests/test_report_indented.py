"""The reporters' JSON writer writes exactly what ``json.dumps(indent=2)`` writes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.report import indented

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),  # lone surrogates, controls, bidirectional overrides included
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
)


def expected(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@given(VALUES)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert indented.dumps(value) == expected(value)


def test_a_capture_object() -> None:
    value = {
        "name": "guest\x1b[31m\u202e\udc80",
        "files": ["a/proc/meminfo", "a/proc/vmstat"],
        "rules": [],
        "errors": 0,
        "failed": True,
        "diagnostics": [{"id": "x.y", "line": 3, "hint": None, "nested": {"": [[], {}]}}],
        "skipped": {},
    }
    assert indented.dumps(value) == expected(value)


def test_what_it_does_not_know_is_left_to_json_dumps() -> None:
    for value in ({1: "int key"}, {"nan": float("nan")}, [True, 1.5, {None: 2}]):
        assert indented.dumps(value) == expected(value)


@given(st.lists(st.text(), min_size=1, max_size=6), st.text(max_size=4))
def test_lists_of_strings_nested_or_not(strings: list[str], key: str) -> None:
    for value in (strings, tuple(strings), {key: strings}, [strings, [strings]]):
        assert indented.dumps(value) == expected(value)


@given(VALUES, st.integers(min_value=0, max_value=3))
def test_a_written_part_stands_where_its_value_would(value: Any, depth: int) -> None:
    """A part written once (:class:`indented.Written`) and set in a document at any depth
    gives the text of the document with the value itself there."""
    document: Any = value
    written: Any = indented.Written(indented.dumps(value))
    for _ in range(depth):
        document, written = {"a": [1, document]}, {"a": [1, written]}
    assert indented.dumps(written) == expected(document)


def test_a_written_part_beside_a_value_left_to_json_dumps() -> None:
    # a float sends the whole document to json.dumps, which must not see the part as text
    written = indented.Written(indented.dumps({"rule": "a.b", "reason": "why"}))
    assert indented.dumps({"x": 1.5, "skipped": [written]}) == expected(
        {"x": 1.5, "skipped": [{"rule": "a.b", "reason": "why"}]}
    )
