"""No input makes a parser or the capture reader raise.

Each parser is tried on random bytes, random text and mutated real samples, with and
without the exact layout; whatever the input, the result is a ParseResult whose
diagnostics are located on a line of the input. The capture reader is tried on random
directory trees (files, links, FIFOs, hard links, names with '..' and control characters)
and random tarballs, raw bytes or made of such trees and then damaged; the capture it
returns keeps within its limits and checks without raising.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import DetectionError, detect, format_ids, parse
from conformance.capture import Limits, read_capture
from conformance.check import check_capture

from .golden import samples

FORMATS = st.sampled_from(format_ids())
LAYOUTS = st.sampled_from(["exact", "lenient"])
SAMPLES = [p.read_bytes() for p in samples()]
ALPHABET = st.sampled_from(list(" \t\n:()0123456789abxkBT_-/[].=*\r\0\ufeff\xff"))


def _check(data: bytes | str, format_id: str, layout: str) -> None:
    result = parse(data, format=format_id, layout=layout)
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    lines = max(text.count("\n") + 1, 1)
    for diagnostic in result.diagnostics:
        assert 0 <= diagnostic.location.line <= lines + 1, diagnostic
    with contextlib.suppress(DetectionError):
        detect(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), FORMATS, LAYOUTS)
def test_random_bytes(data: bytes, format_id: str, layout: str) -> None:
    _check(data, format_id, layout)


@settings(max_examples=300)
@given(st.text(ALPHABET, max_size=2000), FORMATS, LAYOUTS)
def test_random_text_from_the_formats_alphabet(text: str, format_id: str, layout: str) -> None:
    _check(text, format_id, layout)


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "duplicate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=30))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 60))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples(), FORMATS, LAYOUTS)
def test_mutated_samples(data: bytes, format_id: str, layout: str) -> None:
    _check(data, format_id, layout)


def test_huge_number_and_long_line_are_bounded() -> None:
    for format_id in format_ids():
        result = parse("x" * 200_000 + ": " + "9" * 50_000 + "\n", format=format_id)
        assert result.diagnostics


def test_every_format_has_seeds_for_mutation() -> None:
    assert {p.parent.name for p in samples()} == set(format_ids())


# -- the capture reader: random directory trees and random tarballs ---------------------

SEGMENTS = st.sampled_from(
    [
        *("proc", "sys", "kernel", "debug", "bus", "virtio", "devices", "virtio0", "var", "log"),
        *("meminfo", "vmstat", "hv-balloon", "vmmemctl", "features", "device", "dmesg"),
        *("capture.json", "..", ".", "", "x\n\x1b", "\udcff"),
    ]
)
KINDS = st.sampled_from(["file", "dir", "symlink", "fifo", "hardlink"])
CONTENT = st.one_of(st.binary(max_size=300), st.sampled_from(SAMPLES))


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[str, str, bytes]]:
    entries = st.tuples(st.lists(SEGMENTS, min_size=1, max_size=6), KINDS, CONTENT)
    return [
        ("/".join(parts), kind, data) for parts, kind, data in draw(st.lists(entries, max_size=12))
    ]


LINK_TARGETS = ["/", "/etc/passwd", "/dev/zero", "..", "../..", "proc", "meminfo", "missing"]


def _build(root: Path, tree: list[tuple[str, str, bytes]]) -> None:
    top = os.path.realpath(root) + os.sep
    for relative, kind, data in tree:
        path = root / relative
        # the tree holds links to '/': never build through one (this may run as root)
        if os.path.lexists(path) or not os.path.realpath(path).startswith(top):
            continue
        with contextlib.suppress(OSError, ValueError):
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_bytes(data)
            elif kind == "dir":
                path.mkdir()
            elif kind == "symlink":
                os.symlink(LINK_TARGETS[len(data) % len(LINK_TARGETS)], path)
            elif kind == "fifo":
                os.mkfifo(path)
            else:
                os.link(root / relative.split("/")[0], path, follow_symlinks=False)


def _check_capture_of(path: Path) -> None:
    limits = Limits(file_bytes=4096, capture_bytes=20_000, files=20, entries=500)
    capture = read_capture(path, limits, name="c")
    assert all(len(f.data) <= limits.file_bytes for f in capture.files)
    assert sum(len(f.data) for f in capture.files) <= limits.capture_bytes
    result = check_capture(capture)
    for diagnostic in result.diagnostics:
        assert diagnostic.location.path.startswith("c"), diagnostic
        assert diagnostic.location.path.isprintable(), diagnostic


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_random_directory_trees(tree: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as top:
        root = Path(top) / "c"
        root.mkdir()
        _build(root, tree)
        _check_capture_of(root)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["c.tar", "c.tar.gz"]))
def test_random_tar_bytes(data: bytes, name: str) -> None:
    _check_tar_bytes(data, name)


def _check_tar_bytes(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as top:
        path = Path(top) / name
        path.write_bytes(data)
        _check_capture_of(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.booleans(), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255))))
def test_random_tarballs(
    tree: list[tuple[str, str, bytes]], packed: bool, flips: list[tuple[int, int]]
) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for relative, kind, data in tree:
            info = tarfile.TarInfo(relative)
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}.get(
                kind, tarfile.REGTYPE
            )
            info.type = tarfile.FIFOTYPE if kind == "fifo" else info.type
            info.type = tarfile.LNKTYPE if kind == "hardlink" else info.type
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            info.linkname = (
                "../../etc/passwd" if info.type in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            )
            with contextlib.suppress(ValueError, UnicodeError):
                archive.addfile(info, io.BytesIO(data) if info.size else None)
    data = bytearray(gzip.compress(raw.getvalue()) if packed else raw.getvalue())
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    _check_tar_bytes(bytes(data), "c.tar.gz" if packed else "c.tar")
