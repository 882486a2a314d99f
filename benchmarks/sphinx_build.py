"""What checking samples costs a documentation build.

Run: ``.venv/bin/python benchmarks/sphinx_build.py [--samples N] [--rounds R]``

Two projects of one document each are built from scratch with the HTML builder: one with
``--samples`` (500) ``balloon-sample`` directives (an hv-balloon sample in console form
with annotations, so the prompt, the annotations, the field spans and the schema lookups
all run), the other with the same text in plain ``::`` literal blocks. The figure is the
median wall time of ``--rounds`` (3) fresh builds each (``sphinx-build -E`` in a new
process, interpreter start-up included in both), and their ratio.

Then the same samples spread over ``--pages`` (40) documents are built with ``-j 1``
and ``-j 2`` (the median of as many rounds), and the plain blocks the same way, for
what parallel reading itself costs on the machine: it must not cost more than it saves.
The same again with ``--large`` (2000) samples on those pages shows where ``-j 2``
starts to pay. Each parallel case prints the ``-j 2``/``-j 1`` ratio of the checked and
of the plain pages side by side (ours should be no worse than Sphinx's own), and the
processor seconds of each build: on a shared machine the wall times follow the load;
what ``-j 2`` adds in processor time does much less.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = """\
# cat /sys/kernel/debug/hv-balloon
host_version          : 2.0         // negotiated protocol
capabilities          : enabled hot_add
state                 : 1 (Initialized)
page_size             : 4096
pages_added           : 0
pages_onlined         : 0
pages_ballooned       : {n}     // pages the host has taken
total_pages_committed : 977790
max_dynamic_page_count: 268435456
"""


def _document(samples: int, checked: bool) -> str:
    parts = ["Benchmark\n=========\n"]
    for number in range(samples):
        head = ".. balloon-sample:: hv-balloon" if checked else "::"
        body = "".join("   " + line + "\n" for line in SAMPLE.format(n=number).splitlines())
        parts.append(f"Sample {number}:\n\n{head}\n\n{body}")
    return "\n".join(parts)


CPU: list[float] = []
"""Processor seconds (user and system) of each build, its reader and writer processes
included: on a shared machine the wall time follows the load, this much less."""


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _build(folder: Path, samples: int, checked: bool, pages: int = 1, jobs: int = 1) -> float:
    """Wall seconds of one build; :data:`CPU` gets its processor seconds."""
    src = folder / ("checked" if checked else "plain")
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["sphinxext_balloon"]\n')
    if pages == 1:
        (src / "index.rst").write_text(_document(samples, checked))
    else:
        names = [f"page{number}" for number in range(pages)]
        toctree = "".join(f"   {name}\n" for name in names)
        (src / "index.rst").write_text(f"Pages\n=====\n\n.. toctree::\n\n{toctree}")
        for name in names:
            (src / f"{name}.rst").write_text(_document(samples // pages, checked))
    # one process per build: Sphinx registers docutils nodes and directives globally
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-q",
        "-E",
        "-j",
        str(jobs),
        "-b",
        "html",
        str(src),
        str(src / "_build"),
    ]
    before = _cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    CPU.append(_cpu() - before)
    if done.returncode or done.stderr:
        raise SystemExit(f"the benchmark document should build cleanly:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--large", type=int, default=2000)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for checked in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                times[checked].append(_build(Path(folder), args.samples, checked))
    plain, sampled = statistics.median(times[False]), statistics.median(times[True])
    print(f"{args.samples} samples, median of {args.rounds} fresh HTML builds")
    print(f"  plain literal blocks : {plain:7.2f} s")
    print(
        f"  balloon-sample       : {sampled:7.2f} s  ({sampled / args.samples * 1000:.1f} ms per "
        "sample)"
    )
    print(f"  ratio                : {sampled / plain:7.2f}x")
    for samples in (args.samples, args.large):
        _parallel(samples, args.pages, args.rounds)


def _parallel(samples: int, pages: int, rounds: int) -> None:
    """``-j 1`` against ``-j 2`` for ``samples`` on ``pages`` pages, checked and plain."""
    ratios = {}
    for checked in (True, False):  # plain pages show what parallel reading itself costs
        jobs: dict[int, list[float]] = {1: [], 2: []}
        cpu: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(rounds):
            for count in (1, 2):
                with tempfile.TemporaryDirectory() as folder:
                    jobs[count].append(_build(Path(folder), samples, checked, pages, count))
                    cpu[count].append(CPU[-1])
        one, two = statistics.median(jobs[1]), statistics.median(jobs[2])
        cpu_one, cpu_two = statistics.median(cpu[1]), statistics.median(cpu[2])
        kind = "balloon-sample" if checked else "plain literal blocks"
        ratios[checked] = two / one
        print(f"{samples} {kind} on {pages} pages, median of {rounds} builds")
        print(f"  -j 1                 : {one:7.2f} s  (cpu {cpu_one:.2f} s)")
        print(
            f"  -j 2                 : {two:7.2f} s  ({two / one:.2f}x -j 1; cpu {cpu_two:.2f} s, "
            f"{cpu_two - cpu_one:+.2f} s for the parallel reading and writing)"
        )
    print(
        f"  -j 2/-j 1            : balloon-sample {ratios[True]:.2f}x, plain {ratios[False]:.2f}x"
    )


if __name__ == "__main__":
    main()
