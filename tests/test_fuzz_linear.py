"""Property: no run of the characters the parsers' patterns care about makes them raise or
work more than linearly (issue 13).

Hypothesis builds a line start (one of the formats' own) and a short unit made of spaces,
tabs, colons, slashes, digits, ``kB``, parentheses, ``=``, ``*`` and newlines, repeats
the unit to about n and 8n characters, and parses both texts. Parsing never raises; the
function calls at 8n stay within a linear bound of those at n (an exact count), and so
does the CPU time, as a ratio measured in this run with three times the linear headroom.
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import DetectionError, detect, format_ids, parse
from conformance.model import Layout

from .test_linear import PREFIXES, SLACK, calls, cpu

N = 2_000
SCALE = 8
PIECES = [" ", "\t", ":", "/", "//", "1", "9", "kB", "(", ")", "=", "*", "\n", "x", "min"]

FORMATS = st.sampled_from([*format_ids(), None])
STARTS = st.sampled_from(sorted({prefix for prefixes in PREFIXES.values() for prefix in prefixes}))
UNITS = st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)


def work_for(format_id: str | None, layout: Layout) -> object:
    def work(text: str) -> object:
        if format_id is None:
            with contextlib.suppress(DetectionError):
                return detect(text)
            return None
        return parse(text, format=format_id, layout=layout, validate=False)

    return work


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(FORMATS, st.sampled_from(list(Layout)), STARTS, UNITS, st.sampled_from(["", "/x//", "\n"]))
def test_hostile_runs_are_read_in_linear_time(
    format_id: str | None, layout: Layout, start: str, unit: str, end: str
) -> None:
    work = work_for(format_id, layout)

    def text(size: int) -> str:
        return start + unit * (size // len(unit)) + end

    small, large = text(N), text(N * SCALE)
    work(small)  # never raises; and warms the caches before counting
    base_calls, counted = calls(work, small), calls(work, large)
    assert counted <= SCALE * base_calls * 1.25 + 100, (counted, base_calls)
    ratio = cpu(work, large) / cpu(work, small)
    if ratio > SLACK * SCALE:  # measured once more: a busy machine
        ratio = min(ratio, cpu(work, large) / cpu(work, small))
    assert ratio <= SLACK * SCALE, f"{ratio:.1f} times the time for {SCALE} times the text"
