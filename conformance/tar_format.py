"""The tar format (ustar, pax, GNU), read member by member from a forward-only stream.

Why not :mod:`tarfile`: before the fix for CVE-2024-6232 (3.11.10, 3.12.6, and the 3.9 and
3.10 patch releases of September 2024), it parses pax headers in quadratic time, so a
kilobyte of gzip takes hours; and on every release it holds a whole pax or GNU long-name
header in memory, whatever size the header claims. Here a header is one 512-byte block with
a checksum; an extended header (pax ``x``/``g``, GNU ``L``/``K``) is held only up to
:data:`MAX_EXTENDED` bytes (larger is :class:`HeaderTooLarge`), and its records are parsed in
one pass without regular expressions. Every header block is counted by the caller's ``look``,
so chains of extended headers are bounded like members are.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from .tar_stream import BoundedTarStream

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

BLOCK = 512
MAX_EXTENDED = 64 * 1024
"""Largest pax or GNU long-name header held (PATH_MAX is 4096; xattrs are small)."""

_ZERO_BLOCK = bytes(BLOCK)
_HIGH_BYTES = bytes(range(128, 256))
_POSIX_MAGIC = b"ustar\x00"
_EXTENDED = (b"x", b"X", b"g", b"L", b"K")
_NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")
_PAX_KEYS = (b"path", b"linkpath", b"size")


class Kind(enum.Enum):
    """What a member is, said the way a diagnostic says it."""

    FILE = "a regular file"
    DIRECTORY = "a directory"
    SYMLINK = "a symbolic link"
    HARD_LINK = "a hard link"
    CHAR_DEVICE = "a character device"
    BLOCK_DEVICE = "a block device"
    FIFO = "a FIFO"
    SPARSE = "a sparse file"
    LABEL = "a volume label"


_KINDS = {
    b"5": Kind.DIRECTORY,
    b"D": Kind.DIRECTORY,  # GNU dumpdir: a directory with a listing as data
    b"1": Kind.HARD_LINK,
    b"2": Kind.SYMLINK,
    b"3": Kind.CHAR_DEVICE,
    b"4": Kind.BLOCK_DEVICE,
    b"6": Kind.FIFO,
    b"S": Kind.SPARSE,
    b"V": Kind.LABEL,
}  # any other type is a regular file, as POSIX asks of unknown types


class TarFormatError(Exception):
    """The tar stream is damaged at ``offset``."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} (at byte {offset} of the tar stream)")
        self.offset = offset


class HeaderTooLarge(TarFormatError):
    """An extended header is larger than :data:`MAX_EXTENDED`."""


@dataclass(frozen=True)
class TarMember:
    """One member of a tarball, its extended headers applied."""

    name: str
    kind: Kind
    size: int
    """Bytes of data that follow the header."""
    linkname: str
    offset: int
    """Where its first header starts in the tar stream."""


