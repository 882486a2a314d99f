"""Property tests of the tarball reader over tar header shapes.

Archives are built piece by piece from headers with random size fields (octal, base-256,
negative, garbage), bogus checksums, pax records with huge, negative or garbage lengths,
chains of GNU long names, zero blocks and raw bytes; then truncated anywhere and packed as
gzip members split at random places. Whatever comes, reading never raises, never goes past
any limit of the budget, and a member placed after others is either read or reported.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import capture_tar
from conformance.capture_budget import Budget, Limits
from conformance.diagnostics import Severity
from conformance.tar_stream import BoundedTarStream

LIMITS = Limits(
    file_bytes=4096, capture_bytes=12_000, files=6, entries=60, archive_bytes=256 * 1024
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = [b"0", b"\0", b"1", b"2", b"3", b"5", b"6", b"7", b"x", b"g", b"L", b"K", b"S", b"D"]
NAMES = ["proc/meminfo", "./proc/vmstat", "dmesg", "junk/x", "console.log", "../x", "", "."]


def checksummed(block: bytearray, mode: str) -> bytes:
    """``block`` with its checksum field set as ``mode`` says."""
    block[148:156] = b" " * 8
    total = sum(block) if mode != "signed" else sum(b - 256 if b > 127 else b for b in block)
    if mode == "bogus":
        total += 1
    block[148:156] = b"%06o\0 " % (total % 0o1000000)
    return bytes(block)


@st.composite
def size_fields(draw: st.DrawFn, size: int) -> bytes:
    shape = draw(st.sampled_from(["octal"] * 3 + ["base-256", "negative", "garbage", "huge"]))
    if shape == "octal":
        return b"%011o\0" % size
    if shape == "base-256":
        return b"\x80" + size.to_bytes(11, "big")
    if shape == "negative":
        return b"\xff" + ((1 << 88) - draw(st.integers(1, 1 << 40))).to_bytes(11, "big")
    if shape == "huge":
        return b"77777777777\0"
    return draw(st.binary(min_size=12, max_size=12))


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    """One header block and the data after it, any of its fields possibly a lie."""
    data = draw(st.binary(max_size=1200))
    block = bytearray(512)
    name = draw(st.sampled_from(NAMES) | st.text(max_size=120)).encode("utf-8", "replace")
    block[: min(len(name), 100)] = name[:100]
    block[124:136] = draw(size_fields(len(data)))
    block[156:157] = draw(st.sampled_from(TYPES) | st.binary(min_size=1, max_size=1))
    block[257:265] = draw(st.sampled_from([b"ustar\x0000", b"ustar  \0", bytes(8)]))
    if draw(st.booleans()):
        block[345:500] = draw(st.binary(min_size=155, max_size=155))
    mode = draw(st.sampled_from(["unsigned"] * 4 + ["signed", "bogus"]))
    return checksummed(block, mode) + data + bytes(-len(data) % 512)


@st.composite
def pax_headers(draw: st.DrawFn) -> bytes:
    """A pax header whose records may give lengths that are huge, negative or garbage."""
    records = []
    for _ in range(draw(st.integers(1, 4))):
        keyword = draw(st.sampled_from([b"path", b"size", b"linkpath", b"GNU.sparse.size"]))
        value = draw(st.sampled_from([b"proc/meminfo", b"12", b"-1", b"x" * 300, b""]))
        body = b" " + keyword + b"=" + value + b"\n"
        exact = len(body) + len(str(len(body) + 3))
        length = draw(
            st.sampled_from(
                [b"%d" % exact] * 4 + [b"%d" % (exact + 1), b"99999999999", b"-5", b"0"]
            )
            | st.binary(max_size=4)
        )
        records.append(length + body)
    kind = draw(st.sampled_from([b"x", b"g"]))
    return member_bytes("././@PaxHeader", b"".join(records), kind)


@st.composite
def long_name_chains(draw: st.DrawFn) -> bytes:
    link = draw(st.sampled_from([b"L", b"K"]))
    name = draw(st.sampled_from([b"proc/meminfo\0", b"x" * 3000, b""]))
    return member_bytes("././@LongLink", name, link) * draw(st.integers(1, 40))


def member_bytes(name: str, data: bytes, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def pieces() -> st.SearchStrategy[bytes]:
    members = st.builds(member_bytes, st.sampled_from(NAMES[:5]), st.binary(max_size=5000))
    return st.one_of(
        members,
        members,  # twice as likely: most of an archive is well formed
        headers(),
        pax_headers(),
        long_name_chains(),
        st.sampled_from([bytes(512), bytes(1024)]),
        st.binary(max_size=700),
    )


@st.composite
def packed(draw: st.DrawFn, tar: bytes) -> bytes:
    """``tar`` as it is, or as gzip members cut at random places, maybe with a tail."""
    if not draw(st.booleans()):
        return tar
    cuts = sorted(draw(st.lists(st.integers(0, len(tar)), max_size=4)))
    bounds = [0, *cuts, len(tar)]
    out = b"".join(
        gzip_member(tar[a:b], draw(st.integers(0, 70_000))) for a, b in zip(bounds, bounds[1:])
    )
    return out + draw(st.sampled_from([b"", bytes(100), b"\x1f", b"PK\x03\x04"]))


def gzip_member(data: bytes, padding: int) -> bytes:
    """A gzip member of ``data``, its length moved by a file name of ``padding`` bytes (so
    that members end anywhere against the reader's chunks)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    trailer = zlib.crc32(data).to_bytes(4, "little") + len(data).to_bytes(4, "little")
    return b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\x03" + b"n" * padding + b"\0" + body + trailer


class Watched(BoundedTarStream):
    """The stream the reader uses, watched: the most tar bytes it ever produced."""

    most = 0

    def read(self, size: int) -> bytes:
        data = super().read(size)
        Watched.most = max(Watched.most, self.position)
        return data


def read(tmp: Path, data: bytes) -> tuple[dict[str, bytes], Budget]:
    path = tmp / "c.tar.gz"
    path.write_bytes(data)
    Watched.most = 0
    budget = Budget(LIMITS, "c")
    with mock.patch.object(capture_tar, "BoundedTarStream", Watched):
        records = dict(capture_tar.tar_records(path, budget))  # never raises
    return records, budget


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-tar")


@SETTINGS
@given(st.data())
def test_any_header_shapes_stay_within_the_budget(tmp: Path, data: st.DataObject) -> None:
    tar = b"".join(data.draw(st.lists(pieces(), min_size=1, max_size=8)))
    if data.draw(st.integers(0, 3)) == 0:  # cut anywhere, now and then
        tar = tar[: data.draw(st.integers(0, len(tar)))]
    records, budget = read(tmp, data.draw(packed(tar)))
    assert Watched.most <= LIMITS.archive_bytes
    assert budget.looked <= LIMITS.entries + 1
    assert len(records) <= LIMITS.files
    assert all(len(value) <= LIMITS.file_bytes for value in records.values())
    assert sum(len(value) for value in records.values()) <= LIMITS.capture_bytes
    assert all(d.id.startswith("capture.") for d in budget.diagnostics)


HIDDEN = b"nr_balloon_pages 4242\n"


@st.composite
def hiding_places(draw: st.DrawFn) -> tuple[bytes, bool]:
    """Members, then ``proc/vmstat`` holding :data:`HIDDEN` somewhere a reader could miss
    it; and whether the archive is one tar writes (so it must be read without a word)."""
    names = draw(
        st.lists(
            st.sampled_from(["proc/meminfo", "dmesg", "junk/a", "proc/vmstat"]),
            max_size=3,
            unique=True,
        )
    )
    decoys = [member_bytes(name, draw(st.binary(max_size=70_000))) for name in names]
    place = draw(st.sampled_from(["plain", "after-end", "after-garbage", "in-tail", "shadowed"]))
    hidden = member_bytes("proc/vmstat", HIDDEN)
    end = bytes(512 * draw(st.integers(1, 3)))
    before = b"".join(decoys)
    if place == "after-end":
        tar = before + end + hidden + bytes(1024)
    elif place == "after-garbage":
        tar = before + draw(st.binary(min_size=1, max_size=600)) + hidden + bytes(1024)
    elif place == "shadowed":  # the same name again after it
        tar = before + hidden + member_bytes("./proc/vmstat", b"other\n") + bytes(1024)
    else:
        tar = before + hidden + bytes(1024)
    archive = draw(packed(tar))
    if place == "in-tail":  # a tar after the gzip stream
        archive = gzip.compress(before + end) + hidden + bytes(1024)
    clean = place == "plain" and not archive.endswith((b"\x1f", b"PK\x03\x04"))
    return archive, clean and "proc/vmstat" not in names


@SETTINGS
@given(hiding_places())
def test_a_member_after_others_is_read_or_reported(tmp: Path, case: tuple[bytes, bool]) -> None:
    archive, clean = case
    path = tmp / "h.tar.gz"
    path.write_bytes(archive)
    budget = Budget(Limits(), "h")
    records = dict(capture_tar.tar_records(path, budget))
    errors = [d for d in budget.diagnostics if d.severity is Severity.ERROR]
    assert records.get("proc/vmstat") == HIDDEN or errors, budget.diagnostics
    if clean:
        assert records.get("proc/vmstat") == HIDDEN and errors == [], budget.diagnostics


def test_a_stream_is_the_same_bytes_however_gzip_splits_it() -> None:
    tar = member_bytes("proc/vmstat", HIDDEN) * 300
    for step in (13, 511, 4096, 65_535, 65_536):
        packed = b"".join(gzip_member(tar[a : a + step], 0) for a in range(0, len(tar), step))
        assert BoundedTarStream(io.BytesIO(packed), 1 << 24).read(1 << 24) == tar
    assert gzip.decompress(gzip_member(tar, 9)) == tar
