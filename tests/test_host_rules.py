"""The host-truth rules (conformance.rules.host_rules) on the real series that
``balloon-conform run`` wrote (tests/data/runs, see its README.md): clean as taken, and
each rule finding, located, what a perturbed copy of a guest file or of the host record
breaks. Captures without a host record skip the rules with the reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from conformance.capture import read_capture
from conformance.check import CheckOptions, check_series
from conformance.cli_check import run_explain
from conformance.report.model import CaptureResult
from conformance.rules import RULES, get_rule
from conformance.rules.host_rules import BATCH_KB

RUNS = Path(__file__).parent / "data" / "runs"
GUESTS = Path(__file__).parent / "data" / "guests"
SERIES = sorted(p.name for p in RUNS.iterdir() if p.is_dir())
HOST_RULES = ("host.balloon-size", "host.features", "host.guest-stats", "host.target-reached")
FEATURES = "sys/bus/virtio/devices/virtio0/features"


def checked(series: Path) -> list[CaptureResult]:
    snapshots = sorted(series.glob("t*"), key=lambda p: int(p.name[1:]))
    return check_series([read_capture(p) for p in snapshots], CheckOptions())


def findings(series: Path, rule: str | None = None) -> list[tuple[str, str, int, int, str]]:
    """(rule, path below the series, line, column, message) of every finding."""
    out = []
    for result in checked(series):
        for d in result.diagnostics:
            if rule is None or d.id == rule:
                where = d.location.path.replace(str(series) + "/", "")
                out.append((d.id, where, d.location.line, d.location.column, d.message))
    return out


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(RUNS / name, target)
    return target


def edit_host(series: Path, tag: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = series / tag / "capture.json"
    manifest = json.loads(path.read_text())
    change(manifest["host"])
    path.write_text(json.dumps(manifest, indent=2))


def test_the_kept_runs_are_the_four_series_of_the_readme() -> None:
    assert SERIES == [
        "6.1.0-57-cloud-amd64-doo-off",
        "6.1.0-57-cloud-amd64-doo-on",
        "7.3.4+deb13-cloud-amd64-doo-off",
        "7.3.4+deb13-cloud-amd64-doo-on",
    ]
    readme = (RUNS / "README.md").read_text()
    assert all(name in readme for name in SERIES)


@pytest.mark.parametrize("name", SERIES)
def test_real_runs_are_clean_and_every_host_rule_ran(name: str) -> None:
    results = checked(RUNS / name)
    assert [d for r in results for d in r.diagnostics] == []
    captures = [r for r in results if not r.series]
    assert len(captures) == 3
    for result in captures:
        assert set(HOST_RULES) <= set(result.rules), result.name
        assert not {s.rule for s in result.skipped} & set(HOST_RULES)


def test_balloon_size_from_vmstat_events_before_6_15(tmp_path: Path) -> None:
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-on")
    edit_host(series, "t1", lambda host: host.update(actual=host["actual"] + (64 << 20)))
    found = findings(series, "host.balloon-size")
    line = _line_of(series / "t1/proc/vmstat", "balloon_inflate ")
    assert found == [
        (
            "host.balloon-size",
            "t1/proc/vmstat",
            line,
            17,
            "the guest's balloon is 131072 kB (balloon_inflate - balloon_deflate) but the host "
            "saw 65536 kB (memory 536870912 - actual 469762048 bytes)",
        )
    ]


def test_balloon_size_from_the_balloon_line_on_7_3(tmp_path: Path) -> None:
    series = copy(tmp_path, "7.3.4+deb13-cloud-amd64-doo-off")
    meminfo = series / "t1/proc/meminfo"
    meminfo.write_text(meminfo.read_text().replace("Balloon:          131072 kB",
                                                   "Balloon:          129024 kB"))  # fmt: skip
    found = findings(series, "host.balloon-size")
    assert [(f[0], f[1], f[2]) for f in found] == [
        ("host.balloon-size", "t1/proc/meminfo", _line_of(meminfo, "Balloon:"))
    ]
    assert "129024 kB (Balloon) but the host saw 131072 kB" in found[0][4]


def test_balloon_size_allows_one_batch_and_no_more(tmp_path: Path) -> None:
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-off")
    edit_host(series, "t1", lambda host: host.update(actual=host["actual"] + BATCH_KB * 1024))
    edit_host(
        series, "t2", lambda host: host.update(actual=host["actual"] - BATCH_KB * 1024 - 4096)
    )
    found = findings(series, "host.balloon-size")
    assert [f[1] for f in found] == ["t2/proc/vmstat"]


@pytest.mark.parametrize("where", ["guest", "host"])
def test_a_feature_bit_that_differs_from_the_device_options(tmp_path: Path, where: str) -> None:
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-on")
    if where == "guest":
        features = series / "t2" / FEATURES
        bits = features.read_text()
        features.write_text(bits[:2] + "0" + bits[3:])
        expected = "is clear in the guest, but the device was started with deflate-on-oom=on"
        tags = ["t2"]
    else:
        for tag in ("t0", "t1", "t2"):
            edit_host(
                series,
                tag,
                lambda host: host["device_options"].update({"free-page-reporting": "on"}),
            )
        expected = "bit 5 (VIRTIO_BALLOON_F_REPORTING) is clear in the guest, but the device "
        expected += "was started with free-page-reporting=on"
        tags = ["t0", "t1", "t2"]
    found = findings(series, "host.features")
    assert [(f[1], f[2], f[3]) for f in found] == [
        (f"{tag}/{FEATURES}", 1, 3 if where == "guest" else 6) for tag in tags
    ]
    assert all(expected in f[4] for f in found)


@pytest.mark.parametrize(
    ("stat", "value", "field"),
    [
        ("stat-free-memory", 0, "MemFree"),
        ("stat-total-memory", 1 << 30, "MemTotal"),
        ("stat-minor-faults", 10**9, "pgfault"),
    ],
)
def test_a_guest_stat_that_differs_from_the_guests_files(
    tmp_path: Path, stat: str, value: int, field: str
) -> None:
    series = copy(tmp_path, "7.3.4+deb13-cloud-amd64-doo-on")
    edit_host(series, "t1", lambda host: host["guest_stats"]["stats"].update({stat: value}))
    found = findings(series, "host.guest-stats")
    guest_file = "proc/vmstat" if field == "pgfault" else "proc/meminfo"
    assert [(f[1], f[2]) for f in found] == [
        (
            f"t1/{guest_file}",
            _line_of(series / "t1" / guest_file, field + (" " if field == "pgfault" else ":")),
        )
    ]
    assert f"the guest sent the host {stat} {value}" in found[0][4]


def test_a_guest_file_that_differs_from_the_stats_sent(tmp_path: Path) -> None:
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-off")
    meminfo = series / "t0/proc/meminfo"
    lines = meminfo.read_text().splitlines(keepends=True)
    number = _line_of(meminfo, "MemAvailable:")
    lines[number - 1] = "MemAvailable:      12345 kB\n"
    meminfo.write_text("".join(lines))
    found = findings(series, "host.guest-stats")
    assert [(f[1], f[2]) for f in found] == [("t0/proc/meminfo", number)]
    assert "stat-available-memory" in found[0][4] and "MemAvailable 12345" in found[0][4]


def test_a_target_not_reached_is_a_finding_at_the_host_record(tmp_path: Path) -> None:
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-off")
    edit_host(series, "t1", lambda host: host.update(target_reached=False))
    found = findings(series, "host.target-reached")
    assert [(f[1], f[2]) for f in found] == [("t1/capture.json", 0)]
    assert "asked 402653184 bytes" in found[0][4]


@pytest.mark.parametrize(
    ("doo", "low", "expected"), [("on", True, 0), ("on", False, 1), ("off", True, 1)]
)
def test_refusal_is_documented_only_short_of_memory_with_deflate_on_oom(
    tmp_path: Path, doo: str, low: bool, expected: int
) -> None:
    """A balloon short of its target (actual above it) is the guest's right only with
    DEFLATE_ON_OOM and MemAvailable below 5% of MemTotal."""
    series = copy(tmp_path, f"6.1.0-57-cloud-amd64-doo-{doo}")
    edit_host(
        series, "t1", lambda host: host.update(target_reached=False, requested_target=1 << 20)
    )
    if low:
        meminfo = series / "t1/proc/meminfo"
        lines = meminfo.read_text().splitlines(keepends=True)
        lines[_line_of(meminfo, "MemAvailable:") - 1] = "MemAvailable:       1024 kB\n"
        meminfo.write_text("".join(lines))
    assert len(findings(series, "host.target-reached")) == expected


def test_captures_without_a_host_record_skip_with_the_reason(tmp_path: Path) -> None:
    results = checked(GUESTS / "6.1.0-57-cloud-amd64-doo-on")
    skipped = {s.rule: s.reason for r in results for s in r.skipped}
    assert "guest_stats" in skipped["host.guest-stats"]  # taken before stats were polled
    assert "host.balloon-size" not in skipped  # its host record has memory and actual
    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-on")
    for tag in ("t0", "t1", "t2"):
        path = series / tag / "capture.json"
        manifest = json.loads(path.read_text())
        del manifest["host"]
        path.write_text(json.dumps(manifest))
    reasons = {(r.name, s.rule): s.reason for r in checked(series) for s in r.skipped}
    for tag in ("t0", "t1", "t2"):
        for rule in HOST_RULES:
            assert reasons[(str(series / tag), rule)].startswith("capture.json has no host record")


def test_the_host_rules_are_catalogued_and_explained(capsys: pytest.CaptureFixture[str]) -> None:
    ids = [rule.id for rule in RULES]
    assert all(rule in ids for rule in HOST_RULES)
    assert "1 MiB" in get_rule("host.balloon-size").tolerance
    for rule in HOST_RULES:
        assert get_rule(rule).example and get_rule(rule).source
        assert run_explain(_args(rule)) == 0
        out = capsys.readouterr().out
        assert out.startswith(rule + "\n") and "example of a violation" in out


def _args(rule: str) -> Any:
    import argparse

    return argparse.Namespace(rule=rule)


def _line_of(path: Path, start: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith(start):
            return number
    raise AssertionError(f"{path}: no line starting {start!r}")


HOSTILE = [None, True, -1, 2**70, "x", [], {}, [1], {"a": 1}, 1.5]
HOST_KEYS = [
    "memory",
    "actual",
    "requested_target",
    "target_reached",
    "polls",
    "device_options",
    "guest_stats",
    "guest_stats.stats",
    "guest_stats.fresh",
    "guest_stats.stats.stat-free-memory",
    "device_options.deflate-on-oom",
]


@pytest.mark.parametrize("key", HOST_KEYS)
def test_a_host_record_of_the_wrong_shape_is_a_finding_never_a_crash(
    tmp_path: Path, key: str
) -> None:
    """A capture is untrusted, its capture.json too: a host member of any other type is
    a finding of capture.json (capture.manifest), and the host rules skip saying why."""
    name = "6.1.0-57-cloud-amd64-doo-on"
    for n, value in enumerate(HOSTILE):
        series = copy(tmp_path / str(n), name)

        def change(record: dict[str, Any], value: Any = value) -> None:
            *parents, last = key.split(".")
            for part in parents:
                record = record[part]
            record[last] = value

        edit_host(series, "t1", change)
        results = checked(series)
        t1 = next(r for r in results if r.name.endswith("/t1"))
        skipped = {s.rule: s.reason for s in t1.skipped}
        found = [d for d in t1.diagnostics if d.id == "capture.manifest"]
        if found:
            assert {d.location.path for d in found} == {f"{series}/t1/capture.json"}
            assert all(d.message.startswith("$.host.") for d in found), (key, value)
            assert all("does not follow capture.schema.json" in skipped[r] for r in HOST_RULES)
        else:  # a value the schema allows there (a dict of options, an empty map)
            assert not any("does not follow" in reason for reason in skipped.values())


@pytest.mark.parametrize("apart", [-1, 0, 1])
def test_a_memory_size_sent_may_drift_up_to_the_documented_tolerance(
    tmp_path: Path, apart: int
) -> None:
    """stat-free-memory against MemFree: within max(16 MiB, 5%) is drift (a deflate was
    measured to leave 7.6 MiB), one byte more is a finding."""
    from conformance.rules.host_rules import LEVEL_DRIFT, LEVEL_SHARE

    series = copy(tmp_path, "6.1.0-57-cloud-amd64-doo-on")
    meminfo = (series / "t1/proc/meminfo").read_text()
    free = int(meminfo.split("MemFree:", 1)[1].split()[0]) * 1024
    assert LEVEL_SHARE * free < LEVEL_DRIFT  # this guest is small: 16 MiB is the bound
    sent = free - LEVEL_DRIFT - apart
    edit_host(
        series, "t1", lambda host: host["guest_stats"]["stats"].update({"stat-free-memory": sent})
    )
    found = findings(series, "host.guest-stats")
    assert len(found) == (1 if apart > 0 else 0), found
