"""Start-up imports only what the command needs: no validator library, rules or reporters
for ``import conformance`` or ``balloon-conform --version``; no python-jsonschema for
``parse`` of a valid file when the fast engine loads.

Counted by module name in a fresh interpreter's ``sys.modules``, never by time (the
time is measured by ``benchmarks/startup.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import get_format, schemas

from .engines import holds_u64

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "fleet" / "virtio-6.18-firecracker" / "proc" / "meminfo"
HEAVY = (
    "jsonschema",
    "referencing",
    "conformance.rules",
    "conformance.report",
    "conformance.check",
    "conformance.cli_check",
    "conformance.cli_capture",
)

# runs a statement, then the CLI with the given arguments, and prints the modules loaded
PROBE = """
import json, sys
from conformance.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code`` with ``args``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BALLOON_CONFORM_VALIDATOR", None)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    line = done.stderr.rsplit("MODULES ", 1)[-1]
    return set(json.loads(line))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules for h in HEAVY if m == h or m.startswith(h + "."))


def test_import_conformance_loads_nothing_heavy() -> None:
    code = "import sys, json, conformance\n" + PROBE.split("sys.stdout.flush()")[1]
    modules = _modules(code)
    assert "conformance" in modules
    assert _heavy(modules) == []
    assert "conformance.formats" not in modules  # not even the parsers


def test_version_loads_nothing_heavy() -> None:
    modules = _modules(PROBE, "--version")
    assert "conformance.cli" in modules
    assert _heavy(modules) == []
    assert "shutil" not in modules  # argparse's help formatter would import it for a width
    assert "conformance.formats" not in modules  # the parsers load for parse and check


def test_python_dash_m_conformance_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conformance", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.stdout.startswith("balloon-conform ")
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert "conformance.cli" in imported
    assert _heavy(imported) == []


def test_parse_of_a_valid_file_needs_no_python_jsonschema() -> None:
    if schemas.fast_validator(get_format("meminfo").dialect("2.6").schema) is None:
        pytest.skip("jsonschema-rs cannot load the meminfo schema here")
    modules = _modules(PROBE, "parse", str(SAMPLE))
    assert "conformance.formats.meminfo" in modules and "jsonschema_rs" in modules
    assert _heavy(modules) == []
    assert not {"shutil", "dataclasses", "inspect"} & modules


def test_check_loads_its_own_modules_and_help_lists_every_command() -> None:
    modules = _modules(PROBE, "rules")
    assert {"conformance.cli_check", "conformance.rules"} <= modules
    help_text = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    for command in ("parse", "schema", "check", "rules", "explain", "capture"):
        assert f"    {command} " in help_text


def test_the_lazy_names_are_the_real_ones() -> None:
    import conformance
    from conformance import pipeline

    assert conformance.parse is pipeline.parse
    assert set(conformance.__all__) <= set(dir(conformance))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = conformance.nothing  # type: ignore[attr-defined]


def test_parse_of_a_file_at_a_guest_path_loads_that_format_alone() -> None:
    modules = _modules(PROBE, "parse", str(SAMPLE))
    parsers = sorted(m for m in modules if m.startswith("conformance.formats."))
    assert parsers == [
        "conformance.formats._meminfo_layout",
        "conformance.formats._meminfo_whole",
        "conformance.formats.meminfo",
    ]


def test_a_serial_check_of_a_directory_loads_no_tar_live_worker_or_other_reporter() -> None:
    capture = ROOT / "examples" / "fleet" / "virtio-6.18-firecracker"
    modules = _modules(
        PROBE, "check", "--output-format", "json", "--output", os.devnull, str(capture)
    )
    assert {"conformance.check", "conformance.report.json_report"} <= modules
    unneeded = {
        "multiprocessing",  # -j 1: no worker process
        "conformance.workers",
        "conformance.capture_tar",  # a directory, not a tarball
        "tarfile",
        "conformance.live",  # not --live
        "conformance.report.junit",  # JSON asked for: no other reporter
        "conformance.report.sarif",
        "xml.etree.ElementTree",
        "secrets",
        "uuid",
        # the value classes are conformance.records', which generate no code at import
        "dataclasses",
        "inspect",
    }
    if not holds_u64():  # python-jsonschema validates there; it and its format checkers
        unneeded -= {"uuid", "dataclasses", "inspect"}  # (attrs, uuid) import these
    assert sorted(unneeded & modules) == []
