"""Hostile capture tarballs: unsafe names, links and devices, bombs, lies about sizes.

Every case is read in place: the test asserts that nothing appears on disk, that memory
stays within the limits (tracemalloc), and that each problem is a ``capture.*`` finding.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.capture import Capture, Limits, read_capture
from conformance.capture_tar import BoundedTarStream
from conformance.cli import main

MEMINFO = (
    Path(__file__).parent / "data/meminfo/capture-6.18.44-firecracker-virtio-balloon-guest.txt"
).read_bytes()


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data)
    return info, data


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:  # type: ignore[call-overload]
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def read_untouched(path: Path, limits: Limits | None = None) -> Capture:
    """Read the tarball; assert that its folder (and the working one) gained nothing."""
    before = sorted(os.listdir(path.parent)), sorted(os.listdir("."))
    capture = read_capture(path, limits, name="t")
    assert (sorted(os.listdir(path.parent)), sorted(os.listdir("."))) == before
    return capture


def ids(capture: Capture) -> list[tuple[str, str]]:
    return [(d.id, d.location.path) for d in capture.diagnostics]


def test_unsafe_names_links_and_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    archive = write_tar(
        tmp_path / "evil.tar.gz",
        [
            member("../../proc/meminfo", MEMINFO),
            member("/proc/vmstat", MEMINFO),
            member("proc/../../../etc/passwd", MEMINFO),
            member("proc/meminfo", kind=tarfile.SYMTYPE, link="/etc/shadow"),
            member("proc/vmstat", kind=tarfile.LNKTYPE, link="../../etc/shadow"),
            member("sys/kernel/debug/hv-balloon", kind=tarfile.CHRTYPE),
            member("sys/kernel/debug/vmmemctl", kind=tarfile.FIFOTYPE),
            member("sys/kernel/debug/virtio-balloon", kind=tarfile.BLKTYPE),
            member("\x1b[2Jmeminfo/../../x", MEMINFO),
        ],
    )
    capture = read_untouched(archive)
    assert capture.files == ()
    assert ids(capture) == [
        ("capture.unsafe-path", "t/../../proc/meminfo"),
        ("capture.unsafe-path", "t//proc/vmstat"),
        ("capture.unsafe-path", "t/proc/../../../etc/passwd"),
        ("capture.symlink", "t/proc/meminfo"),
        ("capture.hard-link", "t/proc/vmstat"),
        ("capture.special-file", "t/sys/kernel/debug/hv-balloon"),
        ("capture.special-file", "t/sys/kernel/debug/vmmemctl"),
        ("capture.special-file", "t/sys/kernel/debug/virtio-balloon"),
        ("capture.unsafe-path", "t/\\x1b[2Jmeminfo/../../x"),
    ]


def zeros(size: int) -> Iterator[bytes]:
    chunk = bytes(1 << 20)
    for _ in range(size // len(chunk)):
        yield chunk


def bomb(path: Path, inflated: int) -> Path:
    """A tarball of one member of ``inflated`` zero bytes, about 1000 times smaller."""
    header = tarfile.TarInfo("junk")
    header.size = inflated
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        out.write(deflate.compress(header.tobuf()))
        for chunk in zeros(inflated):
            out.write(deflate.compress(chunk))
        out.write(deflate.flush())
    return path


def test_decompression_bomb_is_cut_at_the_archive_limit(tmp_path: Path) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 256 << 20)
    assert archive.stat().st_size < 1 << 20
    tracemalloc.start()
    started = time.monotonic()
    capture = read_untouched(archive, Limits(archive_bytes=16 << 20))
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ids(capture) == [("capture.archive-too-large", "t")]
    assert elapsed < 5 and peak < 8 << 20  # 16 MiB inflated, never 256, never held


def test_a_member_claiming_more_than_there_is(tmp_path: Path) -> None:
    info, _ = member("proc/meminfo")
    info.size = 1 << 40  # a terabyte, in a tarball of a few hundred bytes
    raw = io.BytesIO()
    raw.write(info.tobuf())
    raw.write(MEMINFO)
    (tmp_path / "liar.tar").write_bytes(raw.getvalue())
    capture = read_untouched(tmp_path / "liar.tar")
    # skipped unread, and the tarball then ends early: both are said
    assert ids(capture) == [
        ("capture.file-too-large", "t/proc/meminfo"),
        ("capture.unreadable", "t"),
    ]


def test_pax_header_claiming_gigabytes_is_bounded(tmp_path: Path) -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, 1 << 30
    (tmp_path / "pax.tar.gz").write_bytes(gzip.compress(info.tobuf() + bytes(4096)))
    tracemalloc.start()
    capture = read_untouched(tmp_path / "pax.tar.gz", Limits(archive_bytes=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [i for i, _ in ids(capture)] in (["capture.unreadable"], ["capture.archive-too-large"])
    assert peak < 4 << 20


def test_many_members_and_garbage(tmp_path: Path) -> None:
    members = [member(f"junk/{n}", b"x") for n in range(20_000)] + [member("proc/meminfo", MEMINFO)]
    archive = write_tar(tmp_path / "many.tar", members, "w")
    started = time.monotonic()
    capture = read_untouched(archive)
    assert time.monotonic() - started < 5
    assert [f.path for f in capture.files] == ["t/proc/meminfo"] and ids(capture) == []
    capture = read_untouched(archive, Limits(entries=1000))
    assert ids(capture) == [("capture.too-many-entries", "t")]
    for garbage in (
        b"",
        b"\x1f\x8b" + os.urandom(5000),
        os.urandom(10_000),
        gzip.compress(b"x" * 700),
    ):
        (tmp_path / "g.tar.gz").write_bytes(garbage)
        assert [i for i, _ in ids(read_untouched(tmp_path / "g.tar.gz"))] in (
            [],
            ["capture.unreadable"],
        )


def test_concatenated_gzip_members_and_padding_read_as_one_stream() -> None:
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info, data = member("proc/meminfo", MEMINFO)
        archive.addfile(info, io.BytesIO(data))
    payload = tar.getvalue()
    packed = gzip.compress(payload[:1000]) + gzip.compress(payload[1000:]) + bytes(512)
    stream = BoundedTarStream(io.BytesIO(packed), 1 << 20)
    assert stream.read(len(payload) + 100) == payload
    with pytest.raises(OSError):
        stream.seek(0)  # forward only


def test_bomb_through_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 260 << 20)  # over the default 256 MiB
    assert main(["check", str(archive)]) == 1
    assert "[capture.archive-too-large]" in capsys.readouterr().out
