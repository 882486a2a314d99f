"""Reading captures: the input edge of ``balloon-conform check``.

A capture is the set of files read from one guest at one moment. It comes as

* a directory mirroring the guest's root (``proc/meminfo``, ``sys/kernel/debug/vmmemctl``,
  ``sys/bus/virtio/devices/virtio0/features`` with its ``device`` file, a kernel log);
* a flat directory of files named by format id (``meminfo``, ``hv-balloon.txt`` ...);
* a ``.tar`` / ``.tar.gz`` of either, read in place: nothing is extracted.

A capture is untrusted input. Links are never followed, only regular files are opened, each
read is bounded, and whatever is skipped is said in a diagnostic (``capture.*``); nothing
here raises for a bad capture, only for a path that is not a capture at all.
"""

from __future__ import annotations

import abc
import json
import os
import stat
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .diagnostics import Diagnostic, Location, Severity
from .errors import InputError
from .pipeline import format_for_path

MAX_FILE_BYTES = 1024 * 1024
MAX_CAPTURE_BYTES = 64 * 1024 * 1024
MAX_FILES = 10_000
MANIFEST = "capture.json"

LOG_NAMES = ("dmesg", "dmesg.txt", "kernel.log", "kern.log", "var/log/kern.log", "var/log/dmesg")
"""Kernel logs that may hold show_mem() dumps."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one capture may make the reader do."""

    file_bytes: int = MAX_FILE_BYTES
    capture_bytes: int = MAX_CAPTURE_BYTES
    files: int = MAX_FILES


@dataclass(frozen=True)
class CapturedFile:
    """One known guest file of a capture."""

    format: str
    path: str
    """Where it is, as diagnostics show it: ``<capture>/<path inside the capture>``."""
    data: bytes
    context: Mapping[str, str] = field(default_factory=dict)
    """Neighbouring files the format needs (the virtio ``device`` id)."""


@dataclass(frozen=True)
class Capture:
    """The known files of one capture, its manifest, and what reading it ran into."""

    name: str
    files: tuple[CapturedFile, ...]
    manifest: Mapping[str, Any] | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def of_format(self, format_id: str) -> list[CapturedFile]:
        return [f for f in self.files if f.format == format_id]


def is_capture(path: Path) -> bool:
    """True when ``path`` holds a capture itself (not a fleet of them)."""
    if path.is_file():
        return _is_tar(path)
    if (path / "proc").is_dir() or (path / "sys").is_dir() or (path / MANIFEST).is_file():
        return True
    return any(_format_of(entry.name) for entry in _entries(path))


def fleet_members(path: Path) -> list[Path]:
    """The captures of a fleet directory: its subdirectories and tarballs, sorted."""
    return sorted(p for p in _entries(path) if (p.is_dir() and not p.is_symlink()) or _is_tar(p))


