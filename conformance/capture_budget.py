"""What a capture reader may read: the wanted paths, the limits, and the findings on the way.

Both capture readers (directory and tarball) and the live reader share one
:class:`Budget` per capture. It says which paths are guest files worth reading, which
directories can hold one (so a walk never wanders through a whole file system), counts
every entry looked at and every byte admitted against :class:`Limits`, and collects the
``capture.*`` diagnostics for whatever is skipped. Nothing here touches the file system.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache
from typing import TYPE_CHECKING

from .diagnostics import Diagnostic, Location, Severity
from .escape import safe_text as safe_text  # the readers' name for it
from .formats import GUEST_PATHS
from .pipeline import format_id_for_path

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

MAX_FILE_BYTES = 1024 * 1024
MAX_CAPTURE_BYTES = 64 * 1024 * 1024
MAX_FILES = 10_000
MAX_ENTRIES = 200_000
MAX_DEPTH = 16
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MANIFEST = "capture.json"

LOG_NAMES = ("dmesg", "dmesg.txt", "kernel.log", "kern.log", "var/log/kern.log", "var/log/dmesg")
"""Kernel logs that may hold show_mem() dumps."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one capture may make the reader do."""

    file_bytes: int = MAX_FILE_BYTES
    """Largest file read; a bigger one is skipped (no kernel statistics file comes close)."""
    capture_bytes: int = MAX_CAPTURE_BYTES
    """Sum of the files read from one capture."""
    files: int = MAX_FILES
    """Guest files read from one capture."""
    entries: int = MAX_ENTRIES
    """Directory entries or tar members looked at, wanted or not."""
    depth: int = MAX_DEPTH
    """Directory levels below the capture root."""
    archive_bytes: int = MAX_ARCHIVE_BYTES
    """Bytes of tar stream produced (inflated) from one tarball."""


# The three questions below are asked of every entry of every capture, and a fleet's
# captures hold the same few paths over and over: each answer is a pure function of the
# path, so it is kept (bounded) instead of matching the patterns again.
_CACHED = 4096


@lru_cache(maxsize=_CACHED)
def format_of(relative: str) -> str | None:
    """The format id of the capture file at ``relative``, if it is a known guest file."""
    if relative in LOG_NAMES:
        return "show-mem"
    # a bare format id names a file only at the top (a flat capture): deeper down, sysfs
    # has files such as node0/meminfo with other layouts
    return format_id_for_path(relative, by_name="/" not in relative)


def is_device_file(relative: str) -> bool:
    """The ``device`` id file beside a virtio device's ``features``."""
    return relative.endswith("/device") and "virtio" in relative


@lru_cache(maxsize=_CACHED)
def wanted(relative: str) -> bool:
    """Whether the capture file at ``relative`` is read at all."""
    return relative == MANIFEST or is_device_file(relative) or bool(format_of(relative))


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, ...], ...]:
    paths = [p for patterns in GUEST_PATHS.values() for p in patterns] + list(LOG_NAMES)
    return tuple(tuple(p.split("/")) for p in paths)


@lru_cache(maxsize=_CACHED)
def may_hold(directory: str) -> bool:
    """Whether the capture directory ``directory`` (``sys/bus``) can hold a guest file;
    a walk prunes the others, so a capture holding a whole root is not walked through."""
    parts = directory.split("/")
    for pattern in _patterns():
        for index, part in enumerate(parts):
            if index >= len(pattern) - 1:
                break
            if pattern[index] == "**":
                return True
            if not fnmatch.fnmatchcase(part, pattern[index]):
                break
        else:
            return True
    return False


class Budget:
    """The limits of one capture as they are used up, and the findings of reading it."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.diagnostics: list[Diagnostic] = []
        self.total = 0
        self.count = 0
        self.looked = 0

    def problem(
        self, id: str, relative: str, message: str, severity: Severity = Severity.WARNING
    ) -> None:
        """Record a ``capture.*`` finding about ``relative`` (empty: the whole capture)."""
        where = f"{self.name}/{safe_text(relative)}" if relative else self.name
        self.diagnostics.append(Diagnostic(id, severity, message, Location(path=where)))

    def look(self) -> bool:
        """Count one directory entry or tar member; False once there were too many."""
        self.looked += 1
        if self.looked == self.limits.entries + 1:
            self.problem(
                "capture.too-many-entries",
                "",
                f"more than {self.limits.entries} directory entries or tar members; "
                "the rest are not looked at",
                Severity.ERROR,
            )
        return self.looked <= self.limits.entries

    def admit(self, relative: str, size: int) -> bool:
        """Whether a file of ``size`` bytes may still be read; counts it when so."""
        self.count += 1
        if self.count > self.limits.files:
            if self.count == self.limits.files + 1:
                self.problem(
                    "capture.too-many-files",
                    "",
                    f"more than {self.limits.files} guest files; the rest are skipped",
                )
            return False
        if size > self.limits.file_bytes:
            self.too_large(relative, size)
            return False
        if self.total + size > self.limits.capture_bytes:
            self.problem(
                "capture.too-large",
                relative,
                f"the capture exceeds {self.limits.capture_bytes} bytes; skipped",
            )
            return False
        self.total += size
        return True

    def too_large(self, relative: str, size: int | None = None) -> None:
        """Record a file over the size limit (``size`` when known)."""
        said = f"{size} bytes" if size is not None else "larger than that"
        self.problem(
            "capture.file-too-large",
            relative,
            f"{said}, over the limit of {self.limits.file_bytes} bytes; skipped "
            "(--max-file-size raises it)",
        )
