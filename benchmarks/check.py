"""Captures per second and CPU per capture of ``balloon-conform check``, beside its baselines.

Run: ``.venv/bin/python benchmarks/check.py [--count 10000] [--rounds 3] [--scale 1000,3000]
[--python PATH] [--json]`` (about ten minutes at the defaults; 10,000 is the fleet size of
issue #14)

Two fleets of ``--count`` captures are generated in a temporary directory, each capture
with its own numbers (MemFree varied): ``machine``, copies of this project's own machine
(``examples/fleet/virtio-6.18-firecracker``: meminfo, vmstat, the virtio balloon's
features and device files, capture.json), and ``mixed``, the four example guests of
``examples/fleet`` in turn. On each fleet, each pipeline in a fresh process (so start-up
is included), the CPU being user + system time of the process and its children:

* ``check``: ``balloon-conform check`` serially, JSON report to /dev/null;
* ``check -j 2``: the same with two worker processes;
* ``jc + jsonschema``: what a user reusing our schemas would write: jc's ``proc_meminfo``
  parser and one reused python-jsonschema validator of the exported meminfo schema (its
  references resolved through a registry of the exported files), meminfo only;
* ``jc + jsonschema-rs``: the same with jsonschema-rs over the bundled export;
* ``read floor``: read every file of every capture, nothing else;
* ``read+split+int floor``: read meminfo, vmstat and the virtio features, split the
  lines and ``int()`` every value.

Then ``check`` and ``check -j 2`` alone on smaller fleets of the machine's capture (the
sizes of ``--scale``, and one capture): how ``-j 2`` scales below 10,000 captures, beside
the most it could (the fixed cost of a run, what checking one capture costs, is paid
once either way; only the rest is shared by two workers), and beside what two processes
reach on this machine at that moment: two serial checks started at once, each naming
half the captures (``2 checks of halves``, what ``xargs -P 2`` would do).

Each pipeline runs ``--rounds`` times, all of them in turn within a round; its row gives
the least seconds and CPU of its rounds (and the median CPU), and the ratios are of those:
on a shared machine a spell of load only ever adds time, and it falls on the pipelines of
a round alike.

``--python`` measures another environment (e.g. the main branch's ``.venv/bin/python``):
its ``balloon-conform``, its conformance for the export, its jc and jsonschema.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GUESTS = sorted(p for p in (ROOT / "examples" / "fleet").iterdir() if p.is_dir())
MACHINE = ROOT / "examples" / "fleet" / "virtio-6.18-firecracker"
MEMFREE = re.compile(r"^(MemFree:\s+)(\d+)", re.MULTILINE)

JC_JSONSCHEMA = """
import json, sys, pathlib
from jc.parsers import proc_meminfo
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
export = pathlib.Path(sys.argv[2]) / "schemas"
docs = [json.loads(p.read_text()) for p in export.rglob("*.schema.json")]
registry = Registry().with_resources((d["$id"], DRAFT202012.create_resource(d)) for d in docs)
validator = Draft202012Validator(
    json.loads((export / "meminfo.schema.json").read_text()), registry=registry
)
bad = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/proc/meminfo")):
    bad += not validator.is_valid(proc_meminfo.parse(path.read_text(), quiet=True))
print(bad)
"""

JC_JSONSCHEMA_RS = """
import json, sys, pathlib
from jc.parsers import proc_meminfo
import jsonschema_rs
bundled = pathlib.Path(sys.argv[2]) / "bundled" / "meminfo.schema.json"
validator = jsonschema_rs.validator_for(json.loads(bundled.read_text()))
bad = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/proc/meminfo")):
    bad += not validator.is_valid(proc_meminfo.parse(path.read_text(), quiet=True))
print(bad)
"""

READ_FLOOR = """
import os, sys
total = 0
for top, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        with open(os.path.join(top, name), "rb") as stream:
            total += len(stream.read())
print(total)
"""

SPLIT_INT_FLOOR = """
import pathlib, sys
total = 0
for capture in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    for name in ("proc/meminfo", "proc/vmstat"):
        path = capture / name
        if path.is_file():
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    total += int(parts[1])
    for path in capture.glob("sys/bus/virtio/**/features"):
        total += int(path.read_text().strip() or "0", 2)
print(total % 1000)
"""

MEASURE = """
import resource, subprocess, sys, time
commands, command = [], []
for word in sys.argv[1:]:  # commands that run at once, separated by a lone AND
    if word == AND:
        commands.append(command)
        command = []
    else:
        command.append(word)
