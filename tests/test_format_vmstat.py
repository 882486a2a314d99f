"""vmstat: every kind of bad input is located; detection; rendered instances parse back."""

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
from conformance.formats import vmstat

DATA = Path(__file__).parent / "data"

COUNTERS = {
    "nr_free_pages": 841321,
    "nr_hugetlb": 0,
    "nr_balloon_pages": 262144,
    "nr_kernel_file_pages": 0,
    "pgfault": 18446744073709551615,
    "balloon_inflate": 300000,
    "balloon_deflate": 37856,
    "balloon_migrate": 118,
    # the four gauges the schema requires (every kernel since 2.6.0 prints them) and
    # event counters kernels print with CONFIG_VM_EVENT_COUNTERS
    **dict.fromkeys(
        [
            "nr_dirty",
            "nr_writeback",
            "nr_mapped",
            "nr_page_table_pages",
            "pgpgin",
            "pgpgout",
            "pswpin",
            "pswpout",
            "pgfree",
            "pgactivate",
            "pgdeactivate",
            "pgmajfault",
        ],
        0,
    ),
}
GOOD = vmstat.render(COUNTERS, "2.6")


def found(text: str, layout: str = "lenient") -> list[tuple[str, int, int]]:
    result = parse(text, format="vmstat", layout=layout)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def test_good_text_is_clean_in_both_layouts() -> None:
    assert GOOD.startswith("nr_free_pages 841321\nnr_hugetlb 0\n")
    assert found(GOOD) == []
    assert found(GOOD, "exact") == []
    assert parse(GOOD).instance == COUNTERS


def test_line_without_a_value() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb\n")
    assert found(text) == [("parse.bad-value", 2, 11)]


def test_bad_number() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb 0x10\n")
    assert found(text) == [("parse.bad-number", 2, 12)]


def test_negative_number() -> None:
    assert found(GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb -1\n")) == [("parse.bad-number", 2, 12)]


def test_number_wider_than_an_unsigned_long() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", f"nr_hugetlb {2**64}\n")
    assert found(text) == [("parse.bad-number", 2, 12)]
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb " + "7" * 5000 + "\n")
    assert found(text) == [("parse.bad-number", 2, 12)]


def test_duplicated_name() -> None:
    text = GOOD + "nr_hugetlb 5\n"
    assert found(text) == [("parse.duplicate-line", len(COUNTERS) + 1, 1)]
    assert parse(text).instance["nr_hugetlb"] == 0


def test_text_after_the_value() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb 0 pages\n")
    assert found(text) == [("parse.bad-value", 2, 14)]


def test_unreadable_name() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr-hugetlb: 0\n")
    assert found(text) == [("parse.unreadable-line", 2, 1)]


def test_two_spaces_are_a_layout_finding_only_in_exact_mode() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb  0\n")
    assert found(text) == []
    assert found(text, "exact") == [("layout.whitespace", 2, 12)]
    assert parse(text, format="vmstat").instance == COUNTERS


def test_blank_line_and_missing_newline() -> None:
    text = GOOD.replace("nr_hugetlb 0\n", "nr_hugetlb 0\n\n")
    assert found(text, "exact") == [("layout.blank-line", 3, 1)]
    last = len("pgmajfault 0") + 1  # the column after the last line
    assert found(GOOD.rstrip("\n"), "exact") == [("layout.trailing-newline", len(COUNTERS), last)]


def test_empty_text() -> None:
    ids = {d.id for d in parse("", format="vmstat").diagnostics}
    assert ids == {"text.empty", "schema.required"}


def test_detection() -> None:
    assert vmstat.detect(GOOD) == "2.6"
    excerpt = "bad-excerpt-lkml-tysand-debian10-4.19.0-5-grep-balloon.txt"
    grep = (DATA / "vmstat" / excerpt).read_text()
    assert vmstat.detect(grep) == "2.6"
    assert vmstat.detect("") is None
    assert vmstat.detect("nr_free_pages  841321\n") is None
    assert vmstat.detect("MemTotal:       24684084 kB\n") is None
    assert vmstat.detect("01" * 32 + "\n") is None
    assert vmstat.detect("12345 total pagecache pages\n") is None
    assert vmstat.detect("0110 1000\n") is None


def test_other_formats_are_not_claimed() -> None:
    for folder in DATA.iterdir():
        if folder.is_dir() and folder.name != "vmstat":
            for sample in folder.glob("*.txt"):
                text = sample.read_bytes().decode("utf-8", errors="replace")
                assert vmstat.detect(text) is None, sample.name


def test_every_good_vmstat_sample_is_detected_as_vmstat() -> None:
    for sample in (DATA / "vmstat").glob("*.txt"):
        if not sample.name.startswith("bad-"):
            spec, dialect = detect(sample.read_text())
            assert (spec.id, dialect) == ("vmstat", "2.6"), sample.name


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True)


