"""virtio-features: bad bits are located to the column; rendered instances parse back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conformance import detect, format_for_path, parse
from conformance.formats import virtio_features as vf
from conformance.model import Layout

DOC = "0110000000000000000000000000110010000000000000000000000000000000"
"""The RFC/Virtuozzo document's features string with DEFLATE_ON_OOM: bits 1, 2, 28, 29, 32."""
FIRECRACKER = "01100101" + "0" * 24 + "1" + "0" * 95
"""The 6.18.44 Firecracker guest's balloon: 128 characters, bits 1, 2, 5, 7, 32."""


def found(
    text: str | bytes,
    layout: str = "lenient",
    context: dict[str, str] | None = None,
    dialect: str | None = None,
) -> list[tuple[str, int, int]]:
    result = parse(text, format="virtio-features", dialect=dialect, layout=layout, context=context)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def test_documentation_string_is_clean_in_both_layouts() -> None:
    assert found(DOC + "\n") == []
    assert found(DOC + "\n", "exact") == []
    result = parse(DOC + "\n", format="virtio-features")
    assert result.dialect == "3.19"
    assert result.instance["set_bits"] == [1, 2, 28, 29, 32]
    assert [f["name"] for f in result.instance["features"]][:2] == [
        "VIRTIO_BALLOON_F_STATS_VQ",
        "VIRTIO_BALLOON_F_DEFLATE_ON_OOM",
    ]


def test_space_inside_is_located() -> None:
    assert found(DOC[:32] + " " + DOC[32:] + "\n") == [("virtio-features.bad-character", 1, 33)]


def test_a_digit_other_than_0_and_1() -> None:
    assert found(DOC[:2] + "2" + DOC[3:] + "\n") == [("virtio-features.bad-character", 1, 3)]


def test_several_bad_characters_are_one_finding() -> None:
    result = parse("01x" + "0" * 60 + "y\n", format="virtio-features")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.location.line, diagnostic.location.column) == (1, 3)
    assert "1 more" in diagnostic.message
    assert result.instance == {}


@pytest.mark.parametrize(("width", "column"), [(63, 64), (65, 65), (10, 11), (100, 97)])
def test_width_not_a_multiple_of_32(width: int, column: int) -> None:
    assert found("0" * width + "\n") == [("virtio-features.bad-width", 1, column)]


def test_unusual_multiple_of_32_is_a_warning() -> None:
    result = parse("01" + "0" * 94 + "\n", format="virtio-features")
    assert result.dialect == "6.17"
    assert [(d.id, d.severity.value, d.location.column) for d in result.diagnostics] == [
        ("virtio-features.width", "warning", 97)
    ]
    assert result.instance["width"] == 96


def test_no_bits_at_all() -> None:
    assert found("\n") == [("parse.missing-line", 1, 1), ("text.empty", 1, 1)]


def test_crlf_is_a_layout_finding_only() -> None:
    assert found(DOC + "\r\n") == []
    assert found(DOC + "\r\n", "exact") == [("layout.line-ending", 1, 65)]


def test_surrounding_whitespace_is_lenient_only() -> None:
    text = "  " + DOC + "\n"
    assert found(text) == []
    assert found(text, "exact") == [("layout.whitespace", 1, 1)]
    assert parse(text, format="virtio-features").source_map["/set_bits/0"] == (1, 4)


def test_missing_final_newline() -> None:
    assert found(DOC, "exact") == [("layout.trailing-newline", 1, 65)]


def test_a_second_line_is_an_error() -> None:
    assert found(DOC + "\n" + DOC + "\n") == [("virtio-features.extra-line", 2, 1)]


def test_blank_line_is_a_layout_finding() -> None:
    assert found(DOC + "\n\n") == []
    assert found(DOC + "\n\n", "exact") == [("layout.text", 2, 1)]


def test_unknown_balloon_bit_is_a_note_at_its_column() -> None:
    result = parse(FIRECRACKER + "\n", format="virtio-features", context={"device": "0x0005\n"})
    assert result.instance["unknown_bits"] == [7]
    assert result.instance["device"] == {"id": 5, "name": "balloon"}
    assert [(d.id, d.severity.value, d.location.column) for d in result.diagnostics] == [
        ("virtio-features.unknown-bit", "note", 8)
    ]
    assert result.locate("/unknown_bits/0").column == 8


