"""Captures per second of ``balloon-conform check --dask`` on a LocalCluster, beside local runs.

Run: ``.venv/bin/python benchmarks/dask_check.py [--count 2000] [--workers 2] [--json]``
(needs the ``[dask]`` extra).

A fleet of ``--count`` captures, the four example guests of ``examples/fleet`` in turn with
MemFree varied (as ``benchmarks/check.py`` makes its ``mixed`` fleet), is checked by:

* ``check``: ``balloon-conform check`` serially;
* ``check -j N``: with N local worker processes, N = ``--workers``;
* ``check --dask``: on a ``distributed.LocalCluster`` of ``--workers`` processes of one
  thread each, started before the measurement (its start-up is not counted; the client's
  connection is).

Each run is a fresh process writing the JSON report; the figures are wall-clock seconds,
captures/s, captures/s per worker, the CPU and peak RSS of the command's process tree (for
``--dask`` that is the client alone: the workers are the cluster's) and the ratios to the
serial run. The reports are compared byte for byte as a sanity check.
On one machine the cluster's workers compete with the client and the scheduler for the
same cores, so the ratio here is a floor for what separate machines give.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _check_bench() -> Any:
    """``benchmarks/check.py``, for its fleet maker (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("check_bench", HERE / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(count: int, workers: int) -> tuple[list[dict[str, Any]], bool]:
    from distributed import LocalCluster

    bench = _check_bench()
    tool = str(Path(sys.executable).with_name("balloon-conform"))
    base = [tool, "check", "--output-format", "json"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet"
        bench.make_fleet(fleet, count, bench.GUESTS)
        with LocalCluster(
            n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster:
            runs = {
                "check": ([*base, str(fleet)], 1),
                f"check -j {workers}": ([*base, "-j", str(workers), str(fleet)], workers),
                "check --dask": ([*base, "--dask", cluster.scheduler_address, str(fleet)], workers),
            }
            python = Path(sys.executable)
            warm = [*base, "--output", str(Path(tmp) / "warm.json"), str(fleet)]
            bench.measure(python, warm)  # the byte-code cache, the page cache
            for label, (argv, used) in runs.items():
                report = ["--output", str(Path(tmp) / f"{label}.json")]
                figures = bench.measure(python, [*argv, *report])
                rate = count / figures["seconds"]
                rows.append(
                    {"run": label, "captures": count, "workers": used, **figures,
                     "rate": rate, "rate_per_worker": rate / used}
                )  # fmt: skip
        reports = {(Path(tmp) / f"{label}.json").read_bytes() for label in runs}
    return rows, len(reports) == 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="captures in the fleet")
    parser.add_argument("--workers", type=int, default=2, help="cluster and -j workers")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows, same = run(args.count, args.workers)
    if args.json:
        print(json.dumps({"rows": rows, "identical_reports": same}, indent=2))
        return 0 if same else 1
    serial = rows[0]["rate"]
    print(f"{'run':<16} {'workers':>7} {'seconds':>8} {'captures/s':>11} {'/worker':>8} "
          f"{'client CPU/capture':>18} {'client RSS':>10} {'x serial':>8}")  # fmt: skip
    for row in rows:
        print(
            f"{row['run']:<16} {row['workers']:>7} {row['seconds']:>8.2f} {row['rate']:>11.0f} "
            f"{row['rate_per_worker']:>8.0f} {1000 * row['cpu'] / row['captures']:>16.2f}ms "
            f"{row['peak'] / 1024:>8.0f}MB "
            f"{row['rate'] / serial:>8.2f}"
        )
    dask, local = rows[2], rows[1]
    print(f"--dask rate is {dask['rate'] / local['rate']:.2f}x -j {args.workers}'s")
    print(f"reports byte-identical across the three runs: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
