"""The tar bytes of a ``.tar`` or ``.tar.gz`` file: forward only, bounded, read to the end.

A tarball is untrusted: a few kilobytes of gzip may inflate into gigabytes, a gzip stream
may hold several members (``cat a.gz b.gz`` is a valid gzip file, and ``gzip -d`` reads
both), and bytes may follow the last member. :class:`BoundedTarStream` inflates gzip itself,
member after member (zlib with ``max_length``), so no more than its limit of tar bytes is ever
produced and no more than one chunk is held; whatever follows the gzip stream is kept aside
for :meth:`BoundedTarStream.garbage_offset`, which says whether it holds data.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"


class ArchiveTooLarge(Exception):
    """The tar stream goes on past the archive limit."""


class StreamDamaged(Exception):
    """The gzip stream is corrupt or cut short."""


class BoundedTarStream:
    """The tar bytes of a tarball, gzip-compressed or not: forward only, at most ``limit``."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.position = 0
        """Tar bytes produced so far."""
        self.raw_position = 0
        """Bytes of the file consumed so far."""
        start = self._raw_read(2)
        self.gzip = start == _GZIP_MAGIC
        self.inflater = zlib.decompressobj(31) if self.gzip else None
        self.pending = start
        """Bytes of the file read but not inflated yet."""
        self.after_gzip: bytes | None = None
        """What follows the last gzip member, when that is not another member."""

    def read(self, size: int) -> bytes:
        """``size`` bytes, fewer only at the end; raises :class:`ArchiveTooLarge` past the
        limit and :class:`StreamDamaged` for a corrupt or truncated gzip stream."""
        room = self.limit - self.position
        data = self._take(min(size, room + 1))
        if len(data) > room:
            raise ArchiveTooLarge(self.limit)
        self.position += len(data)
        return data

    def skip(self, size: int) -> int:
        """Move ``size`` bytes forward; how many there were."""
        skipped = 0
        while skipped < size:
            data = self.read(min(size - skipped, _CHUNK))
            if not data:
                break
            skipped += len(data)
        return skipped

    def garbage_offset(self) -> int | None:
        """Where in the file non-zero bytes follow the gzip stream, if anywhere; read at the
        end, within the limit (zeros are padding, as tape blocking writes them)."""
        rest = self.after_gzip
        if rest is None:
            return None
        start = self.raw_position - len(rest)
        scanned = 0
        while rest:
            data = rest.lstrip(b"\0")
            if data:
                return start + scanned + len(rest) - len(data)
            scanned += len(rest)
            if scanned > self.limit:
                raise ArchiveTooLarge(self.limit)
            rest = self._raw_read(_CHUNK)
        return None

    def _raw_read(self, size: int) -> bytes:
        data = self.raw.read(size)
        self.raw_position += len(data)
        return data

    def _take(self, size: int) -> bytes:
        if not self.gzip:
            data = self.pending[:size]
            self.pending = self.pending[len(data) :]
            return data + self._raw_read(size - len(data)) if len(data) < size else data
        out = bytearray()
        while len(out) < size and self.inflater is not None:
            if not self.pending:
                self.pending = self._raw_read(_CHUNK)
                if not self.pending:
                    raise StreamDamaged("the gzip stream is cut short")
            try:
                out += self.inflater.decompress(self.pending, size - len(out))
            except zlib.error as exc:
                raise StreamDamaged(f"corrupt gzip data: {exc}") from None
            self.pending = self.inflater.unconsumed_tail
            if self.inflater.eof:
                self._next_member()
        return bytes(out)

    def _next_member(self) -> None:
        assert self.inflater is not None
        rest = self.inflater.unused_data
        while len(rest) < len(_GZIP_MAGIC):
            more = self._raw_read(_CHUNK)
            if not more:
                break
            rest += more
        if rest.startswith(_GZIP_MAGIC):
            self.inflater, self.pending = zlib.decompressobj(31), rest
        else:
            self.inflater, self.pending, self.after_gzip = None, b"", rest
