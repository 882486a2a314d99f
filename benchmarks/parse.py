"""Files per second for parse + validate, per format, against a hand-rolled baseline.

Run: ``.venv/bin/python benchmarks/parse.py [--seconds S] [--json]`` or
``.venv/bin/python benchmarks/parse.py --fleet [--against DIR] [--calls N] [--rounds R] [--json]``

For every format, the sample files under ``tests/data/<format>/`` (the deliberately broken
``bad-*`` ones left out) are parsed over and over for about ``--seconds`` each way:

* ``parse+validate``: ``conformance.parse(data, format=...)``: the parser, the schema
  validation (one cached validator per schema) and the source-map location of findings;
* ``parse only``: the same with ``validate=False``.

For meminfo, two baselines run on the same files: jc's ``proc_meminfo`` parser alone, and
jc followed by a reused ``jsonschema`` validator of the published meminfo schema (its
``$ref`` resolved through a registry): what a user would write without this project.
Figures are medians of five rounds.

``--fleet`` measures instead what ``check`` pays per file: every file of the example fleet
(``examples/fleet/*``, read by the capture reader) parsed as ``check`` parses it
(``layout=exact``, the capture's ``path=`` and ``context=``), in µs per ``parse()`` call,
with and without validation; the best of ``--rounds`` rounds of ``--calls`` calls each.
``--against DIR`` also measures the ``conformance`` of another checkout (``git worktree
add DIR main``, say) on the same files, round by round in turn with this one's so both
see the same load, and prints both columns and the ratio: before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SOURCE = os.environ.get("BALLOON_BENCH_SOURCE", str(ROOT))
"""The checkout whose ``conformance`` is measured (``--against`` sets it for the other
run); the files measured are always this checkout's."""
sys.path.insert(0, SOURCE)

from jsonschema import Draft202012Validator  # noqa: E402

import conformance  # noqa: E402
from conformance import schemas  # noqa: E402
from conformance.model import Layout  # noqa: E402


def sample_files(format_id: str) -> list[bytes]:
    folder = ROOT / "tests" / "data" / format_id
    return [p.read_bytes() for p in sorted(folder.glob("*.txt")) if not p.name.startswith("bad-")]


def files_per_second(files: list[Any], run: Callable[[Any], object], seconds: float) -> float:
    """Median over five rounds of files handled per second."""
    rates = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / 5
        while True:
            for item in files:
                run(item)
            count += len(files)
            now = time.perf_counter()
            if now >= deadline:
                break
        rates.append(count / (now - start))
    return statistics.median(rates)


def measure(seconds: float) -> list[dict[str, Any]]:
    rows = []
    for format_id in conformance.format_ids():
        files = sample_files(format_id)
        if not files:
            continue
        for label, validate in (("parse+validate", True), ("parse only", False)):

            def run(data: bytes, validate: bool = validate, format_id: str = format_id) -> object:
                return conformance.parse(data, format=format_id, validate=validate)

            rate = files_per_second(files, run, seconds)
            rows.append(
                {
                    "format": format_id,
                    "pipeline": label,
                    "files": len(files),
                    "files_per_second": rate,
                }
            )
    rows.extend(_jc_baseline(seconds))
    return rows


def _jc_baseline(seconds: float) -> list[dict[str, Any]]:
    try:
        from jc.parsers import proc_meminfo
    except ImportError:
        print("jc is not installed (pip install '.[bench]'): no baseline", file=sys.stderr)
        return []
    if "meminfo" not in conformance.format_ids():
        return []
    texts = [data.decode() for data in sample_files("meminfo")]
    readable = [text for text in texts if _jc_reads(proc_meminfo, text)]
    if len(readable) < len(texts):
        print(
            f"jc cannot read {len(texts) - len(readable)} of {len(texts)} meminfo samples "
            "(the 2.4 header rows; ShadowCallStack's 8-digit value touching its colon); "
            "its figures use the rest",
            file=sys.stderr,
        )
    texts = readable
    # what a user would build: a validator of the published schema file, its $ref
    # resolved through a registry of the other files (not our inlined copy)
    name = conformance.get_format("meminfo").schema
    validator = Draft202012Validator(schemas.document(name), registry=schemas.registry())

    def jc_only(text: str) -> object:
        return proc_meminfo.parse(text, quiet=True)

    def jc_and_schema(text: str) -> object:
        return list(validator.iter_errors(proc_meminfo.parse(text, quiet=True)))

    return [
        {
            "format": "meminfo",
            "pipeline": label,
            "files": len(texts),
            "files_per_second": files_per_second(texts, run, seconds),
        }
        for label, run in (
            ("jc proc_meminfo only", jc_only),
            ("jc + reused jsonschema validator", jc_and_schema),
        )
    ]


