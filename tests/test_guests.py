"""Real virtio-balloon guests (issue 8): the accounting rule on the kernels fleets run.

``tests/data/guests`` holds series taken from real guests under QEMU (Debian's 6.1 LTS
kernel, which prints no ``Balloon:`` line, and 7.3.4, which does), with deflate-on-oom off
and on: t0 settled, t1 after inflating by 256 MiB, t2 after deflating back (provenance in
``tests/data/guests/PROVENANCE/README.md``). Untouched, each series checks clean. With a
MemTotal fault seeded into t1 (the driver "forgot" to adjust it, or adjusted it although
DEFLATE_ON_OOM was negotiated), ``virtio.memtotal-accounting`` fails the run on both
kernels, located at t1's MemTotal line: on 6.1 from the vmstat balloon events, on 7.3.4
from the Balloon line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUESTS = ROOT / "tests" / "data" / "guests"
SERIES = sorted(p.name for p in GUESTS.iterdir() if p.name != "PROVENANCE")
TOOL = Path(sys.executable).with_name("balloon-conform")
BALLOON_KB = 256 * 1024


def check(series: Path, *options: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = subprocess.run(
        [str(TOOL), "check", "--series", "--output-format", "json", *options, str(series)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(report: dict, rule: str) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [
        (d["file"], d["line"])
        for capture in report["captures"]
        for d in capture["diagnostics"]
        if d["id"] == rule
    ]


def memtotal(meminfo: Path) -> int:
    found = re.search(r"^MemTotal:\s+(\d+) kB$", meminfo.read_text(), re.MULTILINE)
    assert found
    return int(found.group(1))


def test_the_four_real_series_are_kept() -> None:
    kernels = {name.split("-cloud")[0] for name in SERIES}
    assert SERIES and {k.split(".")[0] for k in kernels} == {"6", "7"}
    assert {name.rsplit("-", 1)[1] for name in SERIES} == {"on", "off"}


@pytest.mark.parametrize("name", SERIES)
def test_untouched_series_check_clean(name: str) -> None:
    status, report = check(GUESTS / name)
    assert status == 0
    assert report["summary"]["errors"] == 0 and report["summary"]["warnings"] == 0
    assert "virtio.memtotal-accounting" in {
        rule for capture in report["captures"] for rule in capture["rules"]
    }


@pytest.mark.parametrize("name", SERIES)
def test_the_balloon_moved_memtotal_as_the_driver_says(name: str) -> None:
    t0, t1 = (memtotal(GUESTS / name / t / "proc/meminfo") for t in ("t0", "t1"))
    assert t0 - t1 == (0 if name.endswith("-on") else BALLOON_KB)


@pytest.mark.parametrize("name", SERIES)
def test_a_seeded_memtotal_fault_fails_on_both_kernels(name: str, tmp_path: Path) -> None:
    series = tmp_path / name
    shutil.copytree(GUESTS / name, series)
    meminfo = series / "t1/proc/meminfo"
    text = meminfo.read_text()
    before = memtotal(meminfo)
    # without deflate-on-oom the driver must take the balloon out of MemTotal: put it
    # back; with it, MemTotal must stay: take the balloon out
    wrong = before + BALLOON_KB if name.endswith("-off") else before - BALLOON_KB
    meminfo.write_text(text.replace(f"{before} kB", f"{wrong} kB", 1))
    status, report = check(series)
    assert status == 1
    located = findings(report, "virtio.memtotal-accounting")
    assert (str(series / "t1/proc/meminfo"), 1) in located