commands.append(command)
start = time.perf_counter()
running = [subprocess.Popen(argv, stdout=subprocess.DEVNULL) for argv in commands]
status = max(process.wait() for process in running)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, status)
""".replace("AND", repr("--and--"))
AND = "--and--"
"""The word between commands that :func:`measure` runs at once."""


def make_fleet(directory: Path, count: int, templates: list[Path]) -> None:
    """``count`` captures copied from ``templates`` in turn, MemFree varied in each."""
    rng = random.Random(42)
    for index in range(count):
        guest = directory / f"guest-{index:05d}"
        shutil.copytree(templates[index % len(templates)], guest)
        meminfo = guest / "proc" / "meminfo"
        if meminfo.is_file():
            meminfo.write_text(MEMFREE.sub(lambda m: _vary(m, rng), meminfo.read_text(), 1))


def _vary(match: re.Match[str], rng: random.Random) -> str:
    """A smaller MemFree, right-aligned in the same columns as the kernel's."""
    label, digits = match.group(1), match.group(2)
    return label + str(max(0, int(digits) - rng.randrange(0, 1_000_000))).rjust(len(digits))


def measure(python: Path, argv: list[str]) -> dict[str, float]:
    """Seconds, CPU seconds, peak resident KiB and exit status of ``argv`` in a new process
    (of the commands in ``argv`` separated by :data:`AND`, all started at once: the
    seconds until the last ends, their CPU together, the largest peak and status)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "balloon-bench-pyc"))
    out = subprocess.run(
        [str(python), "-c", MEASURE, *argv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",  # never import the package from the source tree by accident
    )
    seconds, cpu, peak, status = out.stdout.split()
    return {"seconds": float(seconds), "cpu": float(cpu), "peak": int(peak), "status": int(status)}


def pipelines(python: Path, fleet: Path, export: Path) -> dict[str, list[str]]:
    tool = str(python.with_name("balloon-conform"))
    check = [tool, "check", "--output-format", "json", "--output", "/dev/null"]
    script = [str(python), "-c"]
    return {
        "check": [*check, str(fleet)],
        "check -j 2": [*check, "-j", "2", str(fleet)],
        "jc + jsonschema": [*script, JC_JSONSCHEMA, str(fleet), str(export)],
        "jc + jsonschema-rs": [*script, JC_JSONSCHEMA_RS, str(fleet), str(export)],
        "read floor": [*script, READ_FLOOR, str(fleet)],
        "read+split+int floor": [*script, SPLIT_INT_FLOOR, str(fleet)],
    }


HALVES = "2 checks of halves"


def halves(python: Path, fleet: Path) -> list[str]:
    """Two serial checks at once, each of half the captures, named one by one: what two
    processes reach on this machine (both pay the fixed cost, at the same time, and
    nothing is shared), the most ``-j 2`` could be expected to."""
    tool = str(python.with_name("balloon-conform"))
    check = [tool, "check", "--output-format", "json", "--output", "/dev/null"]
    members = sorted(str(p) for p in fleet.iterdir())
    middle = len(members) // 2
    return [*check, *members[:middle], AND, *check, *members[middle:]]


def run(python: Path, count: int, rounds: int, scale: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Each pipeline on each fleet, ``rounds`` times, the pipelines in turn within a round
    so that a spell of load on a shared machine falls on all of them alike; a row per
    pipeline with the best (least) figures of its rounds, and the median CPU. Then
    ``check`` and ``check -j 2`` alone on smaller fleets of this machine's capture, one
    per size in ``scale``, and on a fleet of one capture (what any run costs at least)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export"
        tool = python.with_name("balloon-conform")
        subprocess.run([str(tool), "schema", "export", str(export)], check=True, cwd="/")
        warm = Path(tmp) / "warm"
        make_fleet(warm, len(GUESTS), GUESTS)
        for label, argv in pipelines(python, warm, export).items():  # fill the byte-code cache
            # a baseline that fails measures nothing: stop rather than print its figures
            if not label.startswith("check") and measure(python, argv)["status"] != 0:
                raise SystemExit(f"the {label!r} pipeline failed on a clean fleet: {argv}")
        sizes = [("machine", count, [MACHINE]), ("mixed", count, GUESTS)]
        sizes += [(f"machine-{n}", n, [MACHINE]) for n in [1, *scale]]
        for fleet_name, size, templates in sizes:
            fleet = Path(tmp) / fleet_name
            make_fleet(fleet, size, templates)
            runs: dict[str, list[dict[str, float]]] = {}
            chosen = pipelines(python, fleet, export)
            if size != count:  # only the start-up and the scaling of check
                chosen = {k: v for k, v in chosen.items() if k.startswith("check")}
                if size > 1:
                    chosen[HALVES] = halves(python, fleet)
            for _ in range(rounds):
                for label, argv in chosen.items():
                    runs.setdefault(label, []).append(measure(python, argv))
            for label, measured in runs.items():
                best = {key: min(m[key] for m in measured) for key in ("seconds", "cpu", "peak")}
                rows.append(
                    {
                        "fleet": fleet_name,
                        "pipeline": label,
                        "captures": size,
                        "rounds": rounds,
                        **best,
                        "median_cpu": statistics.median(m["cpu"] for m in measured),
                        "status": max(m["status"] for m in measured),
                    }
                )
            shutil.rmtree(fleet)
    return rows


def ratios(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for fleet in sorted({row["fleet"] for row in rows}, key=_fleet_order):
        by = {row["pipeline"]: row for row in rows if row["fleet"] == fleet}
        rate = {label: row["captures"] / row["seconds"] for label, row in by.items()}
        cpu = {label: row["cpu"] / row["captures"] for label, row in by.items()}
        if "jc + jsonschema" not in by:  # a fleet for the scaling of check alone
            if by["check"]["captures"] > 1:
                lines.append(_scaling(fleet, by, rows))
            continue
        lines += [
            f"{fleet}: check is {cpu['jc + jsonschema'] / cpu['check']:.2f}x as fast as "
            f"jc + jsonschema by CPU per capture, "
            f"{rate['check'] / rate['jc + jsonschema']:.2f}x by captures/s",
            f"{fleet}: check CPU per capture is "
            f"{cpu['check'] / cpu['read+split+int floor']:.2f}x the read+split+int floor's",
            f"{fleet}: check -j 2 rate is {rate['check -j 2'] / rate['check']:.2f}x serial",
        ]
    return lines


def _fleet_order(fleet: str) -> tuple[int, str]:
    name, _, size = fleet.partition("-")
    return (int(size) if size else 0, name)


def _scaling(fleet: str, by: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """``-j 2`` against serial on a smaller fleet, beside the most it could be: a run's
    fixed cost (start-up, imports, the first capture: ``check`` of one capture) is paid
    once either way, and only the rest is shared by the workers (Amdahl)."""
    one = next(r for r in rows if r["fleet"] == "machine-1" and r["pipeline"] == "check")
    full = next(r for r in rows if r["fleet"] == "machine" and r["pipeline"] == "check")
    fixed = one["seconds"]
    each = (full["seconds"] - fixed) / full["captures"]
    count = by["check"]["captures"]
    ideal = (fixed + count * each) / (fixed + count * each / 2)
    measured = by["check"]["seconds"] / by["check -j 2"]["seconds"]
    two = by["check"]["seconds"] / by[HALVES]["seconds"]
    return (
        f"{fleet}: check -j 2 rate is {measured:.2f}x serial (at most {ideal:.2f}x: "
        f"{fixed * 1000:.0f} ms of a run are fixed, {each * 1000:.3f} ms per capture; "
        f"two serial checks of half the fleet at once: {two:.2f}x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="captures in each fleet")
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each pipeline, in turn; the best counts"
    )
    parser.add_argument(
        "--scale",
        default="1000,3000",
        help="sizes of the smaller fleets check -j 2 is also measured on (comma separated)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    scale = [int(n) for n in args.scale.split(",") if n.strip()]
    before = os.getloadavg()
    rows = run(args.python, args.count, args.rounds, scale)
    after = os.getloadavg()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(
            f"{row['fleet']:<13} {row['pipeline']:<22} {row['captures']:>6} captures "
            f"{row['seconds']:>7.2f} s {row['captures'] / row['seconds']:>8.1f}/s  "
            f"CPU {row['cpu'] / row['captures'] * 1000:>7.3f} ms/capture "
            f"(median {row['median_cpu'] / row['captures'] * 1000:.3f})  "
            f"peak {row['peak'] / 1024:>6.1f} MiB  exit {row['status']}"
        )
    print("\n".join(ratios(rows)))
    # the rates (captures/s, -j 2 against serial) mean something only on an idle machine;
    # CPU per capture holds on a shared one
    print(
        f"load average (1, 5, 15 min) on {os.cpu_count()} CPUs: before "
        f"{', '.join(f'{x:.2f}' for x in before)}; after {', '.join(f'{x:.2f}' for x in after)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
