"""Safe writing: reports and exported schemas are replaced whole or not at all, and the
command line never writes through a link it did not make."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance import cli_capture, output
from conformance.cli import main
from conformance.errors import UsageError
from conformance.report import targets

from .test_hostile import MEMINFO

PREVIOUS = "the previous report\n"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_file_and_a_replaced_one(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    old_umask = os.umask(0o022)
    try:
        output.write_atomically(target, "first\n")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "first\n"
    assert target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o600)
    inode = target.stat().st_ino
    output.write_atomically(target, lambda stream: stream.write("second\n"))
    assert target.read_text() == "second\n"
    assert target.stat().st_mode & 0o777 == 0o600  # a replaced file keeps its permissions
    assert target.stat().st_ino != inode  # a new file took the name: never written in place
    assert names(tmp_path) == ["report.txt"]


def test_a_link_or_a_special_file_is_never_written(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not yours\n")
    (tmp_path / "link").symlink_to(elsewhere)
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    for name, says in (
        ("link", "symbolic link"),
        ("dangling", "symbolic link"),
        ("fifo", "not a regular file"),
        ("folder", "not a regular file"),
    ):
        with pytest.raises(UsageError, match=says):
            output.write_atomically(tmp_path / name, "x\n")
    assert elsewhere.read_text() == "not yours\n"
    assert not (tmp_path / "nothing").exists()
    assert names(tmp_path) == ["dangling", "elsewhere.txt", "fifo", "folder", "link"]


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("a bug in a reporter"),
        OSError(errno.EFBIG, "File too large"),
        KeyboardInterrupt(),
    ],
)
def test_a_failing_writer_leaves_the_previous_file_and_no_temporary(
    tmp_path: Path, failure: BaseException
) -> None:
    target = tmp_path / "report.json"
    target.write_text(PREVIOUS)

    def write(stream: object) -> None:
        stream.write("{" * 100_000)  # type: ignore[attr-defined]
        raise failure

    with pytest.raises(type(failure)):
        output.write_atomically(target, write)
    assert target.read_text() == PREVIOUS
    assert names(tmp_path) == ["report.json"]


def _child(tmp_path: Path, body: str) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import os, resource, signal, sys, time
        from conformance import output
        target = {str(tmp_path / "report.json")!r}
        {textwrap.indent(textwrap.dedent(body), "        ").strip()}
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_real_file_size_limit_leaves_the_previous_file(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(PREVIOUS)
    # as `ulimit -f 1` would: writes past 1 KiB fail with EFBIG (Python ignores SIGXFSZ)
    child = _child(
        tmp_path,
        """
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
        try:
            output.write_atomically(target, "x" * 100_000)
        except OSError as exc:
            print(exc.errno)
        """,
    )
    out, err = child.communicate(timeout=60)
    assert out.strip() == str(errno.EFBIG), err
    assert (tmp_path / "report.json").read_text() == PREVIOUS
    assert names(tmp_path) == ["report.json"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_write_leaves_the_previous_file(tmp_path: Path, signum: int) -> None:
    (tmp_path / "report.json").write_text(PREVIOUS)
    child = _child(
        tmp_path,
        """
        # as the command line does: SIGTERM unwinds like Ctrl-C; and Ctrl-C is Ctrl-C
        # even when this test runs as a background job, which starts with it ignored
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        signal.signal(signal.SIGINT, signal.default_int_handler)

        def write(stream):
            stream.write("{" * 10_000)
            stream.flush()
            print("writing", flush=True)
            time.sleep(60)

        output.write_atomically(target, write)
        """,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    assert len(names(tmp_path)) == 2  # the temporary file is there while it is written
    child.send_signal(signum)
    child.communicate(timeout=60)
    assert child.returncode != 0
    assert (tmp_path / "report.json").read_text() == PREVIOUS
    assert names(tmp_path) == ["report.json"]


def _capture(top: Path) -> Path:
    (top / "proc").mkdir(parents=True)
    (top / "proc/meminfo").write_bytes(MEMINFO)
    return top


def test_check_output_is_replaced_whole_and_never_through_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = _capture(tmp_path / "cap")
    report = tmp_path / "out/report.json"
    report.parent.mkdir()
    assert main(["check", "--output-format", "json", "--output", str(report), str(cap)]) == 0
    assert json.loads(report.read_text())["summary"]["files"] == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not yours\n")
    (tmp_path / "out/link.json").symlink_to(elsewhere)
    capsys.readouterr()
    assert main(["check", "--output", str(tmp_path / "out/link.json"), str(cap)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert elsewhere.read_text() == "not yours\n"

    def full_disk(report: object, fmt: str, stream: object, options: object) -> None:
        stream.write("{" * 50_000)  # type: ignore[attr-defined]
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(targets, "write_report", full_disk)
    before = report.read_text()
    assert main(["check", "--output-format", "json", "--output", str(report), str(cap)]) == 2
    assert "cannot write the report: File too large" in capsys.readouterr().err
    assert report.read_text() == before
    assert names(report.parent) == ["link.json", "report.json"]


def test_schema_export_never_writes_through_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["schema", "export", str(out)]) == 0
    first = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert Path("bundled/meminfo.schema.json") in first
    assert Path("schemas/meta/balloon-meta.schema.json") in first
    assert main(["schema", "export", str(out)]) == 0  # again: each file replaced whole
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == first
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    other = tmp_path / "other"
    other.mkdir()
    (other / "bundled").symlink_to(elsewhere)
    (tmp_path / "file").write_text("x")
    capsys.readouterr()
    for target, says in (("link", "symbolic link"), ("other", "link"), ("file", "not a directory")):
        assert main(["schema", "export", str(tmp_path / target)]) == 2, target
        assert says in capsys.readouterr().err
    assert names(elsewhere) == []


def test_capture_refuses_an_outdir_that_is_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _capture(tmp_path / "root")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    assert main(["capture", "--root", str(root), str(tmp_path / "out")]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert names(elsewhere) == []
    (tmp_path / "t0").symlink_to(elsewhere)  # say, a snapshot's folder swapped for a link
    with pytest.raises(UsageError, match="symbolic link"):
        cli_capture.write_directory(tmp_path / "t0", {"proc/meminfo": MEMINFO})
    assert names(elsewhere) == []


def test_check_output_to_a_stream_is_written_in_place(tmp_path: Path) -> None:
    """/dev/null, /dev/stdout (a link to the stream) and '-' are what users pass to mean a
    stream: written in place, nothing to replace and nothing to clobber."""
    cap = str(_capture(tmp_path / "cap"))
    tool = [sys.executable, "-m", "conformance", "check", "--output-format", "json"]
    for target in ("-", "/dev/stdout"):
        done = subprocess.run([*tool, "--output", target, cap], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["summary"]["files"] == 1
    done = subprocess.run([*tool, "--output", "/dev/null", cap], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    assert subprocess.run([*tool, "--output", str(fifo), cap]).returncode == 0
    out, _ = reader.communicate(timeout=30)
    assert json.loads(out)["summary"]["files"] == 1
