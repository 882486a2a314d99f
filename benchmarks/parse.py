"""Files per second for parse + validate, per format, against a hand-rolled baseline.

Run: ``.venv/bin/python benchmarks/parse.py [--seconds S] [--json]``

For every format, the sample files under ``tests/data/<format>/`` (the deliberately broken
``bad-*`` ones left out) are parsed over and over for about ``--seconds`` each way:

* ``parse+validate``: ``conformance.parse(data, format=...)``: the parser, the schema
  validation (one cached validator per schema) and the source-map location of findings;
* ``parse only``: the same with ``validate=False``.

For meminfo, two baselines run on the same files: jc's ``proc_meminfo`` parser alone, and
jc followed by a reused ``jsonschema`` validator of the published meminfo schema (its
``$ref`` resolved through a registry): what a user would write without this project.
Figures are medians of five rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jsonschema import Draft202012Validator  # noqa: E402

import conformance  # noqa: E402
from conformance import schemas  # noqa: E402


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
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
