"""What checking samples costs a documentation build.

Run: ``.venv/bin/python benchmarks/sphinx_build.py [--samples N] [--rounds R]``

Two projects of one document each are built from scratch with the HTML builder: one with
``--samples`` (500) ``balloon-sample`` directives (an hv-balloon sample in console form
with annotations, so the prompt, the annotations, the field spans and the schema lookups
all run), the other with the same text in plain ``::`` literal blocks. The figure is the
median wall time of ``--rounds`` (3) fresh builds each (``sphinx-build -E`` in a new
process, interpreter start-up included in both), and their ratio.
"""

from __future__ import annotations

import argparse
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


def _build(folder: Path, samples: int, checked: bool) -> float:
    src = folder / ("checked" if checked else "plain")
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["sphinxext_balloon"]\n')
    (src / "index.rst").write_text(_document(samples, checked))
    # one process per build: Sphinx registers docutils nodes and directives globally
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-q",
        "-E",
        "-b",
        "html",
        str(src),
        str(src / "_build"),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode or done.stderr:
        raise SystemExit(f"the benchmark document should build cleanly:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
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


if __name__ == "__main__":
    main()
