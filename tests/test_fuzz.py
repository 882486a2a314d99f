"""No input makes a parser raise: random bytes, random text, and mutated real samples.

Each parser is tried with and without the exact layout; whatever the input, the result
is a ParseResult whose diagnostics are located on a line of the input.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import DetectionError, detect, format_ids, parse

from .golden import samples

FORMATS = st.sampled_from(format_ids())
LAYOUTS = st.sampled_from(["exact", "lenient"])
SAMPLES = [p.read_bytes() for p in samples()]
ALPHABET = st.sampled_from(list(" \t\n:()0123456789abxkBT_-/[].=*\r\0\ufeff\xff"))


def _check(data: bytes | str, format_id: str, layout: str) -> None:
    result = parse(data, format=format_id, layout=layout)
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    lines = max(text.count("\n") + 1, 1)
    for diagnostic in result.diagnostics:
        assert 0 <= diagnostic.location.line <= lines + 1, diagnostic
    with contextlib.suppress(DetectionError):
        detect(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), FORMATS, LAYOUTS)
def test_random_bytes(data: bytes, format_id: str, layout: str) -> None:
    _check(data, format_id, layout)


@settings(max_examples=300)
@given(st.text(ALPHABET, max_size=2000), FORMATS, LAYOUTS)
def test_random_text_from_the_formats_alphabet(text: str, format_id: str, layout: str) -> None:
    _check(text, format_id, layout)


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "duplicate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=30))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 60))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples(), FORMATS, LAYOUTS)
def test_mutated_samples(data: bytes, format_id: str, layout: str) -> None:
    _check(data, format_id, layout)


def test_huge_number_and_long_line_are_bounded() -> None:
    for format_id in format_ids():
        result = parse("x" * 200_000 + ": " + "9" * 50_000 + "\n", format=format_id)
        assert result.diagnostics


def test_every_format_has_seeds_for_mutation() -> None:
    assert {p.parent.name for p in samples()} == set(format_ids())