def test_other_devices_have_unnamed_device_bits_and_no_notes() -> None:
    result = parse(DOC + "\n", format="virtio-features", context={"device": "0x0001\n"})
    assert result.diagnostics == ()
    assert result.instance["device"] == {"id": 1, "name": "net"}
    assert result.instance["features"][0] == {"bit": 1, "name": None, "kind": "device"}
    assert result.instance["features"][2]["name"] == "VIRTIO_RING_F_INDIRECT_DESC"
    assert result.instance["unknown_bits"] == []


def test_unnamed_transport_bit_is_unknown_for_any_device() -> None:
    bits = "0" * 30 + "1" + "0" * 33
    assert found(bits + "\n", context={"device": "0x0001"}) == [
        ("virtio-features.unknown-bit", 1, 31)
    ]


def test_device_id_without_a_name() -> None:
    result = parse(DOC + "\n", format="virtio-features", context={"device": "0x00FF\n"})
    assert result.instance["device"] == {"id": 255, "name": None}
    assert result.diagnostics == ()


@pytest.mark.parametrize("device", ["5\n", "balloon", "", "0x", "0x123456789"])
def test_bad_device_file(device: str) -> None:
    result = parse(DOC + "\n", format="virtio-features", context={"device": device})
    (diagnostic,) = result.diagnostics
    assert (diagnostic.id, diagnostic.location.line, diagnostic.location.column) == (
        "virtio-features.device",
        1,
        1,
    )
    assert "device file" in diagnostic.message
    assert "device" not in result.instance


def test_dialect_that_does_not_fit_the_width() -> None:
    result = parse(FIRECRACKER + "\n", format="virtio-features", dialect="3.19")
    ids = [d.id for d in result.diagnostics if d.severity.value == "error"]
    assert "schema.const" in ids
    assert any("64 characters" in d.message for d in result.diagnostics)


def test_64_characters_fit_the_pre_3_19_dialect_when_asked() -> None:
    assert found(DOC + "\n", dialect="2.6.24") == []


@pytest.mark.parametrize(
    ("width", "dialect"), [(32, "2.6.24"), (64, "3.19"), (96, "6.17"), (128, "6.17")]
)
def test_detection_by_width(width: int, dialect: str) -> None:
    assert vf.detect("1" + "0" * (width - 1) + "\n") == dialect
    spec, detected = detect("1" + "0" * (width - 1) + "\n")
    assert (spec.id, detected) == ("virtio-features", dialect)


@pytest.mark.parametrize(
    "text",
    [
        "MemTotal:       16384000 kB\nMemFree:         1234567 kB\n",
        "nr_free_pages 12345\nballoon_inflate 0\n",
        "InflatedTotal: 0 kB\nInflatedFree: 0 kB\n",
        "host_version          : 2.0\npage_size             : 4096\n",
        "Balloon InflatedTotal:0kB InflatedFree:0kB\n",
        "balloon capabilities:   0x1e\nused capabilities:      0x6\n",
        "0\n",
        "1\n",
        DOC + "\n" + DOC + "\n",
    ],
)
def test_detection_leaves_other_text_alone(text: str) -> None:
    assert vf.detect(text) is None


@pytest.mark.parametrize(
    "path",
    [
        "/sys/bus/virtio/devices/virtio0/features",
        "capture/sys/bus/virtio/drivers/virtio_balloon/virtio0/features",
    ],
)
def test_guest_paths(path: str) -> None:
    spec = format_for_path(path)
    assert spec is not None and spec.id == "virtio-features"


def expected(bits: str, device_id: int | None) -> dict[str, Any]:
    """The instance the parser should make, computed from the tables independently."""
    balloon = device_id in (None, vf.BALLOON_ID)
    set_bits = [i for i, c in enumerate(bits) if c == "1"]
    features, unknown = [], []
    for bit in set_bits:
        if bit < 24:
            name, kind = (vf.BALLOON_BITS.get(bit) if balloon else None), "device"
        elif bit < 42:
            name, kind = vf.TRANSPORT_BITS.get(bit), "transport"
        else:
            name, kind = None, "other"
        features.append({"bit": bit, "name": name, "kind": kind})
        if name is None and (kind == "transport" or balloon):
            unknown.append(bit)
    instance = {
        "bits": bits,
        "width": len(bits),
        "set_bits": set_bits,
        "features": features,
        "unknown_bits": unknown,
    }
    if device_id is not None:
        instance["device"] = {"id": device_id, "name": vf.DEVICE_NAMES.get(device_id)}
    return instance


