"""meminfo: every kind of bad input is located; dialects are told apart; instances of every
dialect and label width render and parse back unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conformance import Layout, detect, parse
from conformance.formats import meminfo
from conformance.formats._meminfo_layout import INFLATED, KNOWN, KNOWN_FIELDS, OLD_WIDTH, ROWS

DATA = Path(__file__).parent / "data"

MODERN = {
    "MemTotal": 24684084,
    "MemFree": 24139940,
    "Buffers": 6368,
    "Cached": 379648,
    "SwapCached": 0,
    "Active": 124972,
    "Inactive": 259680,
    "SwapTotal": 0,
    "SwapFree": 0,
    "Dirty": 33664,
    "Writeback": 0,
    "Mapped": 10940,
    "Slab": 63280,
    "KernelStack": 1396,
    "PageTables": 1544,
    "CommitLimit": 12342040,
    "Committed_AS": 59928,
    "VmallocTotal": 34359738367,
    "VmallocUsed": 14172,
    "VmallocChunk": 0,
    "HardwareCorrupted": 0,
    "Balloon": 1048576,
    "HugePages_Total": 0,
    "Hugepagesize": 2048,
}
GOOD = meminfo.render(MODERN, "2.6")
LINE = {key: number for number, key in enumerate(MODERN, start=1)}


def found(text: str, layout: str = "lenient", **kw: Any) -> list[tuple[str, int, int]]:
    result = parse(text, format="meminfo", layout=layout, **kw)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def with_rfc(total: str = "2097152", free: str = "0") -> str:
    lines = GOOD.splitlines(keepends=True)
    at = LINE["HugePages_Total"] - 1
    pair = [f"InflatedTotal:  {total:>8} kB\n", f"InflatedFree:   {free:>8} kB\n"]
    return "".join(lines[:at] + pair + lines[at:])


def test_good_text_is_clean_in_both_layouts() -> None:
    assert GOOD.startswith("MemTotal:       24684084 kB\nMemFree:        24139940 kB\n")
    assert "HugePages_Total:       0\n" in GOOD
    assert "HardwareCorrupted:     0 kB\n" in GOOD
    assert found(GOOD) == []
    assert found(GOOD, "exact") == []
    assert parse(GOOD).instance == MODERN


# -- bad input ------------------------------------------------------------------
def test_bad_number_points_at_the_value() -> None:
    text = GOOD.replace("24139940", "2413x940")
    assert found(text) == [("parse.bad-number", 2, 17)]


def test_number_with_thousands_of_digits() -> None:
    text = GOOD.replace("24139940", "9" * 5000)
    assert found(text) == [("parse.bad-number", 2, 17)]


def test_number_too_wide_for_an_unsigned_long() -> None:
    text = GOOD.replace("     24139940", str(2**64))
    assert found(text) == [("parse.bad-number", 2, 12)]


def test_negative_number_outside_the_rfc_lines() -> None:
    assert found(GOOD.replace("    6368", "   -6368")) == [("parse.bad-number", 3, 20)]


def test_duplicated_key() -> None:
    text = GOOD + "MemFree:               1 kB\n"
    assert found(text) == [("parse.duplicate-line", len(MODERN) + 1, 1)]
    assert parse(text).instance["MemFree"] == 24139940


def test_missing_memtotal() -> None:
    text = GOOD.split("\n", 1)[1]
    assert meminfo.detect(text) == "2.6"  # every other line is a meminfo line
    result = parse(text, format="meminfo")
    assert [(d.id, d.location.line, d.location.column) for d in result.diagnostics] == [
        ("schema.required", 1, 1)
    ]
    assert "'MemTotal' is a required property" in result.diagnostics[0].message


def test_line_without_colon() -> None:
    text = GOOD.replace("Buffers:            6368 kB", "Buffers             6368 kB")
    assert ("parse.unreadable-line", 3, 1) in found(text)


def test_key_with_characters_the_kernel_never_prints() -> None:
    text = GOOD + "Mem Free:       1 kB\n"
    assert found(text) == [("parse.unreadable-line", len(MODERN) + 1, 1)]


def test_line_without_a_value() -> None:
    text = GOOD.replace("Buffers:            6368 kB", "Buffers:")
    assert found(text) == [("parse.bad-value", 3, 9)]


def test_text_after_the_value() -> None:
    text = GOOD.replace("Buffers:            6368 kB", "Buffers:            6368 MB")
    assert found(text) == [("parse.bad-value", 3, 26)]


def test_unit_where_the_kernel_prints_none_and_the_reverse() -> None:
    text = GOOD.replace("HugePages_Total:       0", "HugePages_Total:       0 kB")
    assert found(text) == [("meminfo.unit", LINE["HugePages_Total"], 26)]
    text = GOOD.replace("Hugepagesize:       2048 kB", "Hugepagesize:       2048")
    assert found(text) == [("meminfo.unit", LINE["Hugepagesize"], 25)]


def test_unknown_field_is_kept_with_a_note() -> None:
    text = GOOD + "Quicklists:            0 kB\nSomeCount:             7\n"
    result = parse(text, layout="exact")
    ids = [(d.id, d.severity.value, d.location.line) for d in result.diagnostics]
    end = len(MODERN)
    assert ids == [
        ("meminfo.unknown-field", "note", end + 1),
        ("meminfo.unknown-field", "note", end + 2),
    ]
    assert result.instance["Quicklists"] == 0
    assert result.instance["SomeCount"] == 7


def test_only_one_inflated_line() -> None:
    text = with_rfc().replace("InflatedFree:          0 kB\n", "")
    assert meminfo.detect(text) == "rfc"
    # reported once, by the parser, at the line present; the schema's 'required' is not repeated
    assert found(text) == [("meminfo.inflated-pair", LINE["HugePages_Total"], 1)]


def test_both_inflated_values_non_zero_is_a_schema_error() -> None:
    text = with_rfc(free="1048576")
    result = parse(text)
    (diagnostic,) = result.diagnostics
    assert (diagnostic.id, diagnostic.location.line, diagnostic.location.column) == (
        "rfc.inflated-exclusive",
        LINE["HugePages_Total"] + 1,
        18,
    )
    assert "never both non-zero" in diagnostic.message


def test_inflated_values_are_signed() -> None:
    """The parser reads the signed value the RFC prints; the schema holds it to what it
    counts, memory in the balloon, as the virtio-balloon schema does."""
    result = parse(with_rfc(total="-4"), layout="exact")
    assert result.instance["InflatedTotal"] == -4
    assert [(d.id, d.pointer) for d in result.diagnostics] == [("schema.minimum", "/InflatedTotal")]


def test_inflated_lines_in_the_mainline_dialect() -> None:
    ids = {d.id for d in parse(with_rfc(), format="meminfo", dialect="2.6").diagnostics}
    assert ids == {"schema.not"}


def test_inflated_lines_placed_as_in_the_proc_rst_example() -> None:
    lines = GOOD.splitlines(keepends=True)
    at = LINE["HardwareCorrupted"] - 1
    pair = ["InflatedTotal:   2097152 kB\n", "InflatedFree:          0 kB\n"]
    result = parse("".join(lines[:at] + pair + lines[at:]))
    assert [(d.id, d.severity.value, d.location.line) for d in result.diagnostics] == [
        ("meminfo.rfc-placement", "note", at + 1)
    ]


def test_2_4_rows() -> None:
    text = (DATA / "meminfo" / "template-2.4-2.4.20-i686-14-char-labels.txt").read_text()
    assert meminfo.detect(text) == "2.4"
    assert found(text, "exact") == []
    broken = text.replace("Swap: 535560192  7995392 527564800", "Swap: 535560192  7995392")
    assert found(broken) == [("parse.bad-value", 3, 6)]
    assert ("parse.missing-line", 1, 1) in found(text.split("\n", 1)[1], dialect="2.4")


def test_2_4_rows_in_the_mainline_dialect() -> None:
    text = (DATA / "meminfo" / "template-2.4-2.4.20-i686-14-char-labels.txt").read_text()
    result = parse(text, format="meminfo", dialect="2.6")
    located = [(d.id, d.location.line, d.location.column) for d in result.diagnostics]
    assert ("schema.not", 2, 1) in located


# -- exact layout ---------------------------------------------------------------
def test_collapsed_spaces_are_a_layout_finding_only_in_exact_mode() -> None:
    text = GOOD.replace("MemFree:        24139940 kB", "MemFree: 24139940 kB")
    assert found(text) == []
    assert found(text, "exact") == [("layout.whitespace", 2, 10)]
    assert parse(text).instance == MODERN


def test_shadow_call_stack_touches_the_colon() -> None:
    text = GOOD.replace("PageTables:", "ShadowCallStack:12582912 kB\nPageTables:")
    assert found(text, "exact") == []
    spaced = GOOD.replace("PageTables:", "ShadowCallStack: 12582912 kB\nPageTables:")
    assert found(spaced, "exact") == [("layout.whitespace", LINE["PageTables"], 17)]
    assert parse(spaced).instance["ShadowCallStack"] == 12582912


def test_values_wider_than_their_column() -> None:
    assert "VmallocTotal:   34359738367 kB\n" in GOOD
    text = GOOD.replace("HardwareCorrupted:     0 kB", "HardwareCorrupted: 131072 kB")
    assert found(text, "exact") == []


def test_old_label_width_is_told_from_memtotal() -> None:
    text = meminfo.render(MODERN, "2.6", width=OLD_WIDTH)
    assert text.startswith("MemTotal:     24684084 kB\n")
    assert "VmallocTotal: 34359738367 kB\n" in text
    assert "HugePages_Total:     0\nHugepagesize:     2048 kB\n" in text
    assert found(text, "exact") == []
    # a modern line among 14-character ones
    mixed = text.replace("MemFree:      24139940 kB", "MemFree:        24139940 kB")
    assert found(mixed, "exact") == [("layout.whitespace", 2, 15)]


def test_corpus_file_with_old_widths_is_exact() -> None:
    name = "corpus-lkml-2004-2.6.10-rc3-mm1-x86_64-gentoo-baremetal.txt"
    assert found((DATA / "meminfo" / name).read_bytes(), "exact") == []


def test_blank_line() -> None:
    text = GOOD.replace("Buffers:", "\nBuffers:")
    assert found(text) == []
    assert found(text, "exact") == [("layout.blank-line", 3, 1)]


# -- detection ------------------------------------------------------------------
def test_detection_of_each_dialect() -> None:
    assert meminfo.detect(GOOD) == "2.6"
    assert meminfo.detect(with_rfc()) == "rfc"
    two_four = DATA / "meminfo" / "corpus-gopsutil-issue1002-legacy-header-32bit-highmem.txt"
    assert meminfo.detect(two_four.read_text()) == "2.4"


def test_other_formats_are_not_claimed() -> None:
    assert meminfo.detect("InflatedTotal: 0 kB\nInflatedFree: 0 kB\n") is None  # virtio-balloon
    assert meminfo.detect("nr_free_pages 841321\nballoon_inflate 0\n") is None
    assert meminfo.detect("Mem-Info:\nNode 0 active_anon:1552kB Balloon:0kB\n") is None
    assert meminfo.detect("Node 0 MemTotal:       24684084 kB\n") is None
    for folder in DATA.iterdir():
        if folder.is_dir() and folder.name != "meminfo":
            for sample in folder.glob("*.txt"):
                text = sample.read_bytes().decode("utf-8", errors="replace")
                assert meminfo.detect(text) is None, sample.name


def test_every_meminfo_sample_is_detected_as_meminfo() -> None:
    for sample in (DATA / "meminfo").glob("*.txt"):
        spec, dialect = detect(sample.read_text())
        assert spec.id == "meminfo", sample.name
        assert dialect == parse(sample.read_bytes(), format="meminfo").dialect


# -- properties -----------------------------------------------------------------
u64 = st.integers(0, 2**64 - 1)
s64 = st.integers(-(2**63), 2**63 - 1)
KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_()"
UNKNOWN = st.text(KEY_CHARS, min_size=1, max_size=24).filter(
    lambda key: key not in KNOWN and key not in ROWS
)
MAINLINE = [key for key in KNOWN_FIELDS if key not in INFLATED and key != "MemTotal"]


@st.composite
def instances(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    instance: dict[str, Any] = {}
    if dialect == "2.4":
        for name, columns in ROWS.items():
            instance[name] = {column: draw(u64) for column in columns}
    keys = ["MemTotal", *sorted(draw(st.sets(st.sampled_from(MAINLINE))), key=MAINLINE.index)]
    if dialect == "rfc":
        keys += INFLATED
    extra = draw(st.lists(UNKNOWN, max_size=3, unique=True))
    for key in extra:
        keys.insert(draw(st.integers(1, len(keys))), key)
    for key in keys:
        instance[key] = draw(s64 if key in INFLATED else u64)
    return instance


@settings(max_examples=200)
@given(
    st.sampled_from(["2.6", "rfc", "2.4"]).flatmap(lambda d: st.tuples(st.just(d), instances(d))),
    st.sampled_from([16, OLD_WIDTH]),
)
def test_rendered_instances_parse_back(case: tuple[str, dict[str, Any]], width: int) -> None:
    dialect, instance = case
    text = meminfo.render(instance, dialect, width=width)
    assert meminfo.detect(text) == dialect
    result = parse(text, format="meminfo", layout="exact", validate=False)
    assert result.dialect == dialect
    assert result.instance == instance
    assert [d.id for d in result.diagnostics if d.id != "meminfo.unknown-field"] == []


@settings(max_examples=200)
@given(
    st.one_of(st.binary(max_size=600), st.text(max_size=600)),
    st.sampled_from([None, "2.6", "rfc", "2.4"]),
    st.sampled_from(["lenient", "exact"]),
)
def test_random_input_never_raises(data: bytes | str, dialect: str | None, layout: str) -> None:
    result = meminfo.parse(data, dialect, Layout(layout))
    assert isinstance(result.instance, dict)
    meminfo.detect(data if isinstance(data, str) else data.decode("utf-8", errors="replace"))


# -- detection tolerates damage; the RFC's two lines alone (issue 8) ------------------------
def test_a_damaged_memtotal_line_does_not_hide_the_format() -> None:
    text = GOOD.replace("MemTotal:", "MemTota1", 1)
    assert meminfo.detect(text) == "2.6"
    spec, dialect = detect(text)
    assert (spec.id, dialect) == ("meminfo", "2.6")
    assert ("parse.unreadable-line", 1, 1) in found(text)


def test_lines_of_unknown_keys_alone_are_not_meminfo() -> None:
    assert meminfo.detect("Foo: 1 kB\nBar: 2 kB\n") is None
    assert meminfo.detect("MemFree: 1 kB\n" + "junk\n" * 3) is None


RFC_LINES = "InflatedTotal:   2097152 kB\nInflatedFree:          0 kB\n"
"""The RFC's proc.rst example: its two meminfo lines, in meminfo's padding."""


def test_the_rfc_lines_alone_are_rfc_meminfo() -> None:
    assert meminfo.detect(RFC_LINES) == "rfc"
    spec, dialect = detect(RFC_LINES)
    assert (spec.id, dialect) == ("meminfo", "rfc")
    # the debugfs file's documented single space stays virtio-balloon's
    spec, dialect = detect("InflatedTotal: 0 kB\nInflatedFree: 0 kB\n")
    assert (spec.id, dialect) == ("virtio-balloon", "rfc")


def test_the_rfc_lines_alone_through_the_console_script(tmp_path: Path) -> None:
    path = tmp_path / "excerpt.txt"
    path.write_text(RFC_LINES)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "parse", "--meta", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    meta = json.loads(done.stdout)
    assert (meta["format"], meta["dialect"]) == ("meminfo", "rfc")
    assert meta["instance"] == {"InflatedTotal": 2097152, "InflatedFree": 0}


_FIELDS = st.lists(
    st.tuples(
        st.sampled_from(
            ["MemTotal", "HugePages_Total", "InflatedTotal", "InflatedFree", "Balloon", "Weird"]
        ),
        st.sampled_from(["0", "7", "007", str(2**63 - 1), str(2**63), "1" * 19, "1x", ""]),
        st.sampled_from([" kB", "", " MB", " kB kB"]),
        st.sampled_from([0, 15, 16, 17]),  # the label widths kernels use, and near misses
    ),
    max_size=8,
)


@given(_FIELDS, st.sampled_from(["exact", "lenient"]))
@example([("MemTotal", "007", " kB", 16)], "exact")
@example([("InflatedTotal", str(2**63), " kB", 16)], "exact")
@example([("InflatedTotal", str(2**63 - 1), " kB", 16)], "lenient")
@example([("HugePages_Total", "7", " kB", 16)], "exact")
@example([("MemTotal", "7", " kB", 16), ("MemFree", "1" * 20, " kB", 16)], "exact")
@example([("MemTotal", "7", " kB", 15), ("Balloon", "7", " kB", 15)], "exact")
@example([("MemTotal", "7", " kB", 14), ("Balloon", "7", " kB", 14)], "lenient")
@example([("Balloon", "7", " kB", 16), ("Balloon", "7", " kB", 16)], "lenient")
@example([("InflatedTotal", "7", " kB", 16), ("InflatedFree", "0", " kB", 16)], "exact")
@example([("InflatedTotal", str(2**63), " kB", 16), ("InflatedFree", "0", " kB", 16)], "exact")
@example([("InflatedFree", "7", " kB", 16), ("MemTotal", "0", " kB", 16)], "lenient")
@example([("InflatedTotal", "7", " kB", 16), ("MemTotal", "0", " kB", 16)], "exact")
@example(
    [
        ("MemTotal", "7", " kB", 16),
        ("InflatedTotal", "7", " kB", 16),
        ("InflatedFree", "0", " kB", 16),
    ],
    "exact",
)
def test_the_kernel_line_fast_path_reads_as_the_general_reader(
    fields: list[tuple[str, str, str, int]], layout: str
) -> None:
    """Both fast paths (the whole file, a line) give what the general reader gives."""
    text = "".join(
        f"{(key + ':').ljust(pad)}{digits:>8}{unit}\n" for key, digits, unit, pad in fields
    )
    fast = parse(text, format="meminfo", layout=layout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(meminfo, "kernel_file", lambda *args: None)
        patch.setattr(meminfo._Reader, "_kernel_line", lambda *args: False)
        general = parse(text, format="meminfo", layout=layout)
    assert (fast.instance, fast.source_map, fast.diagnostics) == (
        general.instance,
        general.source_map,
        general.diagnostics,
    )


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "meminfo").glob("*.txt")))
@pytest.mark.parametrize("layout", ["exact", "lenient"])
def test_the_whole_file_fast_path_reads_the_corpus_as_the_line_reader(
    name: str, layout: str
) -> None:
    data = (DATA / "meminfo" / name).read_bytes()
    fast = parse(data, format="meminfo", layout=layout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(meminfo, "kernel_file", lambda *args: None)
        general = parse(data, format="meminfo", layout=layout)
    assert (fast.dialect, fast.instance, fast.diagnostics) == (
        general.dialect,
        general.instance,
        general.diagnostics,
    )
    assert dict(fast.source_map) == dict(general.source_map)


def test_a_kernel_file_is_read_without_a_step_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file printed as the kernel prints it, at either label width, goes through no
    per-line step; one changed byte sends it to the line reader, which reports it."""
    lines: list[int] = []
    read = meminfo._Reader.read
    monkeypatch.setattr(
        meminfo._Reader, "read", lambda self, line: lines.append(1) or read(self, line)
    )
    for width in (16, OLD_WIDTH):
        result = parse(meminfo.render(MODERN, "2.6", width), format="meminfo", layout="exact")
        assert (result.instance, result.diagnostics, lines) == (MODERN, (), [])
        # the digits of 1048576, right-aligned in %8lu after the label
        assert result.source_map["/Balloon"] == (LINE["Balloon"], width + 1 + 8 - 7)
    damaged = GOOD.replace("Balloon:         1048576", "Balloon:        01048576")
    result = parse(damaged, format="meminfo", layout="exact")
    assert len(lines) == len(MODERN)
    assert [d.id for d in result.diagnostics] == ["layout.text"]
