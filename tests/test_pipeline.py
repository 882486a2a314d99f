"""The library's front door: detection, errors for misuse, paths in locations."""

from __future__ import annotations

import pytest

import conformance
from conformance import (
    DetectionError,
    UnknownFormatError,
    format_for_path,
    parse,
    pipeline,
    records,
)
from conformance.model import ParseResult

from .golden import samples

HV = (
    "host_version          : 2.0\n"
    "capabilities          : enabled hot_add\n"
    "state                 : 1 (Initialized)\n"
    "page_size             : 4096\n"
    "pages_added           : 0\n"
    "pages_onlined         : 0\n"
    "pages_ballooned       : 0\n"
    "total_pages_committed : 977790\n"
    "max_dynamic_page_count: 0\n"
)


@pytest.mark.parametrize(
    ("path", "format_id"),
    [
        ("/sys/kernel/debug/hv-balloon", "hv-balloon"),
        ("capture/sys/kernel/debug/hv-balloon", "hv-balloon"),
        ("flat/hv-balloon", "hv-balloon"),
        ("flat/hv-balloon.txt", "hv-balloon"),
        ("/etc/passwd", None),
    ],
)
def test_format_from_path(path: str, format_id: str | None) -> None:
    spec = format_for_path(path)
    assert (spec.id if spec else None) == format_id


SINGLE_NAMES = [
    *(name for f in conformance.format_ids() for name in (f, f + ".txt", f + ".TXT", f[:-1])),
    *("dmesg", "dmesg.txt", "kern.log", "kernel.log", "kern.log.1", "meminfo", "features"),
    *("guest-00001", "", ".txt", "vmstat.txt.txt", "t0", "capture.json", "proc", "sys"),
]


@pytest.mark.parametrize("by_name", [True, False])
def test_a_single_name_is_told_by_the_table_as_by_matching_every_pattern(
    by_name: bool,
) -> None:
    # a fleet's listing asks this of every member: a table lookup stands for the matching
    assert pipeline._SINGLE_NAMES[by_name] is not None  # the fast path is in use
    told = {name: pipeline.format_id_for_path(name, by_name) for name in SINGLE_NAMES}
    assert told == {name: pipeline._matched(name, by_name) for name in SINGLE_NAMES}
    assert told["dmesg"] == "show-mem"
    assert told["meminfo"] == ("meminfo" if by_name else None)
    assert told["guest-00001"] is None


def test_every_sample_is_detected_from_its_content_alone() -> None:
    for sample in samples():
        if sample.stem.startswith("bad-"):
            continue
        spec, _ = conformance.detect(sample.read_text(errors="replace"))
        assert spec.id == sample.parent.name, sample


def test_unknown_content_lists_the_known_formats() -> None:
    with pytest.raises(DetectionError) as caught:
        parse("hello world\n")
    assert "hv-balloon" in str(caught.value)


def test_unknown_format_and_dialect_ids() -> None:
    with pytest.raises(UnknownFormatError, match=r"known: .*hv-balloon"):
        parse(HV, format="nope")
    with pytest.raises(UnknownFormatError, match=r"known: 6\.0, rfc"):
        parse(HV, format="hv-balloon", dialect="7.0")


def test_path_is_recorded_in_locations() -> None:
    result = parse(HV.replace("4096", "8192"), path="cap/sys/kernel/debug/hv-balloon")
    assert [str(d.location) for d in result.diagnostics] == ["cap/sys/kernel/debug/hv-balloon:4:25"]


def test_bytes_and_text_give_the_same_result() -> None:
    assert parse(HV.encode()) == parse(HV)


def test_parse_without_validation_skips_the_schema() -> None:
    assert parse(HV.replace("4096", "8192"), validate=False).diagnostics == ()


def test_public_api_names() -> None:
    for name in conformance.__all__:
        assert hasattr(conformance, name), name


def test_the_format_table_names_each_module_and_its_guest_paths() -> None:
    from conformance import formats

    assert [spec.id for spec in formats.FORMATS] == list(formats.format_ids())
    for spec in formats.FORMATS:
        assert formats.get_format(spec.id) is spec
        assert spec.paths == formats.GUEST_PATHS[spec.id]
    with pytest.raises(AttributeError):
        _ = formats.NOTHING  # type: ignore[attr-defined]


def test_a_located_result_keeps_every_field_of_the_parser_s() -> None:
    """parse() copies a result field by field to locate its findings: a field added to
    ParseResult must be copied there too, or this fails."""
    assert [f.name for f in records.fields(ParseResult)] == [
        "format",
        "dialect",
        "instance",
        "source_map",
        "diagnostics",
        "annotations",
    ]
    text = "MemTotal: 1 kB // a note\nMemFree: x kB\n"
    result = parse(text, format="meminfo", path="guest/proc/meminfo")
    assert result.annotations == ((1, "a note"),)
    assert result.diagnostics and all(
        d.location.path == "guest/proc/meminfo" for d in result.diagnostics
    )
    one = parse("0" * 64 + "1\n", format="virtio-features", path="p/features")
    assert [(d.id, d.location.path) for d in one.diagnostics] == [
        ("virtio-features.bad-width", "p/features")
    ]
