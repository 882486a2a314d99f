"""Hostile capture directories: links, special files, sizes, counts, depth and content.

Each case ends in a diagnostic, in bounded time, and never in a traceback; an alarm
fails a test that would block (a FIFO opened for reading without a writer would).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import capture_dir
from conformance import fleet as fleet_runner
from conformance.capture import Limits, read_capture
from conformance.check import check_capture
from conformance.cli import main

DATA = Path(__file__).parent / "data"
MEMINFO = (DATA / "meminfo/capture-6.18.44-firecracker-virtio-balloon-guest.txt").read_bytes()
VMSTAT = (DATA / "vmstat/capture-6.18.44-firecracker-virtio-balloon-guest.txt").read_bytes()


@pytest.fixture(autouse=True)
def no_blocking() -> Iterator[None]:
    """Fail, rather than hang, a test that blocks."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("blocked: the reader opened something it must not")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)  # a hang detector, generous for a loaded machine
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def ids(capture_or_result: object) -> list[tuple[str, str]]:
    found = getattr(capture_or_result, "diagnostics")  # noqa: B009 (Capture or CaptureResult)
    return sorted((d.id, d.location.path) for d in found)


def proc(root: Path) -> Path:
    (root / "proc").mkdir(parents=True, exist_ok=True)
    return root / "proc"


def test_symlinks_are_never_followed_inside_or_out(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(MEMINFO)
    root = tmp_path / "cap"
    os.symlink(secret, proc(root) / "meminfo")  # out of the capture
    (root / "vmstat.real").write_bytes(VMSTAT)
    os.symlink("../vmstat.real", root / "proc/vmstat")  # within it
    devices = root / "sys/bus/virtio/devices"
    (root / "sys/devices/virtio0").mkdir(parents=True)
    (root / "sys/devices/virtio0/features").write_text("0" * 64 + "\n")
    devices.mkdir(parents=True)
    os.symlink("../../../devices/virtio0", devices / "virtio0")  # as sysfs links devices
    os.symlink("/", root / "var")  # a directory link that could lead anywhere
    capture = read_capture(root, name="cap")
    assert capture.files == ()
    assert ids(capture) == [
        ("capture.symlink", "cap/proc/meminfo"),
        ("capture.symlink", "cap/proc/vmstat"),
        ("capture.symlink", "cap/sys/bus/virtio/devices/virtio0"),
        ("capture.symlink", "cap/var"),
        ("capture.unknown-file", "cap/sys/devices/virtio0/features"),  # not a virtio path
        ("capture.unknown-file", "cap/vmstat.real"),  # vmstat is found by name only
    ]
    assert "cp -rL" in capture.diagnostics[0].message


def test_hard_links_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(MEMINFO)
    root = tmp_path / "cap"
    os.link(outside, proc(root) / "meminfo")
    capture = read_capture(root, name="cap")
    assert capture.files == ()
    assert ids(capture) == [("capture.hard-link", "cap/proc/meminfo")]


def test_fifo_socket_and_device_are_never_opened() -> None:
    # a short path: a socket's name must fit in 108 bytes
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        root = Path(top)
        os.mkfifo(proc(root) / "meminfo")
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(root / "proc/vmstat"))
        expected = [
            ("capture.special-file", "c/proc/meminfo"),
            ("capture.special-file", "c/proc/vmstat"),
        ]
        try:
            (root / "sys/kernel/debug").mkdir(parents=True)
            os.mknod(root / "sys/kernel/debug/hv-balloon", stat.S_IFCHR | 0o600, os.makedev(1, 5))
            expected.insert(0, ("capture.special-file", "c/sys/kernel/debug/hv-balloon"))
        except PermissionError:
            pass  # not root: the device case is left out
        capture = read_capture(root, name="c")
        server.close()
    assert capture.files == ()
    assert sorted(ids(capture)) == sorted(expected)
    messages = {d.message for d in capture.diagnostics}
    assert {"a FIFO; not opened", "a socket; not opened"} <= messages


def test_file_and_capture_size_limits(tmp_path: Path) -> None:
    (proc(tmp_path) / "meminfo").write_bytes(MEMINFO + b"x" * (1024 * 1024))
    (tmp_path / "proc/vmstat").write_bytes(VMSTAT)
    capture = read_capture(tmp_path, name="c")
    assert [f.path for f in capture.files] == ["c/proc/vmstat"]
    assert ids(capture) == [("capture.file-too-large", "c/proc/meminfo")]
    assert "--max-file-size" in capture.diagnostics[0].message
    (tmp_path / "proc/meminfo").write_bytes(MEMINFO)
    capture = read_capture(tmp_path, Limits(capture_bytes=len(MEMINFO) + 10), name="c")
    assert [f.path for f in capture.files] == ["c/proc/meminfo"]
    assert ids(capture) == [("capture.too-large", "c/proc/vmstat")]


