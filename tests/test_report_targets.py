"""Several reports from one run, ``--exit-zero``, a closed pipe and the GitHub Actions
extras, end to end through the console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.errors import UsageError
from conformance.report.annotations import write_limited_annotations
from conformance.report.model import CaptureResult, Report
from conformance.report.targets import Target, targets

ROOT = Path(__file__).resolve().parent.parent
TOOL = Path(sys.executable).with_name("balloon-conform")
BROKEN = "examples/broken"  # two errors and a warning
CLEAN = "examples/fleet"


def run(
    *argv: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    environ.update(env or {})
    return subprocess.run([str(TOOL), *argv], capture_output=True, text=True, cwd=cwd, env=environ)


def test_one_run_writes_every_report_asked_for(tmp_path: Path) -> None:
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    done = run(
        "check",
        "--report",
        "text",
        "--report",
        f"sarif:{sarif}",
        "--report",
        f"junit:{junit}",
        BROKEN,
    )
    assert done.returncode == 1, done.stderr
    assert "balloon.single-driver" in done.stdout  # the text report, on stdout
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert ET.parse(junit).getroot().tag == "testsuites"
    alone = run("check", "--output-format", "sarif", BROKEN)
    assert json.loads(alone.stdout)["runs"] == json.loads(sarif.read_text())["runs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sarif", "out.xml"]


def test_output_format_and_report_combine(tmp_path: Path) -> None:
    done = run(
        "check", "--output-format", "json", "--report", f"junit:{tmp_path / 'j.xml'}", BROKEN
    )
    assert json.loads(done.stdout)["summary"]["errors"] == 2
    assert (tmp_path / "j.xml").exists()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--output-format", "json", "--output-format", "sarif"], "--output-format given twice"),
        (["--output", "a", "--output", "b"], "--output given twice"),
        (["--report", "json", "--report", "text"], "only one report can go to standard output"),
        (["--report", "xml:a.xml"], "unknown format 'xml'"),
        (["--report", "json:a", "--report", "sarif:./a"], "a is named for two reports"),
    ],
)
def test_reports_that_cannot_be_written_as_asked(
    tmp_path: Path, argv: list[str], says: str
) -> None:
    done = run("check", *argv, str(ROOT / CLEAN), cwd=tmp_path)
    assert done.returncode == 2
    assert says in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_targets_default_and_order() -> None:
    assert targets(None, None, None) == [Target("text")]
    assert targets(["sarif:x"], None, None) == [Target("sarif", "x")]
    assert targets(["sarif:x"], "json", "y") == [Target("sarif", "x"), Target("json", "y")]
    assert targets(["github:"], None, "r.txt") == [Target("github"), Target("text", "r.txt")]
    with pytest.raises(UsageError):
        targets(["text", "github"], None, None)


def test_exit_zero_reports_and_exits_zero(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = run("check", "--exit-zero", "--report", f"json:{out}", BROKEN)
    assert done.returncode == 0
    assert json.loads(out.read_text())["summary"]["errors"] == 2
    assert run("check", "--exit-zero", "no-such-capture").returncode == 2  # usage stays 2


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("head") is None, reason="no sh/head")
def test_a_closed_pipe_is_sigpipe_status_not_findings(tmp_path: Path) -> None:
    # a fleet large enough that the report outgrows the pipe's buffer after head exits
    fleet = tmp_path / "fleet"
    source = ROOT / CLEAN
    for n in range(60):
        for member in source.iterdir():
            if member.is_dir():
                shutil.copytree(member, fleet / f"{n}-{member.name}")
    script = (
        f'"{TOOL}" check --output-format json "{fleet}" | head -c 1; echo " ${{PIPESTATUS[0]}}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert done.stdout == "{ 141\n"
    assert done.stderr == ""  # quiet: no traceback, no "Broken pipe" message


def _actions_env(tmp_path: Path) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def test_under_github_actions_annotations_and_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    done = run("check", "--output-format", "json", BROKEN, env=_actions_env(tmp_path))
    assert done.returncode == 1
    json.loads(done.stdout)  # the chosen report stays parsable: annotations go to stderr
    commands = [line for line in done.stderr.splitlines() if line.startswith("::")]
    assert [c.split(" ", 1)[0] for c in commands if "skipped" not in c] == [
        "::error",
        "::warning",
        "::error",
    ]
    text = summary.read_text()
    assert text.startswith("earlier step\n## balloon-conform check failed\n")  # appended
    assert "1 capture, " in text and "2 errors, 1 warning" in text
    assert "| `balloon.single-driver` | error | 1 |" in text
    assert "Checks that could not run:" in text


def test_no_annotations_and_no_actions(tmp_path: Path) -> None:
    quiet = run("check", "--no-annotations", BROKEN, env=_actions_env(tmp_path))
    assert "::error" not in quiet.stderr
    assert (tmp_path / "summary.md").exists()  # the summary is still written
    outside = run("check", BROKEN, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "other.md")})
    assert "::" not in outside.stderr
    assert not (tmp_path / "other.md").exists()
    # a github report on stdout already annotates: not twice
    twice = run("check", "--output-format", "github", BROKEN, env=_actions_env(tmp_path))
    assert "::error" in twice.stdout and "::error" not in twice.stderr


def _many(count: int, severity: Severity) -> tuple[Diagnostic, ...]:
    return tuple(
        Diagnostic("x.y", severity, f"finding {n}", Location("f", n + 1)) for n in range(count)
    )


def _annotations(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    report = Report("1", (CaptureResult("c", ("f",), diagnostics, ("x.y",)),))
    import io

    stream = io.StringIO()
    write_limited_annotations(report, stream)
    return stream.getvalue().splitlines()


def test_annotations_stay_within_what_github_shows() -> None:
    lines = _annotations(
        _many(25, Severity.ERROR) + _many(3, Severity.WARNING) + _many(12, Severity.NOTE)
    )
    kinds = [re.match(r"::(\w+)", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert kinds.count("error") == 10 and kinds.count("warning") == 3
    assert kinds.count("notice") == 10  # 9 findings and the line that counts the rest
    assert lines[-1].startswith("::notice title=balloon-conform::15 errors, 3 notices more")


def test_annotations_all_shown_when_they_fit() -> None:
    lines = _annotations(_many(10, Severity.ERROR) + _many(10, Severity.NOTE))
    assert len(lines) == 20
    assert not any("more not annotated" in line for line in lines)
