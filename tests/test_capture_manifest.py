"""capture.json is untrusted: each member that is not valid is a located error, and unused.

A member that breaks capture.schema.json, a ``time`` that is no date and time, a name
given twice: each is a ``capture.manifest`` error at the line of its name, and nothing
after the reader sees it (not the rules' page size, not the series' order).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.capture import capture_from_files, read_capture
from conformance.capture_manifest import is_date_time, read_manifest
from conformance.check import CheckOptions, check_capture, view_of
from conformance.cli import main
from conformance.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parents[1]
HYPERV = ROOT / "examples" / "fleet" / "hyperv-6.15-balloon-up"  # 262144 balloon pages
WHERE = "cap/capture.json"


def _read(text: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    return read_manifest(text.encode("utf-8"), WHERE)


def _located(found: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.id, d.location.line, d.location.column) for d in found]


def test_a_time_that_is_no_date_and_time_is_an_error_and_not_used() -> None:
    manifest, found = _read('{\n  "kernel_release": "6.15.0",\n  "time": "garbage"\n}\n')
    assert manifest == {"kernel_release": "6.15.0"}
    assert _located(found) == [("capture.manifest", 3, 3)]
    assert found[0].message.startswith("$.time: 'garbage', but time is a date and time")
    assert found[0].location.path == WHERE


@pytest.mark.parametrize(
    ("value", "sound"),
    [
        ("2026-11-27T17:50:00+00:00", True),
        ("2026-11-27T17:50:00Z", True),
        ("2026-11-27T17:50:00.250000-05:30", True),
        ("2026-11-27T17:50:00", False),  # no zone: the schema's date-time has one
        ("2026-13-27T17:50:00Z", False),
        ("2026-11-27", False),
        ("yesterday, about noon", False),
        ("\uff12\uff10\uff12\uff16-11-27T17:50:00Z", False),  # fullwidth digits
        ("", False),
    ],
)
def test_what_a_time_may_be(value: str, sound: bool) -> None:
    assert is_date_time(value) is sound


def _series(tmp_path: Path, times: list[str]) -> list[Path]:
    snapshots = []
    for index, when in enumerate(times):
        snapshot = tmp_path / "series" / f"t{index}"
        shutil.copytree(HYPERV, snapshot)
        manifest = json.loads((snapshot / "capture.json").read_text())
        (snapshot / "capture.json").write_text(json.dumps({**manifest, "time": when}))
        snapshots.append(snapshot)
    return snapshots


def test_a_series_with_a_time_that_is_not_one_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One garbage time is no time: the series is in name order, as when a snapshot has
    none, and the report says which time was not used (before, it was silent)."""
    t0, t1 = _series(tmp_path, ["2026-12-01T10:00:00+00:00", "garbage"])
    main(["check", "--series", "--output-format", "json", str(t0), str(t1)])
    report = json.loads(capsys.readouterr().out)
    found = [
        (c["name"], d["file"], d["line"], d["message"].split(":")[0])
        for c in report["captures"]
        for d in c["diagnostics"]
        if d["id"] == "capture.manifest"
    ]
    assert found == [(str(t1), f"{t1}/capture.json", 1, "$.time")]
    assert [c["name"] for c in report["captures"]][:2] == [str(t0), str(t1)]


def test_a_name_given_twice_is_an_error_and_neither_value_is_used() -> None:
    text = '{\n  "kernel_release": "6.1.0",\n  "page_size": 4096,\n  "kernel_release": "6.18.0"\n}'
    manifest, found = _read(text)
    assert manifest == {"page_size": 4096}
    assert _located(found) == [("capture.manifest", 4, 3)]
    assert found[0].message == (
        "$.kernel_release: given 2 times (lines 2, 4); JSON does not say which counts"
    )
    assert "not used" in found[0].hint


def test_a_name_given_twice_inside_a_record_leaves_the_record_out() -> None:
    text = (
        '{"page_size": 4096,\n "files": {"proc/meminfo": {"status": "absent", "status": "read"}}}'
    )
    manifest, found = _read(text)
    assert manifest == {"page_size": 4096}
    assert _located(found) == [("capture.manifest", 2, 2)]
    assert found[0].message == "$.files: a name is given more than once inside it ('status')"


