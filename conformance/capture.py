"""Reading captures: the input edge of ``balloon-conform check``.

A capture is the set of files read from one guest at one moment. It comes as

* a directory mirroring the guest's root (``proc/meminfo``, ``sys/kernel/debug/vmmemctl``,
  ``sys/bus/virtio/devices/virtio0/features`` with its ``device`` file, a kernel log);
* a flat directory of files named by format id (``meminfo``, ``hv-balloon.txt`` ...);
* a ``.tar`` / ``.tar.gz`` of either, read in place: nothing is extracted;
* files read from a live guest (:func:`capture_from_files`, fed by :mod:`conformance.live`).

A capture is untrusted input. Links are never followed, only regular files are opened, each
read is bounded, and whatever is skipped is said in a diagnostic (``capture.*``); nothing
here raises for a bad capture, nor for a capture or fleet member that is a link, gone or
unreadable by the time it is read: that is a finding on it. The walking lives in
:mod:`~conformance.capture_dir` and :mod:`~conformance.capture_tar`, the limits in
:mod:`~conformance.capture_budget`. This module tells captures from fleets and assembles
what the readers read: it alone decides what each file is (a guest file by its name or
its content, or a ``capture.unknown-file`` note).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .capture_budget import (
    LOG_NAMES,
    MANIFEST,
    MAX_CAPTURE_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    Budget,
    Limits,
    format_of,
    is_device_file,
    safe_text,
)
from .capture_dir import (
    DIRECTORY,
    FILE,
    LINK_ERRORS,
    directory_records,
    kind_of,
    open_beneath,
    read_bounded,
)
from .capture_manifest import read_manifest
from .diagnostics import Diagnostic, Severity
from .formats import all_formats

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass, field
else:
    from .records import dataclass, field

__all__ = [
    "LOG_NAMES",
    "MANIFEST",
    "MAX_CAPTURE_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "Capture",
    "CapturedFile",
    "Limits",
    "capture_from_files",
    "fleet_members",
    "fleet_strays",
    "is_capture",
    "read_capture",
]


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
        """The files of one format, in path order."""
        return [f for f in self.files if f.format == format_id]


def is_capture(path: Path) -> bool:
    """True when ``path`` holds a capture itself (not a fleet of them). A link is taken for
    one, never followed: reading it says it is refused."""
    info = _lstat(path)
    if info is None or stat.S_ISLNK(info.st_mode):
        return info is not None
    if stat.S_ISREG(info.st_mode):
        return is_tar_name(path.name)
    if not stat.S_ISDIR(info.st_mode):
        return False
    if has_guest_root(path):
        return True
    entries = _entries(path)  # listed once for both questions: a fleet may be large
    peeks = _Peeks()
    members = (Path(entry.path) for entry in entries if _member(entry))
    if any(_poses_as_member(member, peeks) for member in members):
        # a fleet, even with a stray file of its own (a log, a meminfo): taking it for one
        # capture would hide every member; the stray is said (fleet_strays), not read
        return False
    if any(format_of(entry.name) for entry in entries):
        return True
    return _guest_file_by_content(path, peeks)


def _poses_as_member(path: Path, peeks: _Peeks) -> bool:
    if is_tar_name(path.name) or path.is_symlink():
        return is_tar_name(path.name)
    return _named_capture(path) or _guest_file_by_content(path, peeks)


def _named_capture(path: Path) -> bool:
    """Whether the directory ``path`` is a capture by the names it holds."""
    return has_guest_root(path) or any(format_of(entry.name) for entry in _entries(path))


def has_guest_root(path: Path) -> bool:
    """Whether the directory ``path`` holds a guest root (``proc``, ``sys``, or
    ``capture.json``): then it is a capture."""
    # asked of every member of a fleet: the names joined as strings, not as Paths
    where = os.fspath(path)
    return any(_lstat(os.path.join(where, name)) is not None for name in _GUEST_ROOT)


_GUEST_ROOT = ("proc", "sys", MANIFEST)


class _Peeks:
    """How many more files telling a capture from a fleet may read: 64 of at most
    ``MAX_FILE_BYTES`` each, as much as one capture may hold, however large the fleet."""

    def __init__(self) -> None:
        self.left = 64

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _guest_file_by_content(path: Path, peeks: _Peeks) -> bool:
    """Whether one of the first top-level files of the directory ``path`` is a guest file
    by its content (a kernel log under another name, say)."""
    try:
        top = os.open(path, DIRECTORY)
    except OSError:
        return False
    try:
        files = [e.name for e in _entries(path) if e.is_file(follow_symlinks=False)]
        return any(peeks.take() and _format_by_content(_peek(top, name)) for name in files)
    finally:
        os.close(top)


def _peek(top: int, name: str) -> bytes:
    """The content of the regular file ``name`` in ``top``, if small enough; else nothing."""
    try:
        fd = open_beneath(top, name)
    except OSError:
        return b""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1 or info.st_size > MAX_FILE_BYTES:
            return b""
        return read_bounded(fd, MAX_FILE_BYTES)
    except OSError:
        return b""
    finally:
        os.close(fd)


def fleet_members(path: Path) -> list[Path]:
    """The captures of a fleet directory, sorted: its subdirectories and tarballs, and
    the links that stand for one (listed so that reading them says they are refused)."""
    # the entries come sorted by name, and so the paths of one directory
    return [Path(entry.path) for entry in _entries(path) if _member(entry)]


def fleet_strays(path: Path) -> list[Capture]:
    """What else a fleet directory holds at its top (files that are not tarballs, FIFOs,
    devices ...), in name order, each as a capture of one note that says it was not
    looked into: nothing a fleet holds goes unmentioned. Only listed, never opened."""
    strays = []
    for entry in _entries(path):
        if _member(entry):
            continue
        info = _lstat(entry.path)
        mode = info.st_mode if info is not None else stat.S_IFREG
        what = "a file" if stat.S_ISREG(mode) else kind_of(mode)
        budget = Budget(_DEFAULT_LIMITS, safe_text(entry.path))
        message = f"{what} beside the captures, not a capture or tarball; not looked into"
        budget.problem("capture.unknown-file", "", message, Severity.NOTE)
        strays.append(Capture(budget.name, (), None, tuple(budget.diagnostics)))
    return strays


def _member(entry: os.DirEntry[str]) -> bool:
    try:
        if entry.is_dir(follow_symlinks=False) or is_tar_name(entry.name):
            return True
        # a link's target is looked at only to say whether it poses as a capture
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def _entries(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as listing:
            return sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return []


def _lstat(path: Path | str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
"""The tarballs read: plain or gzip-compressed, named in any case (``.TGZ``)."""
OTHER_TAR_SUFFIXES: tuple[str, ...] = (
    ".tar.xz",
    ".txz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tar.zst",
    ".tzst",
    ".tar.lz4",
    ".tar.lzma",
    ".tlz",
    ".tar.lz",
    ".tar.z",
    ".taz",
)
"""Tarballs of other compressions: captures all the same, which reading refuses (an
error), so that one is never passed over as a stray file."""


def is_tar_name(name: str) -> bool:
    """Whether a file named ``name`` is taken for a capture tarball."""
    return name.lower().endswith(TAR_SUFFIXES + OTHER_TAR_SUFFIXES)


_DEFAULT_LIMITS = Limits()


def read_capture(path: Path, limits: Limits | None = None, name: str | None = None) -> Capture:
    """The capture at ``path`` (a directory or a tarball), opened as it is read: a link
    is refused, and a capture that is gone or unreadable by then is a finding, not an
    exception, so the rest of a fleet is still checked."""
    budget = Budget(limits or _DEFAULT_LIMITS, safe_text(name if name is not None else str(path)))
    opened = _open_capture(path, budget)
    if isinstance(opened, Capture):
        return opened
    try:
        if stat.S_ISDIR(opened[1].st_mode):
            return _assemble(directory_records(opened[0], budget), budget)
        from .capture_tar import tar_records  # the tar reader loads for a tarball only

        return _assemble(tar_records(_by_descriptor(opened[0], path), budget), budget)
    finally:
        os.close(opened[0])


def _open_capture(path: Path, budget: Budget) -> tuple[int, os.stat_result] | Capture:
    """A descriptor of the directory or tarball at ``path``, or the capture that says
    why it is not read. It is looked at before it is opened, so that a device posing
    as a tarball is never opened, and must still be what was looked at once open."""
    try:
        seen = os.lstat(path)
        if stat.S_ISLNK(seen.st_mode):
            return _refused(budget, "capture.symlink", _LINK_REFUSED)
        if not (stat.S_ISDIR(seen.st_mode) or is_tar_name(path.name)):
            what = "a file" if stat.S_ISREG(seen.st_mode) else kind_of(seen.st_mode)
            return _refused(budget, "capture.unreadable", f"{what}, not a capture or tarball")
        if path.name.lower().endswith(OTHER_TAR_SUFFIXES):
            suffix = next(s for s in OTHER_TAR_SUFFIXES if path.name.lower().endswith(s))
            return _refused(
                budget,
                "capture.unreadable",
                f"a {suffix} tarball; balloon-conform reads .tar, .tar.gz and .tgz "
                "(decompress it first)",
            )
        if not (stat.S_ISDIR(seen.st_mode) or stat.S_ISREG(seen.st_mode)):
            return _refused(budget, "capture.special-file", f"{kind_of(seen.st_mode)}; not opened")
        fd = os.open(path, FILE)
    except OSError as exc:
        if exc.errno in LINK_ERRORS:
            return _refused(budget, "capture.symlink", _LINK_REFUSED)
        return _refused(budget, "capture.unreadable", f"cannot open: {exc.strerror}")
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) != (seen.st_dev, seen.st_ino):
        os.close(fd)
        return _refused(budget, "capture.changed", "replaced while read; not read")
    return fd, info


_LINK_REFUSED = "a symbolic link; not followed (name the capture itself, not a link to it)"


def _refused(budget: Budget, id: str, message: str) -> Capture:
    budget.problem(id, "", message, Severity.ERROR)
    return Capture(budget.name, (), None, tuple(budget.diagnostics))


def _by_descriptor(fd: int, path: Path) -> Path:
    # the tar reader opens a path: /proc/self/fd/N opens the very file checked above, so
    # nothing swapped in since can be read (only where /proc is missing is the name used)
    proc = Path(f"/proc/self/fd/{fd}")
    return proc if proc.exists() else path


def capture_from_files(
    files: Mapping[str, bytes], limits: Limits | None = None, name: str = "live"
) -> Capture:
    """The capture made of ``files`` (relative path to bytes, ``capture.json`` included),
    held to the same rules and limits as one read from a directory."""
    budget = Budget(limits or Limits(), name)

    def records() -> Iterable[tuple[str, bytes]]:
        for relative in sorted(files):
            data = files[relative]
            if budget.admit(relative, len(data)):
                yield relative, data

    return _assemble(records(), budget)


def _assemble(records: Iterable[tuple[str, bytes]], budget: Budget) -> Capture:
    """The capture of what a reader read: the one place that decides what each file is.
    A file is checked as the format its path names; a file of no known name is checked
    as the format its content unambiguously is; any other file is a note."""
    raw = dict(records)
    manifest = _manifest(raw, budget)
    files = []
    for relative in sorted(raw):
        data = raw[relative]
        if relative == MANIFEST or is_device_file(relative):
            continue
        format_id = format_of(relative) or _format_by_content(data)
        if format_id is None:
            budget.problem(
                "capture.unknown-file",
                relative,
                "not a balloon-related file; not checked",
                Severity.NOTE,
            )
            continue
        if format_id == "show-mem" and not has_show_mem(data):
            continue  # a kernel log, by its name, without a dump: nothing about balloons
        path = f"{budget.name}/{relative}"
        files.append(CapturedFile(format_id, path, data, _context(raw, relative)))
    return Capture(budget.name, tuple(files), manifest, tuple(budget.diagnostics))


# Formats whose detector only claims text no other file looks like. vmstat's ("name
# number" lines) and virtio-features' (a line of bits) also fit sysfs files such as a
# node's numastat, so a file of those formats is found by its name only.
_BY_CONTENT = ("meminfo", "hv-balloon", "vmmemctl", "virtio-balloon")


def _format_by_content(data: bytes) -> str | None:
    """The format of a file of no known name, when its content says so unambiguously."""
    if has_show_mem(data):
        return "show-mem"  # a console or serial log with a show_mem() dump in it
    text = data.decode("utf-8", errors="replace")
    claims = [spec.id for spec in all_formats() if spec.id != "show-mem" and spec.detect(text)]
    return claims[0] if len(claims) == 1 and claims[0] in _BY_CONTENT else None


def _context(raw: Mapping[str, bytes], relative: str) -> dict[str, str]:
    device = raw.get(_device_path(relative))
    if device is not None:
        return {"device": device[:64].decode("ascii", errors="replace")}
    if "/drivers/virtio_balloon/" in f"/{relative}":
        return {"device": "0x0005\n"}
    return {}


@lru_cache(maxsize=4096)
def _device_path(relative: str) -> str:
    """Where the virtio ``device`` id beside ``relative`` would be (the same few paths
    in every capture of a fleet: worked out once each)."""
    return f"{PurePosixPath(relative).parent}/device"


def _manifest(raw: Mapping[str, bytes], budget: Budget) -> Mapping[str, Any] | None:
    """The sound members of the capture's ``capture.json`` (see
    :mod:`~conformance.capture_manifest`); each problem in it is a finding."""
    data = raw.get(MANIFEST)
    if data is None:
        return None
    manifest, problems = read_manifest(data, f"{budget.name}/{MANIFEST}")
    budget.diagnostics.extend(problems)
    return manifest


def has_show_mem(data: bytes) -> bool:
    """Whether a kernel log holds a show_mem() dump."""
    return b"Mem-Info:" in data or b"Balloon InflatedTotal:" in data
