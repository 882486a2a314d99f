"""CPU time of starting ``balloon-conform``, against ``jc --version`` and ``python -c pass``.

Run: ``.venv/bin/python benchmarks/startup.py [--runs 21] [--python PATH] [--file FILE]``

Each command runs ``--runs`` times, round robin (so a load change on a shared machine
hits every command alike), each in a fresh process; the figure is the median CPU time
(user + system, from ``resource.getrusage`` of the children) of one run. Then
``python -X importtime`` of ``--version`` and ``parse FILE`` lists the modules that cost
most. ``--python`` measures another environment's interpreter and its ``balloon-conform``
(e.g. the main branch's ``.venv/bin/python``); jc comes from the same environment.

Byte-code is cached in a temporary ``PYTHONPYCACHEPREFIX`` and every command runs once
before measuring, so ``PYTHONDONTWRITEBYTECODE`` in the environment does not turn the
figures into compile times, and no ``__pycache__`` is written into the trees measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "fleet" / "virtio-6.18-firecracker" / "proc" / "meminfo"
# the console script's own code, runnable by interpreters whose package has no __main__
CLI = "import sys; from conformance.cli import main; sys.exit(main())"


def environment(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def cpu_of(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd="/")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def commands(python: Path, sample: Path) -> dict[str, list[str]]:
    bin_dir = python.parent
    return {
        "python -c pass": [str(python), "-c", "pass"],
        "jc --version": [str(bin_dir / "jc"), "--version"],
        "balloon-conform --version": [str(bin_dir / "balloon-conform"), "--version"],
        "balloon-conform parse FILE": [str(bin_dir / "balloon-conform"), "parse", str(sample)],
    }


def medians(cases: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    for argv in cases.values():  # warm the byte-code cache
        cpu_of(argv, env)
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, argv in cases.items():
            samples[label].append(cpu_of(argv, env))
    return {label: statistics.median(values) for label, values in samples.items()}


def import_times(python: Path, args: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) of every import of one CLI run."""
    done = subprocess.run(
        [str(python), "-X", "importtime", "-c", CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",  # not the source tree: -c would import the package from there
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, total, name = line[len("import time:") :].split("|")
        rows.append((int(own), int(total), name.rstrip()))
    return rows


def show_imports(label: str, rows: list[tuple[int, int, str]], top: int) -> None:
    total = sum(own for own, _, _ in rows)
    names = {name.strip() for _, _, name in rows}
    heavy = sorted(n for n in names if n.split(".")[0] in ("jsonschema", "referencing"))
    ours = sorted(n for n in names if n.startswith(("conformance.rules", "conformance.report")))
    print(f"\n-X importtime, {label}: {len(rows)} modules, {total / 1000:.1f} ms (wall) importing")
    print(f"  jsonschema/referencing modules: {len(heavy)}; rules/report modules: {len(ours)}")
    for own, cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"  self {own / 1000:6.1f} ms  total {cumulative / 1000:6.1f} ms  {name.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command")
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    parser.add_argument("--file", type=Path, default=SAMPLE, help="the file parse reads")
    parser.add_argument("--top", type=int, default=8, help="imports listed by own time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = environment(cache)
        figures = medians(commands(args.python, args.file), args.runs, env)
        jc = figures["jc --version"]
        print(f"median CPU of {args.runs} runs each ({args.python}):")
        for label, seconds in figures.items():
            print(f"  {label:<28} {seconds * 1000:7.1f} ms  {seconds / jc:5.2f}x jc --version")
        show_imports("--version", import_times(args.python, ["--version"], env), args.top)
        parse_rows = import_times(args.python, ["parse", str(args.file)], env)
        show_imports("parse FILE", parse_rows, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