@dataclass(frozen=True)
class _Header:
    name: bytes
    type: bytes
    size: int
    linkname: bytes
    extended_sparse: bool


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _field(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


def _number(raw: bytes, offset: int, what: str) -> int:
    if raw[:1] in (b"\x80", b"\xff"):  # GNU base-256, for numbers octal cannot hold
        value = int.from_bytes(raw[1:], "big")
        return value - (1 << (8 * len(raw) - 8)) if raw[0] == 0xFF else value
    digits = _field(raw).strip()
    if digits.strip(b"01234567"):
        raise TarFormatError(offset, f"not a tar header: the {what} field is not a number")
    return int(digits or b"0", 8)


def _header(block: bytes, offset: int) -> _Header:
    checksum = _number(block[148:156], offset, "checksum")
    rest = block[:148] + block[156:]
    unsigned = 256 + sum(rest)  # the checksum field itself counts as eight spaces
    signed = unsigned - 256 * (len(rest) - len(rest.translate(None, _HIGH_BYTES)))
    if checksum not in (unsigned, signed):  # old tars summed signed chars
        raise TarFormatError(offset, "not a tar header (bad checksum)")
    size = _number(block[124:136], offset, "size")
    if size < 0:
        raise TarFormatError(offset, "a member of negative size")
    name = _field(block[:100])
    if block[257:263] == _POSIX_MAGIC and block[345] != 0:
        name = _field(block[345:500]) + b"/" + name
    kind = block[156:157]
    return _Header(name, kind, size, _field(block[157:257]), kind == b"S" and block[482] != 0)


def pax_records(buf: bytes, offset: int) -> Iterator[tuple[bytes, bytes]]:
    """The ``keyword=value`` records of a pax header: ``"%d %s=%s\\n"``, the length
    counting the whole record; in one pass, each byte looked at a bounded number of times."""
    position = 0
    while position < len(buf) and buf[position] != 0:
        space = buf.find(b" ", position, position + 21)
        digits = buf[position:space] if space > position else b""
        if not digits.isdigit():
            raise TarFormatError(offset, "a pax record without a length")
        end = position + int(digits)
        if end > len(buf) or end < space + 2 or buf[end - 1] != 0x0A:
            raise TarFormatError(offset, "a pax record whose length does not match")
        keyword, equals, value = buf[space + 1 : end - 1].partition(b"=")
        if not keyword or not equals:
            raise TarFormatError(offset, "a pax record without a keyword")
        yield keyword, value
        position = end


class TarReader:
    """The members of a tar stream, one after the other; stops at the end-of-archive block,
    at the end of the stream, or when ``look`` says no more headers may be looked at."""

    def __init__(self, stream: BoundedTarStream, look: Callable[[], bool]) -> None:
        self.stream = stream
        self.look = look
        self.ended = False
        """The end-of-archive block was read."""
        self.stopped = False
        """``look`` said no."""
        self.left = 0
        """Bytes of the current member's data and padding not read yet."""
        self.globals: dict[bytes, bytes] = {}

    def members(self) -> Iterator[TarMember]:
        """Every member, its data skipped unless :meth:`data` reads it."""
        while True:
            self._skip_rest()
            member = self._next()
            if member is None:
                return
            self.left = -(-member.size // BLOCK) * BLOCK
            yield member

    def data(self, member: TarMember) -> bytes:
        """The data of ``member``, the one just yielded (the caller bounds its size)."""
        data = self.stream.read(member.size)
        self.left -= len(data)
        if len(data) < member.size:
            raise TarFormatError(self.stream.position, "the tarball ends inside a member")
        return data

    def trailing_offset(self) -> int | None:
        """After the end-of-archive block: where the first non-zero byte is, if anywhere
        (a member hidden after the end of the archive, which tar does not extract)."""
        while True:
            start = self.stream.position
            chunk = self.stream.read(1 << 16)
            if not chunk:
                return None
            if chunk.strip(b"\0"):
                return start + len(chunk) - len(chunk.lstrip(b"\0"))

    def _skip_rest(self) -> None:
        if self.left and self.stream.skip(self.left) < self.left:
            raise TarFormatError(self.stream.position, "the tarball ends inside a member")
        self.left = 0

    def _next(self) -> TarMember | None:
        extended: dict[bytes, bytes] = {}
        start = self.stream.position
        while not self.stopped:
            if not self.look():
                self.stopped = True
                return None
            offset = self.stream.position
            block = self.stream.read(BLOCK)
            if len(block) < BLOCK or block == _ZERO_BLOCK:
                self._end(block, offset, extended)
                return None
            header = _header(block, offset)
            if header.type not in _EXTENDED:
                return self._member(header, start, extended)
            buf = self._extended(header, offset)
            if header.type == b"g":
                self.globals.update(_kept(pax_records(buf, offset)))
            elif header.type in (b"L", b"K"):
                extended[b"path" if header.type == b"L" else b"linkpath"] = _field(buf)
            else:
                extended.update(_kept(pax_records(buf, offset)))
        return None

    def _end(self, block: bytes, offset: int, extended: Mapping[bytes, bytes]) -> None:
        if block and len(block) < BLOCK:
            raise TarFormatError(offset, "the tarball ends inside a header")
        if extended:
            raise TarFormatError(offset, "an extended header is followed by no member")
        self.ended = bool(block)

    def _extended(self, header: _Header, offset: int) -> bytes:
        if header.size > MAX_EXTENDED:
            raise HeaderTooLarge(
                offset,
                f"an extended header of {header.size} bytes, over the limit of {MAX_EXTENDED}",
            )
        padded = -(-header.size // BLOCK) * BLOCK
        buf = self.stream.read(padded)
        if len(buf) < padded:
            raise TarFormatError(offset, "the tarball ends inside an extended header")
        return buf[: header.size]

    def _member(self, header: _Header, start: int, extended: Mapping[bytes, bytes]) -> TarMember:
        fields = {**self.globals, **extended}
        kind = _KINDS.get(header.type, Kind.FILE)
        name = fields.get(b"path", header.name)
        if kind is Kind.FILE and header.type == b"\0" and name.endswith(b"/"):
            kind = Kind.DIRECTORY  # old V7 tar writes a directory so
        if any(key.startswith(b"GNU.sparse.") for key in fields):
            kind = Kind.SPARSE
            name = fields.get(b"GNU.sparse.name", name)
        size = header.size
        if b"size" in fields:
            if not fields[b"size"].isdigit() or len(fields[b"size"]) > 20:
                raise TarFormatError(start, "a pax size that is not a number")
            size = int(fields[b"size"])
        if header.extended_sparse:
            self._skip_sparse_maps(start)
        linkname = _text(fields.get(b"linkpath", header.linkname))
        data = 0 if header.type in _NO_DATA else size
        return TarMember(_text(name), kind, data, linkname, start)

    def _skip_sparse_maps(self, offset: int) -> None:
        # an old GNU sparse member continues its map in blocks flagged at byte 504
        while self.look():
            block = self.stream.read(BLOCK)
            if len(block) < BLOCK:
                raise TarFormatError(offset, "the tarball ends inside a sparse map")
            if block[504] == 0:
                return
        self.stopped = True


def _kept(records: Iterator[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    # only what locates a member is kept, so global headers cannot pile up memory
    return {
        key: value for key, value in records if key in _PAX_KEYS or key.startswith(b"GNU.sparse.")
    }
