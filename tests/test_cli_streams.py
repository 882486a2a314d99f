"""The standard streams as the command line's destinations: every name of standard output
means it, whatever it is open on; one place named twice, however spelled, is a usage
error; a closed or full stream is a one-line error (exit 2), never a traceback or output
lost with exit 0; a character the terminal's encoding lacks is an escape, not a crash.

Run through a fresh interpreter where the process's own descriptors matter (a redirected,
closed or full stream, an encoding chosen at start-up)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import cli_check, output
from conformance.cli import main
from conformance.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = str(ROOT / "examples/fleet/vmware-5.8-ubuntu")
FILE = str(ROOT / "examples/fleet/hyperv-6.15-balloon-up/sys/kernel/debug/hv-balloon")
DEV_FULL = Path("/dev/full")


def tool(*argv: str) -> list[str]:
    return [sys.executable, "-m", "conformance", *argv]


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTHONIO"))}
    env["PYTHONPATH"] = str(ROOT)  # the tree under test, whatever is installed
    env.update(extra)
    return env


def shell(command: str, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``command`` in sh, with ``$@`` the command line of the tool and ``argv``."""
    return subprocess.run(
        ["sh", "-c", command, "sh", *tool(*argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ(**extra),
    )


def one_error(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("balloon-conform: error: "), done.stderr
    assert says in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert "internal error" not in done.stderr


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"])
def test_every_name_of_stdout_is_stdout_even_on_a_file(tmp_path: Path, name: str) -> None:
    report = tmp_path / "o1.json"
    report.write_text("before\n")
    with report.open("a") as stream:  # `>> o1.json`: kept, and written after
        done = subprocess.run(
            tool("check", "--output-format", "json", "--output", name, CAPTURE),
            stdout=stream,
            stderr=subprocess.PIPE,
            text=True,
            env=environ(),
        )
    assert done.returncode == 0, done.stderr
    before, text = report.read_text().split("\n", 1)
    assert before == "before"
    assert json.loads(text)["summary"]["files"] == 3


def test_the_names_of_stderr_are_stderr_and_a_link_of_ours_is_still_refused(
    tmp_path: Path,
) -> None:
    report = tmp_path / "err.json"
    with report.open("w") as stream:
        done = subprocess.run(
            tool("check", "--output-format", "json", "--output", "/dev/fd/2", CAPTURE),
            stdout=subprocess.PIPE,
            stderr=stream,
            env=environ(),
        )
    assert done.returncode == 0 and done.stdout == b""
    assert json.loads(report.read_text())["summary"]["files"] == 3
    (tmp_path / "link").symlink_to("/dev/stdout")
    refused = shell(
        f'exec "$@" > {tmp_path}/out', "check", "--output", str(tmp_path / "link"), CAPTURE
    )
    one_error(refused, "a symbolic link; not written through")


@pytest.mark.parametrize(
    ("path", "fd"),
    [
        ("-", 1),
        ("/dev/stdout", 1),
        ("/dev//stdout", 1),
        ("/dev/./fd/2", 2),
        ("/proc/self/fd/1", 1),
        (f"/proc/{os.getpid()}/fd/2", 2),
        ("/dev/stdin", 0),
        ("/dev/fd/3", None),
        ("/dev/fd/01", None),  # not a name /proc gives
        ("/dev/fd/../stdout", None),  # /proc/self/stdout: never guessed at
        ("stdout", None),
        ("/tmp/dev/stdout", None),
    ],
)
def test_names_of_the_standard_streams(path: str, fd: int | None) -> None:
    assert output.standard_stream(path) == fd


def test_a_report_to_stdin_is_refused() -> None:
    with pytest.raises(UsageError, match="standard input"):
        output.standard(0)


@pytest.mark.parametrize(
    "reports",
    [
        ["json:/dev/stdout", "sarif:-"],
        ["json:/proc/self/fd/1", "sarif:/dev/fd/1"],
        ["json", "text:/dev/stdout"],
    ],
)
def test_two_names_of_stdout_are_one_stream(
    reports: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", *(f"--report={r}" for r in reports), CAPTURE]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "only one report can go to standard output" in err


def test_one_file_spelled_two_ways_is_named_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").symlink_to(".")
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    (tmp_path / "old.out").write_text("before\n")
    for first, second in (
        (f"{tmp_path}/s5.out", "s5.out"),
        ("sub/s6.out", "s6.out"),
        ("alias/s7.out", "real/s7.out"),
        ("sub/old.out", "old.out"),  # an existing file too
    ):
        argv = ["check", "--report", f"json:{first}", "--report", f"sarif:{second}", CAPTURE]
        assert main(argv) == 2, (first, second)
        assert "is named for two reports" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias", "old.out", "real", "sub"]
    assert (tmp_path / "old.out").read_text() == "before\n"
    # two files, one name each: both written
    argv = ["check", "--report", "json:sub/a.out", "--report", "sarif:real/a.out", CAPTURE]
    assert main(argv) == 0
    assert json.loads((tmp_path / "a.out").read_text())["summary"]["files"] == 3
    assert json.loads((tmp_path / "real/a.out").read_text())["version"] == "2.1.0"


def test_a_file_and_stdout_open_on_it_are_named_twice(tmp_path: Path) -> None:
    report = tmp_path / "o2.json"
    report.write_text("")
    argv = ("check", "--output-format", "json", "--report", f"sarif:{report}", CAPTURE)
    done = shell(f'exec "$@" > {report}', *argv)
    one_error(done, "is named for two reports")
    assert report.read_text() == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["check", CAPTURE],
        ["check", "--report", "json:/dev/stdout", CAPTURE],
        ["rules"],
        ["explain", "capture"],
        ["schema", "show", "meminfo"],
        ["schema", "list"],
        ["parse", FILE],
        ["--version"],
        ["--help"],
    ],
)
def test_a_closed_stdout_is_an_error(argv: list[str]) -> None:
    one_error(shell('exec "$@" >&-', *argv), "standard output is closed")


def test_a_closed_stdin_is_an_error_and_a_closed_stream_not_used_is_no_matter(
    tmp_path: Path,
) -> None:
    one_error(shell('exec "$@" <&-', "parse", "-"), "standard input is closed")
    report = tmp_path / "r.txt"
    done = shell('exec "$@" >&- <&-', "check", "--output", str(report), CAPTURE)
    assert (done.returncode, done.stderr) == (0, "")
    assert "1 capture, 3 files" in report.read_text()
    done = shell('exec "$@" 2>&-', "check", CAPTURE)
    assert done.returncode == 0 and "3 files" in done.stdout


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], ["schema", "list"], ["rules"], ["parse", FILE], ["check", CAPTURE]],
)
def test_a_full_stdout_is_an_error(argv: list[str], unbuffered: str) -> None:
    done = shell('exec "$@" > /dev/full', *argv, PYTHONUNBUFFERED=unbuffered)
    one_error(done, "No space left on device")


