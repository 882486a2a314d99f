"""Hostile capture tarballs: unsafe names, links and devices, bombs, lies about sizes, huge
or malformed extended headers, members hidden behind gzip boundaries, after the end of the
archive or under a name used twice.

Every case is read in place: the test asserts that nothing appears on disk, that memory
stays within the limits (tracemalloc), that the work is bounded (members and bytes looked
at), and that each problem is a ``capture.*`` finding. No assertion is on time.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.capture import Capture, Limits, read_capture
from conformance.capture_budget import Budget
from conformance.capture_tar import tar_records
from conformance.cli import main
from conformance.diagnostics import Severity
from conformance.tar_format import MAX_EXTENDED
from conformance.tar_stream import BoundedTarStream

MEMINFO = (
    Path(__file__).parent / "data/meminfo/capture-6.18.44-firecracker-virtio-balloon-guest.txt"
).read_bytes()
VMSTAT = b"nr_free_pages 1\nnr_balloon_pages 99999999999\n"


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data)
    return info, data


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]], end: bool = True) -> bytes:
    """The members as ustar blocks, with the end-of-archive blocks when ``end``."""
    out = io.BytesIO()
    for info, data in members:
        out.write(info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512))
    return out.getvalue() + (bytes(1024) if end else b"")


def extended(kind: bytes, data: bytes) -> bytes:
    """A pax (``x``/``g``) or GNU long-name (``L``/``K``) header holding ``data``."""
    info = tarfile.TarInfo("././@LongLink" if kind in b"LK" else "././@PaxHeader")
    info.type, info.size = kind, len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


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


def records(path: Path, limits: Limits | None = None) -> tuple[dict[str, bytes], Budget]:
    budget = Budget(limits or Limits(), "t")
    return dict(tar_records(path, budget)), budget


def ids(capture: Capture | Budget) -> list[tuple[str, str]]:
    """The warnings and errors, by id and path; notes on files that are not balloon-related
    (``capture.unknown-file``) are tested on their own."""
    return [(d.id, d.location.path) for d in capture.diagnostics if d.severity is not Severity.NOTE]


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


def peak_while(read: Callable[[], object]) -> int:
    """Peak traced memory while ``read()`` runs."""
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_decompression_bomb_is_cut_at_the_archive_limit(tmp_path: Path) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 256 << 20)
    assert archive.stat().st_size < 1 << 20
    found: list[Capture] = []
    peak = peak_while(lambda: found.append(read_untouched(archive, Limits(archive_bytes=16 << 20))))
    # a top-level file is read like any other, so its size is a finding first
    assert ids(found[0]) == [
        ("capture.file-too-large", "t/junk"),
        ("capture.archive-too-large", "t"),
    ]
    assert peak < 2 << 20  # 16 MiB inflated, never 256, never held


def test_a_member_claiming_more_than_there_is(tmp_path: Path) -> None:
    info, _ = member("proc/meminfo")
    info.size = 1 << 40  # a terabyte, in a tarball of a few hundred bytes
    (tmp_path / "liar.tar").write_bytes(info.tobuf() + MEMINFO)
    capture = read_untouched(tmp_path / "liar.tar")
    # skipped unread, and the tarball then ends early: both are said
    assert ids(capture) == [
        ("capture.file-too-large", "t/proc/meminfo"),
        ("capture.unreadable", "t"),
    ]
    assert "ends inside a member" in capture.diagnostics[1].message


@pytest.mark.parametrize("kind", [b"x", b"g", b"L", b"K"])
def test_huge_extended_headers_cost_bounded_memory(tmp_path: Path, kind: bytes) -> None:
    # 32 MiB of header in 33 kB of gzip: tarfile would hold all of it (and more) at once
    huge = extended(kind, b"a" * (32 << 20)) + tar_bytes([member("proc/vmstat", VMSTAT)])
    (tmp_path / "huge.tar.gz").write_bytes(gzip.compress(huge))
    found: list[Capture] = []
    peak = peak_while(lambda: found.append(read_untouched(tmp_path / "huge.tar.gz")))
    assert peak < 1 << 20
    assert ids(found[0]) == [("capture.header-too-large", "t")]
    assert f"over the limit of {MAX_EXTENDED}" in found[0].diagnostics[0].message


@pytest.mark.parametrize(
    "record",
    [
        b"0" * 16_000,  # the CVE-2024-6232 shape: a run of digits, quadratic in tarfile
        b"1 " + b"a" * 16_000,  # no '=': a backtracking regex scans to the end each time
        b"20 GNU.sparse.offset" + b"9" * 16_000,
        b"-12 foo=bar\n",
        b"0 foo=bar\n",
        b"1000000 foo=bar\n",
        b"12 foo bar\n\n",
        b"13 path=/x\n\n",  # its length says 13 but the newline is the 12th byte
    ],
)
def test_malformed_pax_records_are_findings(
    tmp_path: Path, record: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_tarfile(*args: object, **kwargs: object) -> None:
        raise AssertionError("a capture is not parsed by this interpreter's tarfile")

    # the interpreter's tarfile is slow on these shapes before 3.11.10/3.12.6 (the reason
    # for a reader of our own), so it must not be what reads them
    monkeypatch.setattr(tarfile.TarInfo, "frombuf", no_tarfile)
    raw = extended(b"x", record) + tar_bytes([member("proc/vmstat", VMSTAT)])
    (tmp_path / "pax.tar.gz").write_bytes(gzip.compress(raw))
    read, budget = records(tmp_path / "pax.tar.gz")
    assert read == {} and ids(budget) == [("capture.unreadable", "t")]
    assert "pax record" in budget.diagnostics[0].message
    assert "at byte 0 of the tar stream" in budget.diagnostics[0].message


def test_many_members_bounded_by_count(tmp_path: Path) -> None:
    members = [member(f"junk/{n}", b"x") for n in range(20_000)] + [member("proc/meminfo", MEMINFO)]
    archive = write_tar(tmp_path / "many.tar", members, "w")
    read, budget = records(archive)
    assert list(read) == ["proc/meminfo"] and ids(budget) == []
    assert budget.looked == 20_002  # each header once, and the end-of-archive block
    read, budget = records(archive, Limits(entries=1000))
    assert read == {} and ids(budget) == [("capture.too-many-entries", "t")]


def test_a_chain_of_long_names_is_counted(tmp_path: Path) -> None:
    # tarfile reads each header of a chain in a nested call: 3000 is a RecursionError there
    chain = b"".join(extended(b"L", b"proc/meminfo\0") for _ in range(3000))
    (tmp_path / "chain.tar").write_bytes(chain + tar_bytes([member("x", MEMINFO)]))
    read, budget = records(tmp_path / "chain.tar", Limits(entries=1000))
    assert read == {} and ids(budget) == [("capture.too-many-entries", "t")]
    assert budget.looked == 1001  # a chain of long names counts header by header


def test_an_endless_sparse_map_is_counted(tmp_path: Path) -> None:
    header = bytearray(member("sparse", b"")[0].tobuf(tarfile.GNU_FORMAT))
    header[156], header[482] = ord("S"), 1  # an old GNU sparse map that goes on
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    more = bytearray(512)
    more[504] = 1
    (tmp_path / "s.tar").write_bytes(bytes(header) + bytes(more) * 100)
    read, budget = records(tmp_path / "s.tar", Limits(entries=20))
    assert read == {} and ids(budget) == [("capture.too-many-entries", "t")]
    assert budget.looked == 21


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x1f\x8b" + bytes(range(256)) * 20, bytes(range(256)) * 40, gzip.compress(b"x" * 700)],
)
def test_garbage_is_unreadable(tmp_path: Path, garbage: bytes) -> None:
    (tmp_path / "g.tar.gz").write_bytes(garbage)
    assert [i for i, _ in ids(read_untouched(tmp_path / "g.tar.gz"))] == ["capture.unreadable"]


def gzip_member(data: bytes, length: int) -> bytes:
    """A gzip member of ``data`` exactly ``length`` bytes long (the file name pads it)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    trailer = zlib.crc32(data).to_bytes(4, "little") + len(data).to_bytes(4, "little")
    name = b"n" * (length - 10 - len(body) - 1 - len(trailer))
    assert name, "too short for the data"
    return b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\x03" + name + b"\0" + body + trailer


