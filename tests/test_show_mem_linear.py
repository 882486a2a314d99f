"""A show_mem() dump with very long lines is read in time linear in the lines (issue 13).

Free-list, node, zone, global, lowmem_reserve[] and RFC lines hold a value every few
characters, and every value is mapped at its column in the original log line. That
column was worked out from a fresh copy of the line (the line less its log prefix, then
less its leading spaces), so a line of n characters cost some n/5 copies of itself: a
1 MB free list took 19 s to read, 2 MB 63 s. The copies are made in C, so the count of
function calls that :mod:`tests.test_linear` compares stays linear, and the CPU time
crosses its bound only at megabytes. Here the copies are counted exactly instead: the
log lines are a ``str`` subclass that counts the characters sliced or stripped out of it.
No test here reads a clock.
"""

from __future__ import annotations

from typing import Any, Callable, SupportsIndex

import pytest

from conformance import parse
from conformance.formats import show_mem
from conformance.formats import show_mem_render as t
from conformance.formats.show_mem_lines import split_prefix
from conformance.formats.show_mem_reader import DumpReader
from conformance.model import Layout
from conformance.text import ParseBuilder

from .test_linear import N, calls, traced

PREFIX = "[    1.000000] "

LONG_LINES: dict[str, Callable[[int], tuple[str, ...]]] = {
    "free-area": lambda n: ("Node 0 DMA: " + "1*4kB (U) " * (n // 10) + f"= {4 * (n // 10)}kB",),
    "node": lambda n: ("Node 0" + "".join(f" k{i}:{i}kB" for i in range(n // 12)),),
    "zone": lambda n: (
        "Node 0 DMA free:1kB" + "".join(f" k{i}:{i}kB" for i in range(n // 12)),
        "lowmem_reserve[]: 0",
    ),
    "lowmem_reserve": lambda n: (
        "Node 0 DMA free:1kB min:1kB",
        "lowmem_reserve[]:" + " 0" * (n // 2),
    ),
    "global": lambda n: ("active_anon:1" + "".join(f" k{i}:{i}" for i in range(n // 9)),),
    "rfc": lambda n: ("Balloon" + " InflatedTotal:1kB" * (n // 18),),
}
"""The long line (and the line a zone needs after it) of each kind, about ``n``
characters: each is read value by value, every value mapped at its column."""


def dump_lines(kinds: list[str], n: int) -> list[str]:
    """A logged dump with a line of about ``n`` characters of each of ``kinds``."""
    lines = ["Mem-Info:"]
    if "global" not in kinds:
        lines.append("active_anon:1 inactive_anon:2 isolated_anon:0")
    for kind in sorted(kinds, key=["global", *LONG_LINES].index):
        lines += LONG_LINES[kind](n)
    return [PREFIX + line for line in lines]


def dump(kinds: list[str], n: int) -> str:
    return "".join(line + "\n" for line in dump_lines(kinds, n))


class CountedLine(str):
    """A log line that counts the characters sliced or stripped out of it."""

    copied = 0

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        return self._count(str.__getitem__(self, key))

    def strip(self, chars: str | None = None) -> str:
        return self._count(str.strip(self, chars))

    def lstrip(self, chars: str | None = None) -> str:
        return self._count(str.lstrip(self, chars))

    def rstrip(self, chars: str | None = None) -> str:
        return self._count(str.rstrip(self, chars))

    def split(self, sep: str | None = None, maxsplit: SupportsIndex = -1) -> list[str]:
        parts = str.split(self, sep, maxsplit)
        CountedLine.copied += sum(map(len, parts))
        return parts

    @staticmethod
    def _count(part: str) -> str:
        CountedLine.copied += len(part)
        return part


def copied_by_reader(lines: list[str]) -> tuple[int, Any]:
    """Characters copied out of the log lines while show-mem's reader reads them, and the
    dumps it made (what show_mem.parse does after detection)."""
    builder = ParseBuilder("show-mem", Layout.EXACT)
    reader = DumpReader(builder, show_mem.detect("\n".join(lines)) or "2.6")
    CountedLine.copied = 0
    for number, text in enumerate(lines, start=1):
        reader.feed(split_prefix(number, CountedLine(text)))
    dumps = reader.finish()  # the global block is read here, when the dump closes
    return CountedLine.copied, dumps


@pytest.mark.parametrize("kind", sorted(LONG_LINES))
def test_a_long_line_of_each_kind_is_copied_a_bounded_number_of_times(kind: str) -> None:
    for size in (10_000, 40_000):
        lines = dump_lines([kind], size)
        copied, dumps = copied_by_reader(lines)
        assert dumps == parse(dump([kind], size), format="show-mem").instance["dumps"]
        # a few copies of each line (its content, a layout comparison), not one per value
        assert copied <= 3 * sum(map(len, lines)), f"{kind}: {copied} characters copied"


def test_the_long_lines_are_read_value_by_value() -> None:
    # what the counts cover: every value of the long line, each mapped in the source map
    result = parse(dump(["free-area"], 1_000), format="show-mem", layout=Layout.EXACT)
    area = result.instance["dumps"][0]["free_areas"][0]
    assert len(area["blocks"]) == 100
    assert area["total_kb"] == 400
    column = len(PREFIX) + len("Node 0 DMA: ") + 10 * 99 + 1
    assert result.source_map["/dumps/0/free_areas/0/blocks/99/count"] == (3, column)
    assert not [d for d in result.diagnostics if d.location.line == 3]  # read cleanly


def test_a_dump_of_long_lines_of_every_kind_costs_linear_function_calls() -> None:
    # the Python-level steps (a value read, a value rendered) at twice the length
    kinds = sorted(LONG_LINES)

    def reader(text: str) -> object:
        return parse(text, format="show-mem", layout=Layout.EXACT, validate=False)

    reader(dump(kinds, 1_000))  # compiled patterns and caches, before anything is counted
    base, counted = (calls(reader, dump(kinds, size)) for size in (N, 2 * N))
    assert counted <= 2.5 * base + 100, f"x2: {counted / base:.1f}x the calls"


def test_a_kernel_line_is_rendered_once_for_all_the_input_lines_it_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # keys no kernel prints start no line of the kernel's: all 2,000 input lines below
    # fall in its first one, which was rendered anew for each (quadratic in the lines)
    rendered: list[tuple[Any, ...]] = []
    render = t.render_global_line

    def counted(*args: Any) -> str:
        rendered.append(args)
        return render(*args)

    monkeypatch.setattr(t, "render_global_line", counted)
    lines = ["Mem-Info:", "active_anon:1", *(f" k{i}:{i}" for i in range(2_000))]
    result = parse(
        "".join(PREFIX + line + "\n" for line in lines), format="show-mem", layout=Layout.EXACT
    )
    assert len(result.instance["dumps"][0]["global"]) == 2_001
    assert len(rendered) == 1


def test_a_column_costs_no_copy_of_the_line() -> None:
    line = split_prefix(3, PREFIX + "Node 0 DMA: " + "1*4kB (U) " * 100_000)
    with traced() as peak:
        columns = [line.column(index) for index in range(0, 10_000, 10)]
    assert peak[0] < len(line.text) // 10, peak  # a copy would be the line's size
    assert columns[:2] == [len(PREFIX) + 1, len(PREFIX) + 11]


@pytest.mark.parametrize(
    "text",
    [
        "[    1.000000] Mem-Info:",
        "[    1.000000]   active_file:0 inactive_file:0  ",
        "[    1.000000] ",
        "[    1.000000]    ",
        "  Mem-Info: ",
        "",
        "\t x \t",
        "<4>[    1.000000][   T77]  free:1",
    ],
)
def test_content_and_columns_are_those_of_the_line_less_prefix_and_spaces(text: str) -> None:
    line = split_prefix(1, text)
    assert text.startswith(line.prefix)
    body = text[len(line.prefix) :]
    assert line.content == body.strip()
    lead = len(line.prefix) + len(body) - len(body.lstrip())
    assert [line.column(i) for i in range(3)] == [lead + 1, lead + 2, lead + 3]
    assert text[line.column(0) - 1 :].startswith(line.content)


@pytest.mark.parametrize("lines", [200, 800])
def test_a_kernel_line_spread_over_many_input_lines_is_compared_once(
    monkeypatch: pytest.MonkeyPatch, lines: int
) -> None:
    """One global line of the kernel continued over many input lines (keys no kernel
    prints never start a line of their own): the whole kernel line is compared with the
    first of them only, and each other one is said to belong above. Compared with every
    one of them, a dump of thousands of such lines cost their number times the ever
    longer line (489 KB took 32 s)."""
    looked_at: list[int] = []
    real = ParseBuilder.layout

    def layout(builder: ParseBuilder, line: Any, expected: str) -> None:
        looked_at.append(len(expected))
        real(builder, line, expected)

    monkeypatch.setattr(ParseBuilder, "layout", layout)
    text = PREFIX + "Mem-Info:\n" + PREFIX + "active_anon:1\n"
    text += "".join(f"{PREFIX} k{i}:{i}\n" for i in range(lines))
    result = parse(text, format="show-mem", layout=Layout.EXACT, validate=False)
    assert sum(looked_at) <= 2 * len(text)  # linear: each character compared about once
    continued = [d for d in result.diagnostics if "on the line above" in d.message]
    assert continued and continued[0].id == "layout.text" and continued[0].location.line == 3