def _jc_reads(parser: Any, text: str) -> bool:
    try:
        parser.parse(text, quiet=True)
    except Exception:
        return False
    return True


def fleet_files() -> list[tuple[str, Any]]:
    """``(capture/format, file)`` of every file of the example fleet, as ``check`` reads it."""
    from conformance.capture import read_capture

    found = []
    for folder in sorted((ROOT / "examples" / "fleet").iterdir()):
        if folder.is_dir():
            found += [(f"{folder.name}/{file.format}", file) for file in read_capture(folder).files]
    return found


def per_call_us(run: Callable[[], object], calls: int, rounds: int) -> float:
    """Best over ``rounds`` of the mean µs per call of ``calls`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def measure_fleet(calls: int, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for name, file in fleet_files():
        row: dict[str, Any] = {"file": name, "bytes": len(file.data)}
        for label, validate in (("parse_us", False), ("parse_validate_us", True)):

            def run(file: Any = file, validate: bool = validate) -> object:
                return conformance.parse(
                    file.data,
                    format=file.format,
                    layout=Layout.EXACT,  # as check passes it
                    path=file.path,
                    context=file.context,
                    validate=validate,
                )

            row[label] = per_call_us(run, calls, rounds)
        rows.append(row)
    return rows


def against(other: str, calls: int, rounds: int) -> list[dict[str, Any]]:
    """:func:`measure_fleet` of this checkout beside that of checkout ``other`` (a child
    process importing its ``conformance``), the best of ``rounds`` rounds each, run in
    turn; each row gains ``before_parse_us`` and ``before_parse_validate_us``."""
    command = [sys.executable, __file__, "--fleet", "--json", "--rounds", "1"]
    env = {**os.environ, "BALLOON_BENCH_SOURCE": str(Path(other).resolve())}
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        done = subprocess.run(
            [*command, "--calls", str(calls)], env=env, capture_output=True, text=True, check=True
        )
        before = {row["file"]: row for row in json.loads(done.stdout)}
        for row in measure_fleet(calls, 1):
            was = before[row["file"]]
            kept = best.setdefault(row["file"], {"file": row["file"], "bytes": row["bytes"]})
            for key in ("parse_us", "parse_validate_us"):
                kept[key] = min(kept.get(key, row[key]), row[key])
                kept["before_" + key] = min(kept.get("before_" + key, was[key]), was[key])
    return list(best.values())


def print_against(rows: list[dict[str, Any]], other: str) -> None:
    print(f"before: {other}; after: {ROOT}; µs per parse() call, exact layout")
    print(f"{'file':<42} {'before':>15} {'after':>15} {'parse':>6}")
    print(f"{'':<42} {'parse +valid':>15} {'parse +valid':>15} {'x':>6}")
    for row in rows:
        ratio = row["before_parse_us"] / row["parse_us"]
        before = f"{row['before_parse_us']:7.1f} {row['before_parse_validate_us']:7.1f}"
        after = f"{row['parse_us']:7.1f} {row['parse_validate_us']:7.1f}"
        print(f"{row['file']:<42} {before} {after} {ratio:6.1f}")
    was = sum(row["before_parse_validate_us"] for row in rows)
    now = sum(row["parse_validate_us"] for row in rows)
    print(f"{'all files, parse+validate':<42} {was:15.1f} {now:15.1f} {was / now:6.1f}")


def print_fleet(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'file (exact layout, as check parses it)':<42} {'bytes':>6} {'parse':>8} {'+valid':>8}"
    )
    for row in rows:
        print(
            f"{row['file']:<42} {row['bytes']:>6} {row['parse_us']:>6.1f}us "
            f"{row['parse_validate_us']:>6.1f}us"
        )
    total = sum(row["parse_validate_us"] for row in rows)
    print(f"{'all files, parse+validate':<42} {'':>6} {'':>8} {total:>6.1f}us")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--fleet", action="store_true", help="µs per file of the example fleet")
    parser.add_argument("--calls", type=int, default=3000, help="calls per round (--fleet)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (--fleet)")
    parser.add_argument("--against", metavar="DIR", help="also measure checkout DIR (--fleet)")
    args = parser.parse_args()
    if args.fleet and args.against:
        compared = against(args.against, args.calls, args.rounds)
        if args.json:
            print(json.dumps(compared, indent=2))
        else:
            print_against(compared, args.against)
        return 0
    if args.fleet:
        fleet = measure_fleet(args.calls, args.rounds)
        if args.json:
            print(json.dumps(fleet, indent=2))
        else:
            print_fleet(fleet)
        return 0
    rows = measure(args.seconds)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'format':<16} {'pipeline':<34} {'files':>5} {'files/s':>10}")
    for row in rows:
        rate = row["files_per_second"]
        print(f"{row['format']:<16} {row['pipeline']:<34} {row['files']:>5} {rate:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