@pytest.mark.parametrize("length", [65_534, 65_535, 65_536, 65_537, 131_071])
def test_every_gzip_member_is_read(tmp_path: Path, length: int) -> None:
    # the second member starts at, or one byte before, a 64 KiB read: once taken for padding
    first = gzip_member(tar_bytes([member("proc/meminfo", MEMINFO)], end=False), length)
    second = gzip.compress(tar_bytes([member("proc/vmstat", VMSTAT)]))
    (tmp_path / "two.tar.gz").write_bytes(first + second)
    read, budget = records(tmp_path / "two.tar.gz")
    assert read == {"proc/meminfo": MEMINFO, "proc/vmstat": VMSTAT} and ids(budget) == []


def test_concatenated_gzip_members_and_padding_read_as_one_stream() -> None:
    payload = tar_bytes([member("proc/meminfo", MEMINFO)])
    packed = gzip.compress(payload[:1000]) + gzip.compress(payload[1000:]) + bytes(512)
    stream = BoundedTarStream(io.BytesIO(packed), 1 << 20)
    assert stream.read(len(payload) + 100) == payload
    assert stream.garbage_offset() is None  # zeros after the last member are padding
    stream = BoundedTarStream(io.BytesIO(packed + b"PK"), 1 << 20)
    assert stream.read(len(payload) + 100) == payload
    assert stream.garbage_offset() == len(packed)