NAME = "naïve\u3000\u00a0cap"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_characters_the_encoding_lacks_are_escaped(tmp_path: Path, encoding: str) -> None:
    fleet = tmp_path / "fleet"
    capture = fleet / NAME
    shutil.copytree(CAPTURE, capture)
    (capture / f"{NAME} \U0001f600.txt").write_text("not a kernel file\n")
    done = subprocess.run(
        tool("check", str(fleet)),
        capture_output=True,
        env=environ(PYTHONIOENCODING=encoding),
        cwd=tmp_path,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    text = done.stdout.decode(encoding)
    assert "\\u3000" in text and "\\ud83d\\ude00.txt" in text
    assert ("naïve" if encoding == "latin-1" else "na\\u00efve") in text
    report = tmp_path / "report.json"
    done = subprocess.run(
        tool("check", "--output-format", "json", "--report", f"sarif:{report}", str(fleet)),
        capture_output=True,
        env=environ(PYTHONIOENCODING=encoding),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    strings = _strings(json.loads(done.stdout.decode(encoding)))  # still JSON, every name kept
    assert any(s.endswith(f"{NAME}/{NAME} \U0001f600.txt") for s in strings)
    assert NAME in report.read_text(encoding="utf-8")  # a file: UTF-8, whatever the terminal


def _strings(report: dict[str, object]) -> set[str]:
    """Every string in a JSON document."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(report)
    return found


def test_an_internal_error_is_one_short_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug's message is bounded: the exception may hold a whole report."""

    def failing(args: object) -> int:
        raise UnicodeEncodeError("ascii", "report\n" * 100_000, 5, 6, "not in ascii")

    monkeypatch.setattr(cli_check, "run_rules", failing)
    assert main(["rules"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("balloon-conform: internal error: UnicodeEncodeError(")
    assert err.count("\n") == 1 and len(err) < 700