def _entries(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except OSError:
        return []


def _is_tar(path: Path) -> bool:
    return path.is_file() and path.name.endswith((".tar", ".tar.gz", ".tgz"))


def read_capture(path: Path, limits: Limits = Limits(), name: str | None = None) -> Capture:
    """The capture at ``path`` (a directory or a tarball)."""
    name = name if name is not None else str(path)
    if _is_tar(path):
        reader: _Reader = _TarReader(path, limits, name)
    elif path.is_dir():
        reader = _DirReader(path, limits, name)
    else:
        raise InputError(f"{path}: not a capture directory or tarball")
    return reader.capture()


class _Reader(abc.ABC):
    """Collects the known files of a capture from (relative path, bytes) pairs."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.raw: dict[str, bytes] = {}
        self.diagnostics: list[Diagnostic] = []
        self.total = 0
        self.count = 0

    def problem(
        self, id: str, relative: str, message: str, severity: Severity = Severity.WARNING
    ) -> None:
        location = Location(path=f"{self.name}/{relative}" if relative else self.name)
        self.diagnostics.append(Diagnostic(id, severity, message, location))

    def wanted(self, relative: str) -> bool:
        return bool(_format_of(relative)) or relative == MANIFEST or _is_device_file(relative)

    def admit(self, relative: str, size: int) -> bool:
        """Whether a file of ``size`` bytes may still be read."""
        self.count += 1
        if self.count > self.limits.files:
            if self.count == self.limits.files + 1:
                self.problem(
                    "capture.too-many-files",
                    "",
                    f"more than {self.limits.files} files; the rest are skipped",
                )
            return False
        if size > self.limits.file_bytes:
            self.problem(
                "capture.file-too-large",
                relative,
                f"{size} bytes, over the limit of {self.limits.file_bytes}; skipped",
            )
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

    @abc.abstractmethod
    def records(self) -> Iterator[tuple[str, bytes]]:
        """``(relative path, bytes)`` of each wanted, admitted file of the container."""

    def capture(self) -> Capture:
        for relative, data in self.records():
            self.raw[relative] = data
        manifest = self._manifest()
        files = []
        for relative in sorted(self.raw):
            format_id = _format_of(relative)
            if not format_id:
                continue
            data = self.raw[relative]
            if format_id == "show-mem" and not _has_show_mem(data):
                continue  # a kernel log without a dump says nothing about balloons
            context = self._context(relative)
            files.append(CapturedFile(format_id, f"{self.name}/{relative}", data, context))
        return Capture(self.name, tuple(files), manifest, tuple(self.diagnostics))

    def _context(self, relative: str) -> dict[str, str]:
        parent = str(PurePosixPath(relative).parent)
        device = self.raw.get(f"{parent}/device")
        if device is not None:
            return {"device": device.decode("ascii", errors="replace")}
        if "/drivers/virtio_balloon/" in f"/{relative}":
            return {"device": "0x0005\n"}
        return {}

    def _manifest(self) -> Mapping[str, Any] | None:
        data = self.raw.get(MANIFEST)
        if data is None:
            return None
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            self.problem("capture.manifest", MANIFEST, f"not valid JSON: {exc}", Severity.ERROR)
            return None
        if not isinstance(value, dict):
            self.problem("capture.manifest", MANIFEST, "not a JSON object", Severity.ERROR)
            return None
        return value


class _DirReader(_Reader):
    """A capture directory, walked without following any link."""

    def __init__(self, root: Path, limits: Limits, name: str) -> None:
        super().__init__(limits, name)
        self.root = root

    def records(self) -> Iterator[tuple[str, bytes]]:
        for relative, info in self._walk(self.root, ""):
            if not self.wanted(relative):
                continue
            if not stat.S_ISREG(info.st_mode):
                self.problem("capture.special-file", relative, "not a regular file; skipped")
                continue
            if info.st_nlink > 1:
                self.problem("capture.hard-link", relative, "a hard link; skipped")
                continue
            data = self._read(relative)
            if data is not None:
                yield relative, data

    def _walk(
        self, folder: Path, prefix: str, depth: int = 0
    ) -> Iterator[tuple[str, os.stat_result]]:
        if depth > 16:
            self.problem("capture.too-deep", prefix, "nested too deep; not read")
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.problem("capture.unreadable", prefix, f"cannot list: {exc.strerror}")
            return
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                if self.wanted(relative):
                    self.problem("capture.symlink", relative, "a symbolic link; not followed")
                continue
            if stat.S_ISDIR(info.st_mode):
                yield from self._walk(Path(entry.path), relative + "/", depth + 1)
            else:
                yield relative, info

    def _read(self, relative: str) -> bytes | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.root / relative, flags)
        except OSError as exc:
            self.problem("capture.unreadable", relative, f"cannot open: {exc.strerror}")
            return None
        with os.fdopen(fd, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):  # it changed under us
                self.problem("capture.special-file", relative, "not a regular file; skipped")
                return None
            data = stream.read(self.limits.file_bytes + 1)
        return data if self.admit(relative, len(data)) else None


class _TarReader(_Reader):
    """A capture tarball, read member by member; nothing is written to disk."""

    def __init__(self, path: Path, limits: Limits, name: str) -> None:
        super().__init__(limits, name)
        self.path = path

    def records(self) -> Iterator[tuple[str, bytes]]:
        try:
            with tarfile.open(self.path, "r:*") as archive:
                yield from self._members(archive)
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            self.problem("capture.unreadable", "", f"not a readable tarball: {exc}", Severity.ERROR)

    def _members(self, archive: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
        prefix = ""
        for member in archive:
            relative = _member_path(member.name)
            if relative is None:
                self.problem("capture.unsafe-path", member.name, "absolute or '..' path; skipped")
                continue
            if not prefix and member.isdir() and "/" not in relative:
                prefix = relative + "/" if _has_capture_below(relative) else ""
            relative = (
                relative[len(prefix) :] if prefix and relative.startswith(prefix) else relative
            )
            if not self.wanted(relative) or member.isdir():
                continue
            if not member.isfile():
                self.problem(
                    "capture.special-file",
                    relative,
                    "a link or special file in the tarball; skipped",
                )
                continue
            if not self.admit(relative, member.size):
                continue
            stream = archive.extractfile(member)
            if stream is not None:
                yield relative, stream.read(self.limits.file_bytes + 1)


def _member_path(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p != "."]
    return "/".join(parts) if parts else None


def _has_capture_below(top: str) -> bool:
    # a tarball made with `tar czf cap.tar.gz cap/` has every path under cap/
    return top not in ("proc", "sys", "var") and _format_of(top) is None


def _format_of(relative: str) -> str | None:
    if relative in LOG_NAMES:
        return "show-mem"
    # a bare format id names a file only at the top (a flat capture): deeper down, sysfs
    # has files such as node0/meminfo with other layouts
    spec = format_for_path(relative, by_name="/" not in relative)
    return spec.id if spec else None


def _is_device_file(relative: str) -> bool:
    return relative.endswith("/device") and "virtio" in relative


def _has_show_mem(data: bytes) -> bool:
    return b"Mem-Info:" in data or b"Balloon InflatedTotal:" in data