@given(st.dictionaries(NAMES, st.integers(0, 2**64 - 1), min_size=1, max_size=40))
def test_rendered_instances_parse_back(instance: dict[str, Any]) -> None:
    text = vmstat.render(instance, "2.6")
    assert vmstat.detect(text) == "2.6"
    result = parse(text, format="vmstat", layout="exact", validate=False)
    assert result.instance == instance
    assert list(result.instance) == list(instance)
    assert result.diagnostics == ()


@settings(max_examples=200)
@given(
    st.one_of(st.binary(max_size=600), st.text(max_size=600)),
    st.sampled_from(["lenient", "exact"]),
)
def test_random_input_never_raises(data: bytes | str, layout: str) -> None:
    result = vmstat.parse(data, None, Layout(layout))
    assert isinstance(result.instance, dict)
    vmstat.detect(data if isinstance(data, str) else data.decode("utf-8", errors="replace"))


# -- damaged lines do not hide the format (issue 8) ----------------------------------------
def damaged_capture(tmp_path: Path) -> tuple[Path, list[str]]:
    """150 good lines of a real capture, then two corrupt ones at lines 40 and 100."""
    sample = DATA / "vmstat" / "capture-6.18.44-firecracker-virtio-balloon-guest.txt"
    lines = sample.read_text().splitlines()[:152]
    lines[39] = lines[39].split()[0] + " 12x34"
    lines[99] = "pgpgin: garbage here"
    path = tmp_path / "stats.txt"  # a name that says nothing: the content must tell
    path.write_text("\n".join(lines) + "\n")
    return path, lines


def test_detection_tolerates_a_few_damaged_lines(tmp_path: Path) -> None:
    path, lines = damaged_capture(tmp_path)
    assert vmstat.detect(path.read_text()) == "2.6"
    half_damaged = "\n".join(line if i % 2 else "??" + line for i, line in enumerate(lines))
    assert vmstat.detect(half_damaged) is None  # most lines must fit, not some


def test_damaged_vmstat_through_the_console_script(tmp_path: Path) -> None:
    path, lines = damaged_capture(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "parse", "--meta", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # errors found, not "cannot tell the format"
    meta = json.loads(done.stdout)
    assert (meta["format"], meta["dialect"]) == ("vmstat", "2.6")
    assert len(meta["instance"]) == 150
    value_column = len(lines[39].split()[0]) + 2
    assert [line for line in done.stderr.splitlines() if "[parse." in line] == [
        f"{path}:40:{value_column}: error: '12x34' is not a u64 decimal number [parse.bad-number]",
        f"{path}:100:1: error: cannot read this line as 'name value': 'pgpgin: garbage here'"
        " [parse.unreadable-line]",
    ]


_LINES = st.lists(
    st.tuples(
        st.sampled_from(
            ["nr_free_pages", "pgfault", "balloon_inflate", "nr-x", "0", "nr_free_pages"]
        ),
        st.sampled_from(
            ["0", "7", "007", "18446744073709551615", "18446744073709551616", "1x", ""]
        ),
        st.sampled_from([" ", "  ", "\t", " \r"]),
    ),
    max_size=8,
)


@given(_LINES, st.sampled_from(["exact", "lenient"]))
@example([("pgfault", "007", " ")], "exact")
@example([("pgfault", str(2**64), " ")], "lenient")
@example([("pgfault", "7", " "), ("pgfault", "8", " ")], "exact")
@example([("pgfault", "18446744073709551616", " "), ("pgmajfault", "8", " ")], "exact")
@example([("pgfault", "7", " "), ("pgmajfault", "8", " ")], "lenient")
def test_the_kernel_line_fast_path_reads_as_the_general_reader(
    lines: list[tuple[str, str, str]], layout: str
) -> None:
    """Both fast paths (the whole file, a line) give what the general reader gives."""
    text = "".join(f"{name}{space}{digits}\n" for name, digits, space in lines)
    fast = parse(text, format="vmstat", layout=layout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vmstat, "_kernel_file", lambda *args: None)
        patch.setattr(vmstat, "_kernel_line", lambda *args: False)
        general = parse(text, format="vmstat", layout=layout)
    assert (fast.instance, fast.source_map, fast.diagnostics) == (
        general.instance,
        general.source_map,
        general.diagnostics,
    )


def test_a_kernel_file_is_read_without_a_step_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file printed as the kernel prints it goes through no per-line step; one changed
    byte sends it to the line reader, which reports it where it stands."""
    lines: list[int] = []
    read = vmstat._read
    monkeypatch.setattr(vmstat, "_read", lambda *args: lines.append(1) or read(*args))
    text = vmstat.render(COUNTERS, "2.6")
    result = parse(text.encode(), format="vmstat", layout="exact")
    assert (result.instance, result.diagnostics, lines) == (COUNTERS, (), [])
    assert result.source_map["/pgfault"] == (list(COUNTERS).index("pgfault") + 1, 9)
    result = parse(text.replace("pgfault ", "pgfault  "), format="vmstat", layout="exact")
    assert len(lines) == len(COUNTERS)
    assert [d.id for d in result.diagnostics] == ["layout.whitespace"]