@st.composite
def cases(draw: Any) -> tuple[str, str, int | None]:
    dialect = draw(st.sampled_from(sorted(vf.WIDTHS)))
    width = draw(st.sampled_from(vf.WIDTHS[dialect]))
    ones = draw(st.sets(st.integers(0, width - 1)))
    device = draw(st.none() | st.sampled_from([1, 2, 4, 5, 19, 0x1234]))
    return dialect, "".join("1" if i in ones else "0" for i in range(width)), device


@given(cases())
def test_rendered_instances_parse_back(case: tuple[str, str, int | None]) -> None:
    dialect, bits, device = case
    instance = expected(bits, device)
    context = None if device is None else {"device": f"0x{device:04x}\n"}
    text = vf.render(instance, dialect)
    result = parse(text, format="virtio-features", dialect=dialect, layout="exact", context=context)
    assert result.dialect == dialect
    assert result.instance == instance
    assert {d.id for d in result.diagnostics} <= {"virtio-features.unknown-bit"}


@given(st.one_of(st.text(), st.binary(), st.text(alphabet="01 \r\n\t2")), st.booleans())
def test_random_input_never_raises(data: str | bytes, exact: bool) -> None:
    layout = "exact" if exact else "lenient"
    parse(data, format="virtio-features", layout=layout)
    parse(data, format="virtio-features", layout=layout, context={"device": "0x0005"})


@given(st.text(), st.text(max_size=12))
def test_random_device_file_never_raises(text: str, device: str) -> None:
    parse(text, format="virtio-features", context={"device": device})


def test_detection_tolerates_a_damaged_character() -> None:
    damaged = DOC[:40] + "x" + DOC[41:] + "\n"
    assert detect(damaged) == (vf.SPEC, "3.19")
    assert [d.id for d in parse(damaged).diagnostics] == ["virtio-features.bad-character"]
    assert vf.detect("0x1f 0x2e 0x3d 0x4c\n") is None  # mostly not bits


def test_a_line_wider_than_any_kernel_prints_is_not_decoded() -> None:
    for width in (1024, 1056):
        result = parse("1" * width + "\n", format="virtio-features")
        decoded = width <= vf.MAX_WIDTH
        assert ("set_bits" in result.instance) is decoded
    found = parse("1" * 1056 + "\n", format="virtio-features").diagnostics
    assert [(d.id, d.location.column) for d in found] == [("virtio-features.bad-width", 1025)]


@given(
    st.sampled_from([32, 64, 128, 33, 96]).flatmap(
        lambda width: st.text(alphabet="01", min_size=width, max_size=width)
    ),
    st.sampled_from(["\n", "", "\n\n", " \n", "\r\n"]),
    st.sampled_from([None, "0x0005\n", "0x0001\n", "5\n"]),
    st.sampled_from([None, "3.19", "6.17"]),
    st.sampled_from(["exact", "lenient"]),
)
@example("1" * 64, "\n", "0x0005\n", None, "exact")
@example("1" * 128, "\n", None, None, "lenient")
@example("0" * 32, "\n", "0x0001\n", "3.19", "exact")
def test_the_kernel_line_fast_path_reads_as_the_line_reader(
    bits: str, end: str, device: str | None, dialect: str | None, layout: str
) -> None:
    context = {} if device is None else {"device": device}
    data = (bits + end).encode()
    fast = vf.parse(data, dialect, Layout(layout), dict(context))
    general = vf._parse(data, dialect, Layout(layout), dict(context), fast=False)
    assert (fast.dialect, fast.instance, fast.diagnostics) == (
        general.dialect,
        general.instance,
        general.diagnostics,
    )
    assert dict(fast.source_map) == dict(general.source_map)


def test_a_kernel_line_is_not_split_and_its_source_map_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    split = vf.split_lines
    monkeypatch.setattr(vf, "split_lines", lambda *a, **k: calls.append(1) or split(*a, **k))
    result = vf.parse(b"0110" + b"0" * 28 + b"1" + b"0" * 31 + b"\n", None, Layout.EXACT, {})
    assert calls == []
    assert result.source_map["/set_bits/0"] == (1, 2)
    assert calls == [1]  # the line reader, once, when the map is first read