def test_max_file_size_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (proc(tmp_path) / "meminfo").write_bytes(MEMINFO)
    # the only file was skipped, so nothing was checked: never a green run (issue 8)
    assert main(["check", "--max-file-size", "1k", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "over the limit of 1024 bytes" in out and "[capture.empty]" in out


class CountingScandir:
    """``os.scandir`` that counts the entries the reader is given: the walk's work."""

    def __init__(self) -> None:
        self.entries = 0
        self.scandir = os.scandir

    def __call__(self, where: Any) -> Any:
        counter = self

        class Listing:
            def __init__(self) -> None:
                self.inner = counter.scandir(where)

            def __enter__(self) -> Listing:
                return self

            def __exit__(self, *exc: object) -> None:
                self.inner.close()

            def __iter__(self) -> Iterator[os.DirEntry[str]]:
                for entry in self.inner:
                    counter.entries += 1
                    yield entry

        return Listing()


def test_tens_of_thousands_of_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (proc(tmp_path) / "meminfo").write_bytes(MEMINFO)
    junk = tmp_path / "junk"
    junk.mkdir()
    for number in range(5_000):
        (junk / f"f{number}").touch()  # never looked into: junk/ holds no guest file
    devices = tmp_path / "sys/bus/virtio/devices"
    for number in range(300):
        (devices / f"virtio{number}").mkdir(parents=True)
        (devices / f"virtio{number}/features").write_text("0" * 64 + "\n")
    counting = CountingScandir()
    monkeypatch.setattr(capture_dir.os, "scandir", counting)
    capture = read_capture(tmp_path, Limits(files=100), name="c")
    # the work is the entries listed: the 300 devices' folders and files, never junk/'s
    assert counting.entries < 1_000
    monkeypatch.undo()
    assert len(capture.files) == 100
    assert ids(capture) == [("capture.too-many-files", "c"), ("capture.unknown-file", "c/junk")]
    for number in range(20_000):
        (tmp_path / f"top{number}").touch()  # at the top, every entry is looked at
    capture = read_capture(tmp_path, Limits(entries=5_000), name="c")
    assert ("capture.too-many-entries", "c") in ids(capture)


def test_deep_nesting_stops_at_the_depth_limit(tmp_path: Path) -> None:
    deep = tmp_path / "sys/devices" / Path(*["d"] * 60) / "virtio0"
    deep.mkdir(parents=True)
    (deep / "features").write_text("0" * 64 + "\n")
    capture = read_capture(tmp_path, name="c")
    assert capture.files == ()
    [(rule, where)] = ids(capture)
    assert rule == "capture.too-deep"
    assert where == "c/sys/devices/" + "/".join(["d"] * 15)  # 17 levels below the capture


CONTENT = {
    "binary": bytes(range(256)) * 64,
    "nul-bytes": MEMINFO.replace(b"\n", b"\0\n", 5),
    "invalid-utf-8": MEMINFO.replace(b"MemFree", b"Mem\xff\xfeFree"),
    "bom": b"\xef\xbb\xbf" + MEMINFO,
    "crlf": MEMINFO.replace(b"\n", b"\r\n"),
    "no-trailing-newline": MEMINFO.rstrip(b"\n"),
    "long-line": b"MemTotal: " + b"1" * 500_000 + b" kB\n" + b"x" * 400_000 + b"\n",
    "huge-numbers": MEMINFO.replace(b"24684084", b"9" * 5000).replace(
        b"MemFree:", b"MemFree: " + b"8" * 3000
    ),
}


@pytest.mark.parametrize("case", sorted(CONTENT))
def test_hostile_content_through_check(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = CONTENT[case]
    (proc(tmp_path / "cap") / "meminfo").write_bytes(data)
    (tmp_path / "cap/proc/vmstat").write_bytes(data)
    (tmp_path / "cap/hv-balloon").write_bytes(data)
    (tmp_path / "cap/dmesg").write_bytes(b"Mem-Info:\n" + data)
    result = check_capture(read_capture(tmp_path / "cap"))
    assert any(d.severity.value == "error" for d in result.diagnostics), case
    capsys.readouterr()
    for fmt in ("text", "json", "junit", "sarif", "github"):
        assert main(["check", "--output-format", fmt, str(tmp_path / "cap")]) == 1
        captured = capsys.readouterr()
        assert captured.err == "", captured.err
        if fmt in ("json", "sarif"):
            json.loads(captured.out)
        elif fmt == "junit":
            ET.fromstring(captured.out)


def test_hostile_names_are_escaped_in_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet"
    name = os.fsdecode(b"guest-\x1b[2J-\xff\n")
    (proc(fleet / name) / "meminfo").write_bytes(MEMINFO.replace(b"MemFree", b"MemFree\x1b[31m"))
    assert main(["check", str(fleet)]) in (0, 1)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out and "\\xff\\n" in out


def test_hostile_manifests(tmp_path: Path) -> None:
    for text, expected in (
        ("[" * 100_000 + "]" * 100_000, "capture.manifest"),
        ('{"page_size": ' + "9" * 4000 + "}", "capture.manifest"),
        ('{"kernel_release": "' + "6" * 200_000 + '"}', None),
        ("\ufeff{}", "capture.manifest"),
    ):
        (tmp_path / "capture.json").write_text(text)
        result = check_capture(read_capture(tmp_path, name="c"))
        found = {d.id for d in result.diagnostics}
        assert expected is None or expected in found, (text[:20], found)


SENTINEL = b"Sentinel:     4242424242 kB\n"
TOOL = Path(sys.executable).with_name("balloon-conform")


def _outside_tarball(path: Path) -> None:
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("proc/meminfo")
        info.size = len(MEMINFO + SENTINEL)
        archive.addfile(info, io.BytesIO(MEMINFO + SENTINEL))


def test_links_posing_as_fleet_members_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (proc(outside) / "meminfo").write_bytes(MEMINFO + SENTINEL)
    _outside_tarball(tmp_path / "outside.tar")
    fleet = tmp_path / "fleet"
    (proc(fleet / "guest") / "meminfo").write_bytes(MEMINFO)
    os.symlink(tmp_path / "outside.tar", fleet / "evil.tar")
    os.symlink(outside, fleet / "linked")
    done = subprocess.run(
        [str(TOOL), "check", "--output-format", "json", str(fleet)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "4242424242" not in done.stdout
    report = json.loads(done.stdout)
    found = {
        c["name"]: [(d["id"], d["severity"]) for d in c["diagnostics"]] for c in report["captures"]
    }
    assert found == {
        f"{fleet}/evil.tar": [("capture.symlink", "error")],
        f"{fleet}/guest": [],
        f"{fleet}/linked": [("capture.symlink", "error")],
    }
    assert report["summary"]["files"] == 1


def test_a_member_gone_or_replaced_after_listing_is_a_finding_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = tmp_path / "fleet"
    for member in ("a", "b", "c", "d"):
        (proc(fleet / member) / "meminfo").write_bytes(MEMINFO)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/meminfo").write_bytes(MEMINFO + SENTINEL)
    read = fleet_runner.read_capture

    def changed_then_read(path: Path, *args: Any, **kwargs: Any) -> Any:
        if (fleet / "b").exists():  # the fleet changes once, after it was listed
            shutil.rmtree(fleet / "b")  # gone
            shutil.rmtree(fleet / "c")
            (fleet / "c").write_bytes(b"")  # no longer a directory
            shutil.rmtree(fleet / "d/proc")
            os.symlink(tmp_path / "outside", fleet / "d/proc")  # a link inside the member
        return read(path, *args, **kwargs)

    monkeypatch.setattr(fleet_runner, "read_capture", changed_then_read)
    assert main(["check", "--output-format", "json", str(fleet)]) == 1
    out = capsys.readouterr().out
    assert "4242424242" not in out
    report = json.loads(out)
    found = {
        c["name"].rsplit("/", 1)[1]: [
            (d["id"], d["severity"], d["message"]) for d in c["diagnostics"]
        ]
        for c in report["captures"]
    }
    assert found["a"] == []
    assert found["b"] == [("capture.unreadable", "error", "cannot open: No such file or directory")]
    assert found["c"] == [("capture.unreadable", "error", "a file, not a capture or tarball")]
    # the link inside d is refused, so nothing was read from d: that is an error too
    assert [i for i, _, _ in found["d"]] == ["capture.empty", "capture.symlink"]
    assert report["summary"]["captures"] == 4
    assert report["summary"]["files"] == 1


@pytest.mark.parametrize("extra", [0, 1, 2])
def test_the_entry_budget_counts_every_entry_of_every_folder(tmp_path: Path, extra: int) -> None:
    """The limit is on entries looked at in the whole capture, across its folders: at the
    limit everything is read; past it, the finding, once, and the entries past it are
    not looked at."""
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_bytes(MEMINFO)
    for number in range(3):
        (tmp_path / f"top{number}").touch()
    # the top holds proc and top0..top2 (4 entries), proc holds meminfo (1)
    capture = read_capture(tmp_path, Limits(entries=5 - extra), name="c")
    too_many = [d for d in capture.diagnostics if d.id == "capture.too-many-entries"]
    assert len(too_many) == (1 if extra else 0)
    assert [f.path for f in capture.files] == ([] if extra else ["c/proc/meminfo"])
    if extra == 1:  # proc, top0, top1, top2 looked at: the top's notes, no meminfo
        assert sum(d.id == "capture.unknown-file" for d in capture.diagnostics) == 3


def test_an_error_while_reading_a_guest_file_is_never_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an entry gone between the listing and the look at it is skipped (and then
    said); an error once a guest file is open goes up, and the fleet check makes it a
    finding on the capture instead of leaving the file out in silence."""
    from conformance import fleet
    from conformance.check import CheckOptions

    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_bytes(MEMINFO)

    class FailingStatus:  # the reader's os, whose fstat of an open file fails
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def fstat(fd: int) -> os.stat_result:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(capture_dir, "os", FailingStatus())
    with pytest.raises(OSError):
        read_capture(tmp_path, name="c")
    result = fleet.check_one(tmp_path, CheckOptions())
    assert [d.id for d in result.diagnostics] == ["capture.unchecked"]
