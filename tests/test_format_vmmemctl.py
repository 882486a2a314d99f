"""vmmemctl (VMware balloon debugfs): bad input is located, generations are told apart,
and rendered instances of every generation parse back unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import detect, format_for_path, parse
from conformance.diagnostics import Location, Severity
from conformance.formats import vmmemctl
from conformance.formats._vmmemctl_lines import BITS, SLOTS, Kind, Slot, capability_names
from conformance.model import Layout

DATA = Path(__file__).parent / "data" / "vmmemctl"
A = (DATA / "template-2.6.34-inflated-long-uptime.txt").read_text()
B = (DATA / "template-4.4-2m-pages.txt").read_text()
C = (DATA / "template-4.20-5.3-shrinker.txt").read_text()
CORPUS = (DATA / "corpus-vzkernel-doc-example-4.x-format-whitespace-collapsed.txt").read_text()
TEMPLATES = sorted(DATA.glob("template-*.txt"))


def found(text: str | bytes, layout: str = "lenient") -> list[tuple[str, int, int]]:
    result = parse(text, format="vmmemctl", layout=layout)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def replace_line(text: str, number: int, new: str) -> str:
    lines = text.split("\n")
    lines[number - 1] = new
    return "\n".join(lines)


def without_lines(text: str, *prefixes: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith(prefixes))


def collapse(text: str) -> str:
    return "".join(" ".join(line.split()) + "\n" for line in text.splitlines())


# -- real layouts ------------------------------------------------------------------------


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_are_clean_in_both_layouts(path: Path) -> None:
    assert found(path.read_bytes()) == []
    assert found(path.read_bytes(), "exact") == []


def test_two_target_lines_are_kept_apart() -> None:
    result = parse(A, format="vmmemctl")
    assert result.instance["target"] == 131072
    assert result.instance["commands"]["target"] == {"count": 123456789, "failed": 0}
    assert result.locate("/target") == Location(line=1, column=23)
    failed = result.locate("/commands/target/failed")
    assert (failed.line, failed.column) == (12, 35)


def test_instance_shape_of_generation_c() -> None:
    instance = parse(C, format="vmmemctl").instance
    assert list(instance) == [
        "capabilities",
        "is_resetting",
        "target",
        "current",
        "commands",
        "stats",
        "page_stats",
    ]
    assert instance["capabilities"]["requested"] == {
        "mask": 0x3E,
        "names": [
            "BASIC_CMDS",
            "BATCHED_CMDS",
            "BATCHED_2M_CMDS",
            "SIGNALLED_WAKEUP_CMD",
            "64_BIT_TARGET",
        ],
    }
    assert instance["commands"]["target"] == {"count": 86400, "failed": 2}
    assert instance["page_stats"]["free"] == {"4k": 8192, "2M": 0}
    assert instance["stats"]["shrinkFree"] == 8192


def test_used_capabilities_zero_prints_bare() -> None:
    text = (DATA / "template-4.20-after-module-load.txt").read_text()
    result = parse(text, format="vmmemctl", layout="exact")
    assert result.instance["capabilities"]["used"] == {"mask": 0, "names": []}
    assert result.instance["is_resetting"] is True
    # 0x0 reads as 0, but %#x never prints it
    zero_x = replace_line(text, 2, f"used capabilities     : {'0x0':>16}")
    assert found(zero_x) == []
    assert found(zero_x, "exact") == [("layout.text", 2, 38)]


def test_generation_c_without_shrinker_lines() -> None:
    result = parse(without_lines(C, "shrink"), format="vmmemctl")
    assert result.diagnostics == ()
    assert "shrink" not in result.instance["stats"]


def test_shrink_and_shrink_free_come_together() -> None:
    assert found(without_lines(C, "shrinkFree")) == [("parse.missing-line", 20, 1)]


def test_collapsed_corpus_is_lenient_clean_and_exact_warned() -> None:
    assert found(CORPUS) == []
    exact = found(CORPUS, "exact")
    assert len(exact) == 26 and {id for id, _, _ in exact} == {"layout.whitespace"}
    assert exact[0] == ("layout.whitespace", 1, 23)


def test_legacy_generation_b_lines_are_optional() -> None:
    legacy = without_lines(B, "balloon", "used", "is ", "2m-", "prim2m", "err2m", "doorbell")
    result = parse(legacy, format="vmmemctl", dialect="4.4", layout="exact")
    assert [(d.id, d.severity) for d in result.diagnostics] == [
        ("vmmemctl.legacy-layout", Severity.NOTE)
    ]
    assert "'doorbellUnset'" in result.diagnostics[0].message
    assert "capabilities" not in result.instance


def test_unknown_capability_bit_is_a_note() -> None:
    text = replace_line(C, 2, "used capabilities     :             0x41")
    result = parse(text, format="vmmemctl")
    assert result.instance["capabilities"]["used"]["names"] == ["bit0", "bit6"]
    assert [(d.id, d.location.line, d.severity) for d in result.diagnostics] == [
        ("vmmemctl.unknown-capability", 2, Severity.NOTE),
        ("vmmemctl.unknown-capability", 2, Severity.NOTE),
    ]


# -- empty lines -------------------------------------------------------------------------


def test_missing_separator_is_a_layout_finding() -> None:
    text = A.replace("pages/sec\n\n", "pages/sec\n")
    assert found(text) == []
    assert found(text, "exact") == [("layout.blank-line", 6, 1)]


def test_extra_empty_lines_are_layout_findings() -> None:
    text = C.replace("reset ", "\nreset ") + "\n"
    assert found(text) == []
    assert found(text, "exact") == [("layout.blank-line", 18, 1), ("layout.blank-line", 32, 1)]


# -- bad input ---------------------------------------------------------------------------


def test_unknown_label() -> None:
    text = C.replace("reset ", "refused               :                0\nreset ")
    assert found(text) == [("parse.unknown-label", 18, 1)]


def test_missing_line() -> None:
    assert found(without_lines(C, "current")) == [("parse.missing-line", 5, 1)]
    assert found(without_lines(A, "errFree")) == [("parse.missing-line", 17, 1)]


@pytest.mark.parametrize(
    ("text", "extra", "line"),
    [
        (A, "target:                    5 (   0 failed)", 18),
        (A, "target:                    5 pages", 18),
        (C, "target                :                5 (0 failed)", 31),
    ],
)
def test_third_target_is_a_duplicate(text: str, extra: str, line: int) -> None:
    assert found(text + extra + "\n") == [("parse.duplicate-line", line, 1)]


def test_out_of_order() -> None:
    text = B.replace(
        "2m-lock:                   4 (   0 failed)\nlock:                      0 (   0 failed)",
        "lock:                      0 (   0 failed)\n2m-lock:                   4 (   0 failed)",
    )
    assert found(text) == [("parse.order", 13, 1)]


@pytest.mark.parametrize("value", ["0x3g", "3e", "0X3E", "-0x3e", "0x" + "f" * 17])
def test_bad_hex(value: str) -> None:
    text = replace_line(C, 1, f"balloon capabilities  : {value:>16}")
    assert found(text) == [("parse.bad-number", 1, 25 + max(0, 16 - len(value)))]


def test_requested_capabilities_are_32_bit() -> None:
    text = replace_line(C, 1, "balloon capabilities  :      0x100000000")
    assert found(text) == [("parse.bad-number", 1, 30)]


def test_failure_count_not_a_number() -> None:
    text = replace_line(B, 10, "start:                     1 (   x failed)")
    assert found(text) == [("parse.bad-number", 10, 34)]
    text = replace_line(C, 6, "start                 :                1 (-1 failed)")
    assert found(text) == [("parse.bad-number", 6, 43)]


def test_is_resetting_must_be_y_or_n() -> None:
    text = replace_line(C, 3, "is resetting          :                x")
    assert found(text) == [("parse.bad-value", 3, 40)]
    text = replace_line(B, 3, "is resetting:           yes")
    assert found(text) == [("parse.bad-value", 3, 25)]


@pytest.mark.parametrize(
    ("text", "number", "line"),
    [
        (A, 1, "target:               131072"),  # no 'pages' unit
        (A, 3, "rateNoSleepAlloc:      16384 pages"),  # 'pages', not 'pages/sec'
        (A, 8, "start:                     1"),  # a command without its failure count
        (B, 8, "timer:                  7200 (   0 failed)"),  # a counter with one
        (C, 4, "target                :          1048576 pages"),  # C has no unit
    ],
)
def test_value_of_the_wrong_shape(text: str, number: int, line: str) -> None:
    value = line[line.index(":") + 1 :].lstrip()
    column = len(line) - len(value) + 1
    assert found(replace_line(text, number, line)) == [("parse.bad-value", number, column)]


def test_counter_beyond_its_c_type() -> None:
    text = replace_line(B, 8, "timer:              4294967296")
    assert found(text) == [("parse.bad-number", 8, 21)]


def test_unreadable_line() -> None:
    assert found(C + "no colon here\n") == [("parse.unreadable-line", 31, 1)]


# -- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        (A, "2.6.34"),
        (B, "4.4"),
        (C, "4.20"),
        (CORPUS, "4.4"),
        (collapse(A), "2.6.34"),
        (collapse(C), "4.20"),
        ("\n" + C, "4.20"),
        (without_lines(B, "balloon", "used", "is "), "4.4"),
        (without_lines(B, "balloon"), "4.4"),
    ],
)
def test_detection(text: str, dialect: str) -> None:
    assert vmmemctl.detect(text) == dialect
    spec, detected = detect(text)
    assert (spec.id, detected) == ("vmmemctl", dialect)


@pytest.mark.parametrize(
    "text",
    [
        "host_version          : 2.0\ncapabilities          : enabled hot_add\n",
        "MemTotal:       16384000 kB\nMemFree:         1024 kB\n",
        "nr_free_pages 12345\nnr_balloon_pages 0\n",
        "0110000000000000000000000000110010000000000000000000000000000000\n",
        "InflatedTotal: 0 kB\nInflatedFree: 0 kB\n",
        "Mem-Info:\nactive_anon:1 inactive_anon:2\n",
        "target: high\n",
        "",
    ],
)
def test_detection_leaves_other_text_alone(text: str) -> None:
    assert vmmemctl.detect(text) is None


def test_guest_path() -> None:
    spec = format_for_path("/sys/kernel/debug/vmmemctl")
    assert spec is not None and spec.id == "vmmemctl"


# -- properties --------------------------------------------------------------------------


def _value(draw: Any, slot: Slot, dialect: str) -> Any:
    bits = BITS[dialect]
    if slot.kind is Kind.CAPS:
        mask = draw(st.integers(0, 2**32 - 1 if "requested" in slot.pointer else 2**64 - 1))
        return {"mask": mask, "names": capability_names(mask)}
    if slot.kind is Kind.RESETTING:
        return draw(st.booleans())
    counter = st.integers(0, 2**bits - 1)
    if slot.kind is Kind.COMMAND:
        return {"count": draw(counter), "failed": draw(counter)}
    if dialect != "4.20" and slot.kind in (Kind.SIZE, Kind.RATE):
        return draw(st.integers(-(2**31), 2**31 - 1))
    return draw(counter)


@st.composite
def instances(draw: Any, dialect: str) -> dict[str, Any]:
    groups = {slot.optional for slot in SLOTS[dialect] if slot.optional}
    present = {group for group in groups if draw(st.booleans())}
    instance: dict[str, Any] = {}
    for slot in SLOTS[dialect]:
        if slot.optional and slot.optional not in present:
            continue
        *parents, last = slot.pointer.strip("/").split("/")
        node = instance
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = _value(draw, slot, dialect)
    return instance


@pytest.mark.parametrize("dialect", ["2.6.34", "4.4", "4.20"])
@given(data=st.data())
def test_rendered_instances_parse_back(dialect: str, data: Any) -> None:
    instance = data.draw(instances(dialect))
    text = vmmemctl.render(instance, dialect)
    for layout in (Layout.EXACT, Layout.LENIENT):
        result = vmmemctl.parse(text, dialect, layout)
        assert result.instance == instance
        assert [d for d in result.diagnostics if d.severity is not Severity.NOTE] == []


@given(st.one_of(st.text(), st.binary()), st.booleans())
def test_random_input_never_raises(data: str | bytes, exact: bool) -> None:
    parse(data, format="vmmemctl", layout="exact" if exact else "lenient")


@given(st.lists(st.sampled_from([*A.splitlines(), *B.splitlines(), *C.splitlines(), "", "x"])))
def test_shuffled_lines_never_raise(lines: list[str]) -> None:
    text = "\n".join(lines)
    vmmemctl.detect(text)
    for dialect in ("2.6.34", "4.4", "4.20"):
        vmmemctl.parse(text, dialect, Layout.EXACT)


@pytest.mark.parametrize(("text", "dialect"), [(A, "2.6.34"), (B, "4.4"), (C, "4.20")])
def test_detection_tolerates_a_damaged_first_line(text: str, dialect: str) -> None:
    damaged = replace_line(text, 1, "garbage")
    assert vmmemctl.detect(damaged) == dialect
    assert detect(damaged) == (vmmemctl.SPEC, dialect)
    assert ("parse.unreadable-line", 1, 1) in found(damaged)
    assert vmmemctl.detect("garbage\ntimer: 1\nother: 2\nmore: 3\n") is None


# -- the whole-file fast path --------------------------------------------------------------


def _both(text: str, dialect: str | None, layout: Layout) -> None:
    """The fast path and the line reader give the same result (or the same error)."""
    fast = vmmemctl.parse(text, dialect, layout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vmmemctl, "_kernel_file", lambda *args: None)
        general = vmmemctl.parse(text, dialect, layout)
    assert (fast.dialect, fast.instance, fast.diagnostics) == (
        general.dialect,
        general.instance,
        general.diagnostics,
    )
    assert list(fast.instance) == list(general.instance)  # the same order, for reports
    assert dict(fast.source_map) == dict(general.source_map)


_EDITS = st.sampled_from(["drop", "twice", "swap", "blank", "space", "digit", "none"])


@pytest.mark.parametrize("dialect", ["2.6.34", "4.4", "4.20"])
@given(data=st.data(), edit=_EDITS, given_dialect=st.booleans(), exact=st.booleans())
def test_the_whole_file_fast_path_reads_as_the_line_reader(
    dialect: str, data: Any, edit: str, given_dialect: bool, exact: bool
) -> None:
    lines = vmmemctl.render(data.draw(instances(dialect)), dialect).split("\n")[:-1]
    at = data.draw(st.integers(0, len(lines) - 1))
    if edit == "drop":
        del lines[at]
    elif edit == "twice":
        lines.insert(at, lines[at])
    elif edit == "swap":
        lines[at], lines[-1] = lines[-1], lines[at]
    elif edit == "blank":
        lines.insert(at, "")
    elif edit in ("space", "digit"):
        column = data.draw(st.integers(0, len(lines[at])))
        lines[at] = lines[at][:column] + (" " if edit == "space" else "0") + lines[at][column:]
    layout = Layout.EXACT if exact else Layout.LENIENT
    _both("\n".join(lines) + "\n", dialect if given_dialect else None, layout)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.name)
def test_the_whole_file_fast_path_reads_the_corpus_as_the_line_reader(path: Path) -> None:
    for layout in (Layout.EXACT, Layout.LENIENT):
        _both(path.read_text(), None, layout)


def test_a_kernel_file_is_read_without_the_line_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    read = vmmemctl._read_lines
    monkeypatch.setattr(vmmemctl, "_read_lines", lambda *a: calls.append(1) or read(*a))
    for text in (A, B, C):
        assert vmmemctl.parse(text.encode(), None, Layout.EXACT).diagnostics == ()
    assert calls == []
    assert found(replace_line(C, 4, "target                :         01048576"), "exact")
    assert calls == [1]


def test_the_whole_file_patterns_are_compiled_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a generation's whole-file reader compiles its pattern once, not once per
    line to count groups (that was 36 long compiles, ~80 ms at the first vmmemctl file of
    a run, paid by every short check)."""
    import re

    from conformance.formats import _vmmemctl_whole as whole

    compiled: list[str] = []
    original = re.compile

    def counting(pattern: Any, flags: int = 0) -> Any:
        compiled.append(pattern)
        return original(pattern, flags)

    monkeypatch.setattr(whole.re, "compile", counting)
    whole._wholes.cache_clear()
    for dialect in whole.SLOTS:
        made = whole._wholes(dialect)
        long_ones = [p for p in compiled if len(p) > 120]
        assert len(long_ones) == len(made), dialect
        compiled.clear()
    whole._wholes.cache_clear()
