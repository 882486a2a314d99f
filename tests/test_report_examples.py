"""The bundled examples' reports in every output format, pinned byte for byte.

Speed work on the reader, the checker and the reporters must not change a byte of any
report: each case is checked serially and, for fleets, with two workers, against golden
files in ``tests/data/reports/examples`` (the tool's version written as ``VERSION``, the
project's directory in SARIF's base URI as ``/ROOT``).
``python -m tests.test_report_examples`` rewrites them; review the diff before committing.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from conformance import __version__
from conformance.cli import main
from conformance.report import REPORTERS

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "reports" / "examples"
CASES = {
    "fleet": ["examples/fleet"],
    "series": ["--series", "examples/series/t0", "examples/series/t1"],
    "broken": ["-v", "--strict", "examples/broken"],
    "selected": ["--select", "capture.,meminfo,balloon.", "--kernel", "6.1", "examples/fleet"],
}
PARALLEL = ("fleet", "broken", "selected")


def render(case: str, format: str, jobs: int = 1) -> tuple[int, str]:
    """Exit status and report of ``check`` on ``case``, run from the project's root."""
    argv = ["check", "--output-format", format, "-j", str(jobs), *CASES[case]]
    out = io.StringIO()
    cwd = Path.cwd()
    try:
        os.chdir(ROOT)
        with redirect_stdout(out):
            status = main(argv)
    finally:
        os.chdir(cwd)
    # the version and where the project is checked out are no part of what is pinned
    text = out.getvalue().replace(__version__, "VERSION")
    return status, text.replace(ROOT.as_uri(), "file:///ROOT")


def golden(case: str, format: str) -> Path:
    return GOLDEN / f"{case}.{format}.txt"


@pytest.mark.parametrize("format", sorted(REPORTERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_report_is_byte_identical(case: str, format: str) -> None:
    status, text = render(case, format)
    expected = golden(case, format).read_text(encoding="utf-8")
    assert f"{status}\n{text}" == expected


@pytest.mark.parametrize("format", ["json", "sarif", "junit", "junit-gitlab", "text"])
@pytest.mark.parametrize("case", PARALLEL)
def test_workers_write_the_same_bytes(case: str, format: str) -> None:
    status, text = render(case, format, jobs=2)
    assert f"{status}\n{text}" == golden(case, format).read_text(encoding="utf-8")


def rewrite() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        for format in REPORTERS:
            status, text = render(case, format)
            golden(case, format).write_text(f"{status}\n{text}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(rewrite())