def test_a_name_given_twice_chooses_no_rules(tmp_path: Path) -> None:
    """Before, the last of two kernel releases chose the rules, silently."""
    cap = tmp_path / "cap"
    shutil.copytree(HYPERV, cap)
    text = '{"kernel_release": "6.1.0",\n"kernel_release": "6.15.0"}'
    (cap / "capture.json").write_text(text)
    view = view_of(read_capture(cap, name="cap"), CheckOptions())
    assert view.kernel is None


@pytest.mark.parametrize("page_size", [True, 4000, "4096", 0])
def test_a_page_size_that_breaks_the_schema_is_reported_and_not_used(
    tmp_path: Path, page_size: Any
) -> None:
    """Before, ``true`` was both a capture.json error and the page size of the rules:
    'nr_balloon_pages 262144 x True bytes is 256 kB'."""
    cap = tmp_path / "cap"
    shutil.copytree(HYPERV, cap)
    manifest = json.loads((cap / "capture.json").read_text())
    before = check_capture(read_capture(cap, name="cap"))
    (cap / "capture.json").write_text(json.dumps({**manifest, "page_size": page_size}, indent=2))
    after = check_capture(read_capture(cap, name="cap"))
    said = [d for d in after.diagnostics if d.id == "capture.manifest"]
    assert {d.message.split(":")[0] for d in said} == {"$.page_size"}
    assert {(d.location.path, d.location.line) for d in said} == {(WHERE, 4)}
    # the rules went on as without a page size (4096): the same findings as before
    assert [d for d in after.diagnostics if d.id != "capture.manifest"] == list(before.diagnostics)
    assert view_of(read_capture(cap, name="cap"), CheckOptions()).page_size == 4096


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("kernel_release", ""),
        ("architecture", 64),
        ("hypervisor", "qemu"),
        ("series_index", -1),
        ("series_index", True),
        ("boot_id", "not-a-uuid"),
        ("uptime", -5),
        ("uptime", "5321.07"),
        ("tool_version", ["0.1"]),
    ],
)
def test_each_plain_member_that_is_not_valid_is_left_out(member: str, value: Any) -> None:
    text = json.dumps({"page_size": 4096, member: value}, indent=1)
    manifest, found = _read(text)
    assert manifest == {"page_size": 4096}
    assert found and {(d.location.line, d.message.split(":")[0]) for d in found} == {
        (3, f"$.{member}")
    }


def test_a_record_that_breaks_the_schema_is_left_to_the_check() -> None:
    """A host record is read by the rules only through CaptureView.sound_manifest: the
    check says where inside it is wrong, and the host rules that it is malformed."""
    manifest = {"host": {"step": 1}, "page_size": 4096}
    capture = capture_from_files({"capture.json": json.dumps(manifest).encode()}, name="cap")
    assert capture.manifest == manifest
    assert capture.diagnostics == ()
    found = [d.message for d in check_capture(capture).diagnostics if d.id == "capture.manifest"]
    assert "$.host.step: 1 is not of type 'string'" in found


@pytest.mark.parametrize(
    "text", ['{"uptime": NaN}', '{"uptime": -Infinity}', "\ufeff{}", "[]", '{"a": 1} x', "{"]
)
def test_what_is_not_a_json_object_is_no_manifest(text: str) -> None:
    manifest, found = _read(text)
    assert manifest is None
    assert [(d.id, d.location.path, d.location.line) for d in found] == [
        ("capture.manifest", WHERE, 0)
    ]


def test_names_that_are_not_plain_are_quoted_and_a_valid_manifest_is_kept_whole() -> None:
    manifest = {
        "tool": "balloon-conform",
        "time": "2026-11-27T17:50:00+00:00",
        "x-extra": {"a": [1, {"b": None}]},
        "page_size": 65536,
        "files": {"proc/meminfo": {"status": "read", "bytes": 1467}},
    }
    assert _read(json.dumps(manifest, indent=4)) == (manifest, [])
    assert _read(json.dumps(manifest)) == (manifest, [])
    _, found = _read('{"it\'s": 1, "it\'s": 2}')
    assert found[0].message.startswith("$['it\\'s']: given 2 times")


def test_a_large_manifest_on_one_line_is_located_by_column() -> None:
    members = {f"m{i}": i for i in range(20_000)}
    text = json.dumps({**members, "time": "soon"})
    manifest, found = _read(text)
    assert manifest == members
    assert [(d.location.line, d.location.column) for d in found] == [(1, text.index('"time"') + 1)]