HIDDEN = tar_bytes([member("proc/vmstat", VMSTAT)])


@pytest.mark.parametrize(
    ("packing", "where"),
    [
        (lambda tar: gzip.compress(tar) + gzip.compress(HIDDEN), "tar stream"),
        (lambda tar: tar[:-1024] + bytes(512) + HIDDEN, "tar stream"),  # one zero block
        (lambda tar: tar + bytes(10_000) + HIDDEN, "tar stream"),
        (lambda tar: gzip.compress(tar) + HIDDEN, "file"),
        (lambda tar: gzip.compress(tar) + bytes(512) + gzip.compress(HIDDEN), "file"),
    ],
)
def test_data_after_the_end_is_a_finding(
    tmp_path: Path, packing: Callable[[bytes], bytes], where: str
) -> None:
    tar = tar_bytes([member("proc/meminfo", MEMINFO)])
    (tmp_path / "h.tar.gz").write_bytes(packing(tar))
    read, budget = records(tmp_path / "h.tar.gz")
    assert read == {"proc/meminfo": MEMINFO}
    assert ids(budget) == [("capture.trailing-data", "t")]
    assert f"of the {where}" in budget.diagnostics[0].message
    (tmp_path / "padded.tar.gz").write_bytes(gzip.compress(tar + bytes(9216)) + bytes(4096))
    assert records(tmp_path / "padded.tar.gz")[1].diagnostics == []  # zeros are padding


def test_a_name_twice_is_a_finding_and_the_last_copy_is_checked(tmp_path: Path) -> None:
    good = b"nr_free_pages 1\nnr_balloon_pages 0\n"
    archive = write_tar(
        tmp_path / "twice.tar",
        [member("proc/vmstat", good), member("./proc/vmstat", VMSTAT), member("proc/meminfo")],
        "w",
    )
    read, budget = records(archive)
    assert read == {"proc/vmstat": VMSTAT, "proc/meminfo": b""}
    assert ids(budget) == [("capture.duplicate-path", "t/proc/vmstat")]
    assert "the last copy is the one checked" in budget.diagnostics[0].message
    link = member("proc/vmstat", kind=tarfile.SYMTYPE, link="/etc/passwd")
    write_tar(archive, [member("proc/vmstat", good), link], "w")
    read, budget = records(archive)
    assert read == {}  # extraction would leave the link, which is not followed
    assert [i for i, _ in ids(budget)] == ["capture.duplicate-path", "capture.symlink"]


def test_bomb_through_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 260 << 20)  # over the default 256 MiB
    assert main(["check", str(archive)]) == 1
    assert "[capture.archive-too-large]" in capsys.readouterr().out
