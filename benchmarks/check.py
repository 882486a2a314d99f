"""Captures per second and peak memory of ``balloon-conform check`` on a generated fleet.

Run: ``.venv/bin/python benchmarks/check.py [--count 10000] [--json]``

A fleet of ``--count`` captures is generated in a temporary directory from
``examples/fleet/virtio-6.18-firecracker`` (this project's own machine: meminfo, vmstat,
the virtio balloon's features and device files, capture.json), each with different
numbers. Then, each in a fresh process, so the figures include start-up and the peak
resident memory is the run's own:

* ``balloon-conform check`` serially and with ``-j 2`` (JSON report to /dev/null);
* the same serially on a tenth of the fleet: peak memory should not grow with the fleet;
* the pipeline a user would otherwise write: jc's ``proc_meminfo`` parser and one reused
  ``jsonschema`` validator of the published meminfo schema (its references resolved
  through a registry) over every capture's meminfo only;
* ``balloon-conform --version``, the console script's start-up time (median of 10).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "fleet" / "virtio-6.18-firecracker"
TOOL = Path(sys.executable).with_name("balloon-conform")

BASELINE = """
import sys, pathlib
from jc.parsers import proc_meminfo
from jsonschema import Draft202012Validator
from conformance import schemas, get_format
name = get_format("meminfo").schema
validator = Draft202012Validator(schemas.document(name), registry=schemas.registry())
bad = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/proc/meminfo")):
    bad += bool(list(validator.iter_errors(proc_meminfo.parse(path.read_text(), quiet=True))))
print(bad)
"""

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(seconds, peak_kib, done.returncode)
"""


def make_fleet(directory: Path, count: int) -> None:
    """``count`` captures like the template, with their free memory varied."""
    meminfo = (TEMPLATE / "proc" / "meminfo").read_text()
    free = int(meminfo.split("MemFree:", 1)[1].split()[0])
    rng = random.Random(42)
    for index in range(count):
        guest = directory / f"guest-{index:05d}"
        shutil.copytree(TEMPLATE, guest)
        value = free - rng.randrange(0, 1_000_000)
        text = meminfo.replace(f"MemFree:        {free:>8} kB", f"MemFree:        {value:>8} kB")
        (guest / "proc" / "meminfo").write_text(text)


def measure(argv: list[str]) -> tuple[float, int, int]:
    """(seconds, peak resident KiB, exit status) of one command in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
    )
    seconds, peak, status = out.stdout.split()
    return float(seconds), int(peak), int(status)


def startup() -> float:
    times = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([str(TOOL), "--version"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(count: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        make_fleet(small, max(1, count // 10))
        make_fleet(large, count)
        check = [str(TOOL), "check", "--output-format", "json", "--output", "/dev/null"]
        cases = [
            ("balloon-conform check", count, [*check, str(large)]),
            ("balloon-conform check -j 2", count, [*check, "-j", "2", str(large)]),
            ("balloon-conform check (a tenth)", max(1, count // 10), [*check, str(small)]),
            (
                "jc + reused jsonschema, meminfo only",
                count,
                [sys.executable, "-c", BASELINE, str(large)],
            ),
        ]
        for label, captures, argv in cases:
            seconds, peak, status = measure(argv)
            rows.append(
                {
                    "pipeline": label,
                    "captures": captures,
                    "seconds": round(seconds, 2),
                    "captures_per_second": round(captures / seconds, 1),
                    "peak_rss_mib": round(peak / 1024, 1),
                    "exit_status": status,
                }
            )
    rows.append({"pipeline": "balloon-conform --version", "seconds": round(startup(), 3)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="captures in the fleet")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(args.count)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        if "captures" in row:
            print(
                f"{row['pipeline']:<38} {row['captures']:>6} captures {row['seconds']:>8.2f} s "
                f"{row['captures_per_second']:>8.1f}/s  peak {row['peak_rss_mib']:>6.1f} MiB"
            )
        else:
            print(f"{row['pipeline']:<38} start-up {row['seconds'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
