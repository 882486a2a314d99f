"""Golden files: every ``tests/data/<format>/<name>.txt`` has ``<name>.golden.json`` beside it.

The golden file holds the format, dialect and instance the parser makes of the text and
the diagnostics of both layout modes, one ``LINE:COL: severity: message [id]`` string
each. ``python -m tests.golden`` rewrites them all from the current parsers; review the
diff before committing it, since a golden file is a claim about what the kernel printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from conformance import parse

DATA = Path(__file__).parent / "data"
SAMPLE_SUFFIXES = (".txt",)


def samples() -> list[Path]:
    """Every sample text under tests/data/<format>/ (format folders only)."""
    from conformance import format_ids

    found = []
    for format_id in format_ids():
        folder = DATA / format_id
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix in SAMPLE_SUFFIXES)
    return found


def golden_path(sample: Path) -> Path:
    return sample.with_suffix(".golden.json")


def _line(diagnostic: Any) -> str:
    loc, severity = diagnostic.location, diagnostic.severity.value
    return f"{loc.line}:{loc.column}: {severity}: {diagnostic.message} [{diagnostic.id}]"


def compute(sample: Path) -> dict[str, Any]:
    """What the parsers make of ``sample`` now."""
    data = sample.read_bytes()
    format_id = sample.parent.name
    context = _context(sample)
    lenient = parse(data, format=format_id, layout="lenient", context=context)
    exact = parse(data, format=format_id, layout="exact", context=context)
    return {
        "format": lenient.format,
        "dialect": lenient.dialect,
        "instance": lenient.instance,
        "diagnostics": {
            "lenient": [_line(d) for d in lenient.diagnostics],
            "exact": [_line(d) for d in exact.diagnostics],
        },
    }


def _context(sample: Path) -> dict[str, str]:
    """Neighbouring files a sample declares: ``<name>.context.json`` beside it."""
    path = sample.with_suffix(".context.json")
    return json.loads(path.read_text()) if path.exists() else {}


def dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for sample in samples():
        if wanted and sample.name not in wanted and sample.parent.name not in wanted:
            continue
        golden_path(sample).write_text(dump(compute(sample)))
        print(f"wrote {golden_path(sample).relative_to(DATA)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
