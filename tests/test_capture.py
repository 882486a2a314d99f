"""Reading captures: the three layouts, fleets, and what is skipped (and said so)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conformance import capture
from conformance.capture import (
    Limits,
    capture_from_files,
    fleet_members,
    is_capture,
    read_capture,
)
from conformance.capture_budget import may_hold
from conformance.cli import main

from .test_pipeline import HV

FEATURES = "0110000000000000000000000000000010000000000000000000000000000000\n"


def make_root(root: Path) -> Path:
    (root / "sys/kernel/debug").mkdir(parents=True)
    (root / "sys/kernel/debug/hv-balloon").write_text(HV)
    device = root / "sys/bus/virtio/devices/virtio0"
    device.mkdir(parents=True)
    (device / "features").write_text(FEATURES)
    (device / "device").write_text("0x0005\n")
    return root


def summary(capture):  # type: ignore[no-untyped-def]
    return (
        [(f.format, f.path, dict(f.context)) for f in capture.files],
        [(d.id, d.location.path) for d in capture.diagnostics],
    )


def test_root_layout(tmp_path: Path) -> None:
    root = make_root(tmp_path / "cap")
    (root / "sys/devices/system/node/node0").mkdir(parents=True)
    (root / "sys/devices/system/node/node0/meminfo").write_text("Node 0 MemTotal: 1 kB\n")
    files, problems = summary(read_capture(root, name="cap"))
    assert files == [
        ("virtio-features", "cap/sys/bus/virtio/devices/virtio0/features", {"device": "0x0005\n"}),
        ("hv-balloon", "cap/sys/kernel/debug/hv-balloon", {}),
    ]
    # a node's meminfo has another layout: not checked as /proc/meminfo, but said
    assert problems == [("capture.unknown-file", "cap/sys/devices/system/node/node0/meminfo")]
    assert is_capture(root)


def test_flat_layout(tmp_path: Path) -> None:
    (tmp_path / "hv-balloon.txt").write_text(HV)
    (tmp_path / "notes.md").write_text("# not a guest file\n")
    files, _ = summary(read_capture(tmp_path, name="flat"))
    assert files == [("hv-balloon", "flat/hv-balloon.txt", {})]


def test_tarball_read_in_place(tmp_path: Path) -> None:
    make_root(tmp_path / "cap")
    archive = tmp_path / "cap.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "cap", arcname="cap")
    before = sorted(p.name for p in tmp_path.iterdir())
    files, problems = summary(read_capture(archive, name="cap.tar.gz"))
    assert [f[1] for f in files] == [
        "cap.tar.gz/sys/bus/virtio/devices/virtio0/features",
        "cap.tar.gz/sys/kernel/debug/hv-balloon",
    ]
    assert problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted


def test_tarball_unsafe_members_are_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("../sys/kernel/debug/hv-balloon", "/proc/meminfo"):
            info = tarfile.TarInfo(name)
            info.size = len(HV)
            tar.addfile(info, io.BytesIO(HV.encode()))
        link = tarfile.TarInfo("sys/kernel/debug/hv-balloon")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)
    capture = read_capture(archive, name="evil.tar")
    assert capture.files == ()
    assert [d.id for d in capture.diagnostics] == [
        "capture.unsafe-path",
        "capture.unsafe-path",
        "capture.symlink",
    ]


def test_symlinks_and_special_files_are_not_opened(tmp_path: Path) -> None:
    root = tmp_path / "cap"
    (root / "sys/kernel/debug").mkdir(parents=True)
    (root / "sys/bus/virtio/devices/virtio0").mkdir(parents=True)
    os.symlink("/etc/passwd", root / "sys/kernel/debug/hv-balloon")
    os.mkfifo(root / "sys/bus/virtio/devices/virtio0/features")  # reading it would block
    capture = read_capture(root, name="cap")
    assert capture.files == ()
    assert sorted(d.id for d in capture.diagnostics) == ["capture.special-file", "capture.symlink"]


def test_size_limit(tmp_path: Path) -> None:
    (tmp_path / "hv-balloon").write_text(HV)
    capture = read_capture(tmp_path, Limits(file_bytes=100), name="c")
    assert capture.files == ()
    assert [d.id for d in capture.diagnostics] == ["capture.file-too-large"]


def test_manifest(tmp_path: Path) -> None:
    (tmp_path / "capture.json").write_text('{"kernel_release": "6.15.0"}')
    assert read_capture(tmp_path).manifest == {"kernel_release": "6.15.0"}
    (tmp_path / "capture.json").write_text("{broken")
    capture = read_capture(tmp_path, name="c")
    assert capture.manifest is None
    assert [(d.id, d.severity.value) for d in capture.diagnostics] == [
        ("capture.manifest", "error")
    ]


def test_fleet(tmp_path: Path) -> None:
    for name in ("guest-b", "guest-a"):
        make_root(tmp_path / name)
    assert not is_capture(tmp_path)
    assert [p.name for p in fleet_members(tmp_path)] == ["guest-a", "guest-b"]


def test_not_a_capture_is_a_finding_not_an_exception(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    os.mkfifo(tmp_path / "fifo.tar")  # opening it could block: it is never opened
    (tmp_path / "x.tar.xz").write_bytes(b"\xfd7zXZ\x00")
    for name, found in (
        ("file.txt", "capture.unreadable"),
        ("gone", "capture.unreadable"),
        ("fifo.tar", "capture.special-file"),
        ("x.tar.xz", "capture.unreadable"),  # a capture, in a compression not read
    ):
        capture = read_capture(tmp_path / name, name=name)
        assert capture.files == ()
        assert [(d.id, d.severity.value, d.location.path) for d in capture.diagnostics] == [
            (found, "error", name)
        ]


def test_files_from_memory_are_held_to_the_same_rules() -> None:
    capture = capture_from_files(
        {
            "sys/bus/virtio/devices/virtio0/features": FEATURES.encode(),
            "sys/bus/virtio/devices/virtio0/device": b"0x0005\n",
            "proc/meminfo": b"x" * 200,
            "notes.txt": b"not a guest file",
            "capture.json": b'{"kernel_release": "6.18.0"}',
        },
        Limits(file_bytes=150),
        name="live",
    )
    assert [(f.path, dict(f.context)) for f in capture.files] == [
        ("live/sys/bus/virtio/devices/virtio0/features", {"device": "0x0005\n"})
    ]
    assert capture.manifest == {"kernel_release": "6.18.0"}
    assert sorted((d.id, d.location.path) for d in capture.diagnostics) == [
        ("capture.file-too-large", "live/proc/meminfo"),
        ("capture.unknown-file", "live/notes.txt"),
    ]


@pytest.mark.parametrize(
    ("directory", "walked"),
    [
        ("proc", True),
        ("proc/sys", False),
        ("sys/kernel/debug", True),
        ("sys/bus/virtio/devices/virtio3", True),
        ("sys/devices/pci0000:00/0000:00:01.0", True),
        ("sys/class", False),
        ("var/log", True),
        ("home", False),
    ],
)
def test_a_walk_enters_only_directories_that_can_hold_a_guest_file(
    directory: str, walked: bool
) -> None:
    assert may_hold(directory) is walked


DUMP = Path(__file__).parent / "data/show-mem/template-2.6-6.15-x86_64-two-nodes-balloon.txt"
BAD_DUMP = Path(__file__).parent / "data/show-mem/bad-node-bad-number.txt"


def test_files_of_no_known_name_are_checked_by_content_or_listed() -> None:
    dump = DUMP.read_bytes()
    capture = capture_from_files(
        {
            "console.log": b"[    0.000000] Linux version 6.15.0\n" + dump,
            "dmesg-show_mem": dump,
            "logs/serial.log": dump,
            "hv.txt": HV.encode(),
            "boot.log": b"[    0.000000] Linux version 6.15.0\n",  # a log, but no dump
            "dmesg": b"[    0.000000] Linux version 6.15.0\n",  # known log name: quiet
            "numastat": b"numa_hit 1\nnuma_miss 0\n",  # vmstat-shaped: found by name only
            "notes.md": b"# not a guest file\n",
            "both": HV.encode() + b"MemTotal: 1 kB\n",  # two formats claim it: not checked
        },
        name="c",
    )
    assert [(f.format, f.path) for f in capture.files] == [
        ("show-mem", "c/console.log"),
        ("show-mem", "c/dmesg-show_mem"),
        ("hv-balloon", "c/hv.txt"),
        ("show-mem", "c/logs/serial.log"),
    ]
    assert sorted((d.id, d.severity.value, d.location.path) for d in capture.diagnostics) == [
        ("capture.unknown-file", "note", "c/boot.log"),
        ("capture.unknown-file", "note", "c/both"),
        ("capture.unknown-file", "note", "c/notes.md"),
        ("capture.unknown-file", "note", "c/numastat"),
    ]
    assert capture.diagnostics[0].message == "not a balloon-related file; not checked"


def test_a_renamed_kernel_log_is_checked_end_to_end(tmp_path: Path) -> None:
    cap = tmp_path / "cap"
    cap.mkdir()
    (cap / "console.log").write_bytes(b"[    1.000000] booting\n" + BAD_DUMP.read_bytes())
    (cap / "README").write_text("how this capture was taken\n")
    (cap / "logs").mkdir()  # a folder that can hold no guest file: not looked into, but said
    (cap / "logs/boot.log").write_text("[    0.000000] Linux version 6.15.0\n")
    tool = Path(sys.executable).with_name("balloon-conform")
    done = subprocess.run(
        [str(tool), "check", "--output-format", "json", str(cap)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the dump's bad number is found
    [result] = json.loads(done.stdout)["captures"]
    assert result["files"] == [f"{cap}/console.log"]
    found = {(d["id"], d["file"]) for d in result["diagnostics"]}
    assert ("capture.unknown-file", f"{cap}/README") in found
    assert ("capture.unknown-file", f"{cap}/logs") in found
    assert any(
        d["file"] == f"{cap}/console.log" and d["severity"] == "error"
        for d in result["diagnostics"]
    )


def test_other_files_never_spend_the_budget_guest_files_need(tmp_path: Path) -> None:
    for number in range(5):
        (tmp_path / f"a{number}.txt").write_text("not a guest file\n")
    (tmp_path / "hv-balloon").write_text(HV)
    capture = read_capture(tmp_path, Limits(files=3), name="c")
    assert [f.path for f in capture.files] == ["c/hv-balloon"]
    assert [d.id for d in capture.diagnostics].count("capture.too-many-files") == 1
    assert [d.id for d in capture.diagnostics].count("capture.unknown-file") == 2


def test_a_directory_of_renamed_logs_is_a_capture_and_a_folder_of_them_a_fleet(
    tmp_path: Path,
) -> None:
    for guest in ("guest-a", "guest-b"):
        (tmp_path / guest).mkdir()
        (tmp_path / guest / "serial.log").write_bytes(DUMP.read_bytes())
        (tmp_path / guest / "README").write_text("not a guest file\n")
        assert is_capture(tmp_path / guest)
    assert not is_capture(tmp_path)
    assert [p.name for p in fleet_members(tmp_path)] == ["guest-a", "guest-b"]
    (tmp_path / "console.log").write_bytes(DUMP.read_bytes())  # a fleet's own stray log
    assert not is_capture(tmp_path)  # members that are captures by name make it a fleet
    (tmp_path / "guest-c/proc").mkdir(parents=True)
    assert not is_capture(tmp_path)


def test_a_capture_named_through_a_link_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_root(tmp_path / "cap")
    (tmp_path / "latest").symlink_to(tmp_path / "cap")
    assert is_capture(tmp_path / "latest")  # taken for a capture, so that reading says why
    assert main(["check", str(tmp_path / "latest")]) == 1
    out = capsys.readouterr().out
    assert "a symbolic link; not followed (name the capture itself" in out
    assert "[capture.symlink]" in out
    assert main(["check", str(tmp_path / "cap")]) == 1  # two drivers: but it was read
    assert "balloon.single-driver" in capsys.readouterr().out


def test_telling_a_capture_from_a_fleet_reads_a_bounded_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(100):
        (tmp_path / f"m{number:03}").mkdir()
        (tmp_path / f"m{number:03}/README").write_text("not a guest file\n")
    peeked: list[str] = []
    real = capture._peek

    def counted(top: int, name: str) -> bytes:
        peeked.append(name)
        return real(top, name)

    monkeypatch.setattr(capture, "_peek", counted)
    assert not is_capture(tmp_path)
    assert len(peeked) == 64


def test_each_guest_file_is_read_in_one_read_and_looked_at_through_its_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capture's small files cost one read each (asked for one byte more than their
    size, they give exactly their size only at their end) and one status, of the
    descriptor read from: no second look at each file by its name."""
    root = make_root(tmp_path / "cap")
    (root / "sys/kernel/debug/not-a-guest-file").write_text("x\n")
    reads: list[int] = []
    fstats: list[int] = []
    real_read, real_fstat = os.read, os.fstat
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    monkeypatch.setattr(os, "fstat", lambda fd: fstats.append(fd) or real_fstat(fd))
    result = read_capture(root)
    sizes = [len(f.data) for f in result.files]
    assert len(sizes) == 2  # hv-balloon, features (+ the device file beside it)
    files = (HV, FEATURES, "0x0005\n", "x\n")  # the other file is read last, for its note
    assert sorted(reads) == sorted(len(text) + 1 for text in files)
    assert len(fstats) == 1 + len(reads)  # the capture itself, then each file read


def test_a_file_that_changed_size_since_its_status_is_read_to_its_end(tmp_path: Path) -> None:
    from conformance.capture_dir import read_bounded

    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_bounded(fd, 100, size=3) == b"0123456789"  # grew
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_bounded(fd, 100, size=50) == b"0123456789"  # shrank
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_bounded(fd, 5, size=3) == b"01234"  # never past the limit
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_bounded(fd, 100) == b"0123456789"
    finally:
        os.close(fd)
