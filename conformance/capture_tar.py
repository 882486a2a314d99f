"""Reading a capture tarball in place, within bounds, without writing anything to disk.

A tarball is untrusted: its members may be named ``..`` or absolute, be links or devices,
claim any size, appear twice, hide after the end of the archive, or inflate a few kilobytes
into gigabytes. The bytes come from :class:`~conformance.tar_stream.BoundedTarStream` (gzip
inflated member after member, within ``Limits.archive_bytes``) and the members from
:class:`~conformance.tar_format.TarReader` (headers bounded, no :mod:`tarfile`). This module
decides what a capture makes of them, the way the directory reader does for a directory:
names lose a leading ``./`` (and a top folder such as ``cap/``), directories no guest file
can be in are passed over (:func:`~conformance.capture_budget.may_hold`), every other regular
member is read within the budget, and the last copy of a name is the one kept, as
``tar -x`` would leave it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .capture_budget import Budget, format_of, may_hold, safe_text, wanted
from .diagnostics import Severity
from .tar_format import HeaderTooLarge, Kind, TarFormatError, TarMember, TarReader
from .tar_stream import ArchiveTooLarge, BoundedTarStream, StreamDamaged


def tar_records(path: Path, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """``(relative path, bytes)`` of each admitted regular member of the tarball, in
    archive order, the last copy of each name."""
    reading = _Reading(budget)
    try:
        with path.open("rb") as raw:
            stream = BoundedTarStream(raw, budget.limits.archive_bytes)
            reader = TarReader(stream, budget.look)
            for member in reader.members():
                reading.take(member, reader)
            if not reader.stopped:
                _check_end(reader, stream, budget)
    except ArchiveTooLarge as exc:
        budget.problem(
            "capture.archive-too-large",
            "",
            f"the tarball holds more than {exc.args[0]} bytes of tar (a decompression bomb?); "
            "the rest is not read",
            Severity.ERROR,
        )
    except HeaderTooLarge as exc:
        message = f"{exc}: a tar program would not write it; the rest is not read"
        budget.problem("capture.header-too-large", "", message, Severity.ERROR)
    except (TarFormatError, StreamDamaged, OSError) as exc:
        message = f"not a readable tarball: {safe_text(str(exc))}; the rest is not read"
        budget.problem("capture.unreadable", "", message, Severity.ERROR)
    yield from reading.records.items()


def _check_end(reader: TarReader, stream: BoundedTarStream, budget: Budget) -> None:
    if stream.position == 0:
        budget.problem("capture.unreadable", "", "an empty tarball", Severity.ERROR)
        return
    hidden = reader.trailing_offset() if reader.ended else None
    if hidden is not None:
        budget.problem(
            "capture.trailing-data",
            "",
            f"data after the end of the tar archive, at byte {hidden} of the tar stream: "
            "members hidden there are not read (tar does not extract them either)",
            Severity.ERROR,
        )
    garbage = stream.garbage_offset()
    if garbage is not None:
        budget.problem(
            "capture.trailing-data",
            "",
            f"data after the end of the gzip stream, at byte {garbage} of the file, that is "
            "neither gzip nor padding; not read",
            Severity.ERROR,
        )


class _Reading:
    """What the members of one tarball make of a capture so far."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.records: dict[str, bytes] = {}
        self.seen: dict[str, int] = {}
        """Where each name kept so far starts in the tar stream."""
        self.prefix: str | None = None
        """The top folder every name is under (``cap/``), once the first member said."""
        self.holds: dict[str, bool] = {}
        self.noted: set[str] = set()

    def take(self, member: TarMember, reader: TarReader) -> None:
        """Read ``member`` into :attr:`records` or say why not."""
        relative = self._relative(member)
        if relative is None or member.kind in (Kind.DIRECTORY, Kind.LABEL):
            return
        if not self._in_reach(relative):
            return
        self._once(relative, member)
        if member.kind is not Kind.FILE:
            self._not_read(relative, member)
        elif self.budget.admit(relative, member.size):
            self.records[relative] = reader.data(member)

    def _relative(self, member: TarMember) -> str | None:
        path = PurePosixPath(member.name)  # drops "." parts: ./proc/meminfo is proc/meminfo
        relative = "/".join(path.parts)
        if path.is_absolute() or ".." in path.parts:
            self.budget.problem(
                "capture.unsafe-path", member.name, "absolute or '..' path; skipped"
            )
            return None
        if not relative:  # "./", the top of `tar -C cap -czf cap.tgz .`
            if member.kind is Kind.DIRECTORY:
                self.prefix = "" if self.prefix is None else self.prefix
                return None
            self.budget.problem("capture.unsafe-path", member.name, "a member without a name")
            return None
        if self.prefix is None:
            # a tarball made with `tar czf cap.tar.gz cap/` starts with cap/, and every path
            # is under it; decided once, so a later logs/ folder cannot become the top
            top = member.kind is Kind.DIRECTORY and "/" not in relative
            self.prefix = f"{relative}/" if top and _has_capture_below(relative) else ""
        if self.prefix and relative.startswith(self.prefix):
            relative = relative[len(self.prefix) :]
        return relative

    def _in_reach(self, relative: str) -> bool:
        """Whether the directory reader would come to ``relative``: it descends only into
        folders that may hold a guest file, and no deeper than the depth limit."""
        parts = relative.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folder = "/".join(parts[:end])
            if folder not in self.holds:
                self.holds[folder] = may_hold(folder)
                if self.holds[folder] and end > self.budget.limits.depth:
                    self.holds[folder] = False  # said once, as the walk says it once
                    self.budget.problem(
                        "capture.too-deep",
                        folder,
                        f"nested deeper than {self.budget.limits.depth} levels; not read",
                        Severity.ERROR,
                    )
            if not self.holds[folder]:
                if end == 1 and folder not in self.noted:
                    self.noted.add(folder)  # as the walk says of a top-level folder it skips
                    self.budget.problem(
                        "capture.unknown-file",
                        folder,
                        "a folder that holds no guest file by its path; not looked into",
                        Severity.NOTE,
                    )
                return False
        return True

    def _once(self, relative: str, member: TarMember) -> None:
        earlier = self.seen.get(relative)
        self.seen[relative] = member.offset
        if earlier is None:
            return
        self.records.pop(relative, None)
        self.budget.problem(
            "capture.duplicate-path",
            relative,
            f"in the tarball twice (at bytes {earlier} and {member.offset}): the last copy is "
            "the one checked, as tar extraction would leave it; the earlier one is not",
            Severity.ERROR,
        )

    def _not_read(self, relative: str, member: TarMember) -> None:
        # said as the directory reader says it of the same entry
        target = safe_text(member.linkname)
        if member.kind is Kind.SYMLINK:
            if wanted(relative) or may_hold(relative):
                message = f"a symbolic link in the tarball (to {target!r}); not followed"
                self.budget.problem("capture.symlink", relative, message)
            else:
                message = "a symbolic link, not a balloon-related file; not followed"
                self.budget.problem("capture.unknown-file", relative, message, Severity.NOTE)
        elif member.kind is Kind.HARD_LINK:
            message = f"a hard link in the tarball (to {target!r}); not followed"
            self.budget.problem("capture.hard-link", relative, message)
        elif wanted(relative):
            self.budget.problem(
                "capture.special-file", relative, f"{member.kind.value} in the tarball; skipped"
            )
        else:
            message = f"{member.kind.value}, not a balloon-related file; not opened"
            self.budget.problem("capture.unknown-file", relative, message, Severity.NOTE)


def _has_capture_below(top: str) -> bool:
    return top not in ("proc", "sys", "var") and format_of(top) is None
