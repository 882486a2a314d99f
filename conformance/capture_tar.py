"""Reading a capture tarball in place, within bounds, without writing anything to disk.

A tarball is untrusted: its members may be named ``..`` or absolute, be links or devices,
claim any size, or inflate a few kilobytes into gigabytes. :class:`BoundedTarStream`
inflates gzip itself (zlib with ``max_length``), so no more than
``Limits.archive_bytes`` of tar are ever produced, and it only moves forward, so
:mod:`tarfile` reads it as a stream. Only regular members are read, each bounded.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .capture_budget import Budget, format_of, safe_text, wanted
from .diagnostics import Severity

_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"


class ArchiveTooLarge(Exception):
    """The tar stream goes on past the archive limit."""


class BoundedTarStream:
    """The tar bytes of a ``.tar`` or ``.tar.gz`` file: forward only, at most ``limit``."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.position = 0
        self.gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        self.inflater = zlib.decompressobj(31) if self.gzip else None
        self.pending = b""

    def tell(self) -> int:
        """How many tar bytes were produced."""
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Skip forward to ``offset`` (tarfile only ever seeks forward while streaming)."""
        target = offset if whence == os.SEEK_SET else self.position + offset
        if whence not in (os.SEEK_SET, os.SEEK_CUR) or target < self.position:
            raise OSError("a tarball is read forward only")
        while self.position < target:
            if not self.read(min(target - self.position, _CHUNK)):
                break
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes; raises :class:`ArchiveTooLarge` past the limit."""
        room = self.limit - self.position
        want = room + 1 if size is None or size < 0 else min(size, room + 1)
        data = self._take(want)
        if len(data) > room:
            raise ArchiveTooLarge(self.limit)
        self.position += len(data)
        return data

    def _take(self, size: int) -> bytes:
        if not self.gzip:
            return self.raw.read(size)
        out = bytearray()
        while len(out) < size and self.inflater is not None:
            if not self.pending:
                self.pending = self.raw.read(_CHUNK)
                if not self.pending:
                    break  # truncated: tarfile says so from the short read
            out += self.inflater.decompress(self.pending, size - len(out))
            self.pending = self.inflater.unconsumed_tail
            if self.inflater.eof:
                # another gzip member may follow; anything else (zeros) is padding
                self.pending = self.inflater.unused_data or self.raw.read(_CHUNK)
                more = self.pending.startswith(_GZIP_MAGIC)
                self.inflater = zlib.decompressobj(31) if more else None
        return bytes(out)


def tar_records(path: Path, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """``(relative path, bytes)`` of each wanted, admitted member of the tarball."""
    try:
        with path.open("rb") as raw:
            stream = BoundedTarStream(raw, budget.limits.archive_bytes)
            with tarfile.open(fileobj=stream, mode="r:") as archive:  # type: ignore[call-overload]
                yield from _members(archive, budget)
    except ArchiveTooLarge as exc:
        budget.problem(
            "capture.archive-too-large",
            "",
            f"the tarball holds more than {exc.args[0]} bytes of tar (a decompression bomb?); "
            "the rest is not read",
            Severity.ERROR,
        )
    except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
        budget.problem(
            "capture.unreadable",
            "",
            f"not a readable tarball: {safe_text(str(exc))}",
            Severity.ERROR,
        )


def _members(archive: tarfile.TarFile, budget: Budget) -> Iterator[tuple[str, bytes]]:
    prefix = ""
    while budget.look():
        member = archive.next()
        if member is None:
            return
        # tarfile keeps every member it has read; with tens of thousands, it must not
        members: list[tarfile.TarInfo] = archive.members  # type: ignore[attr-defined]
        members.clear()
        relative = _member_path(member.name)
        if relative is None:
            budget.problem("capture.unsafe-path", member.name, "absolute or '..' path; skipped")
            continue
        if not prefix and member.isdir() and "/" not in relative:
            prefix = relative + "/" if _has_capture_below(relative) else ""
        if prefix and relative.startswith(prefix):
            relative = relative[len(prefix) :]
        if member.isdir() or not wanted(relative):
            continue
        data = _member_data(archive, member, relative, budget)
        if data is not None:
            yield relative, data


def _member_data(
    archive: tarfile.TarFile, member: tarfile.TarInfo, relative: str, budget: Budget
) -> bytes | None:
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        budget.problem(
            f"capture.{'symlink' if member.issym() else 'hard-link'}",
            relative,
            f"a {kind} link in the tarball (to {safe_text(member.linkname)!r}); not followed",
        )
        return None
    if not member.isfile():
        budget.problem("capture.special-file", relative, "a device or FIFO in the tarball; skipped")
        return None
    if not budget.admit(relative, member.size):
        return None
    stream = archive.extractfile(member)
    return stream.read(budget.limits.file_bytes) if stream is not None else None


def _member_path(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p != "."]
    return "/".join(parts) if parts else None


def _has_capture_below(top: str) -> bool:
    # a tarball made with `tar czf cap.tar.gz cap/` has every path under cap/
    return top not in ("proc", "sys", "var") and format_of(top) is None
