"""Reading a capture directory without trusting it, through directory file descriptors.

The walk lists each directory through a descriptor opened ``O_DIRECTORY | O_NOFOLLOW``
relative to its parent's, so a directory swapped for a link while the walk runs can never
lead out of the capture: the open fails instead. It descends only into the directories
that can hold a guest file (:func:`~conformance.capture_budget.may_hold`) and stops at the
depth and entry limits; a folder it leaves out at the top of the capture, and whatever
it finds that is neither a file nor a folder, is said in a ``capture.unknown-file`` note.
Files are read afterwards, wanted guest files first so that other files never spend the
budget they need; each is opened again component by component from the capture's own
descriptor, the last one ``O_NOFOLLOW | O_NONBLOCK``, and must still be the regular file
with one link that the walk saw. Nothing here follows a link, opens a special file, or
reads more than the file size limit. What the files are is decided by the caller
(:func:`conformance.capture._assemble`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from .capture_budget import Budget, may_hold, wanted
from .diagnostics import Severity
from .output import is_link_error

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
"""Flags that open a directory, never a link to one."""
FILE = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
FILE |= _CLOEXEC
"""Flags that open a file, never a link, without blocking on a FIFO."""
LINK_ERRORS = (errno.ELOOP, errno.EMLINK)
"""What ``O_NOFOLLOW`` makes ``open`` say of a link (Linux, BSD)."""

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
)


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for a diagnostic."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


@dataclass(frozen=True)
class _Seen:
    """A regular file as the walk saw it."""

    relative: str
    device: int
    inode: int
    size: int


def directory_records(top: int, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """``(relative path, bytes)`` of each admitted regular file in the directories the walk
    visits below the open directory ``top`` (not closed here): wanted guest files first,
    each read as the walk meets it through its directory's descriptor, then the others."""
    others: list[_Seen] = []
    yield from _walk(top, "", 0, budget, others)
    for file in others:
        if budget.admit(file.relative, file.size):
            data = _read(top, file, budget)
            if data is not None:
                yield file.relative, data


def _walk(
    fd: int, prefix: str, depth: int, budget: Budget, others: list[_Seen]
) -> Iterator[tuple[str, bytes]]:
    if depth > budget.limits.depth:
        budget.problem(
            "capture.too-deep",
            prefix.rstrip("/"),
            f"nested deeper than {budget.limits.depth} levels; not read",
            Severity.ERROR,
        )
        return
    for name, info in _entries(fd, prefix, budget):
        relative = f"{prefix}{name}"
        mode = info.st_mode
        if stat.S_ISREG(mode) and info.st_nlink == 1:
            seen = _Seen(relative, info.st_dev, info.st_ino, info.st_size)
            if not wanted(relative):
                others.append(seen)
            elif budget.admit(relative, seen.size):
                # opened in the directory just listed: one open, not one per level
                data = _read(fd, seen, budget, name)
                if data is not None:
                    yield relative, data
        elif stat.S_ISDIR(mode):
            if may_hold(relative):
                yield from _descend(fd, name, info, relative, depth, budget, others)
            elif not prefix:
                _unknown(
                    budget,
                    relative,
                    "a folder that holds no guest file by its path; not looked into",
                )
        elif stat.S_ISLNK(mode):
            _link(budget, relative)
        elif not stat.S_ISREG(mode):
            if wanted(relative):
                budget.problem("capture.special-file", relative, f"{kind_of(mode)}; not opened")
            else:
                _unknown(
                    budget, relative, f"{kind_of(mode)}, not a balloon-related file; not opened"
                )
        else:
            _hard_link(budget, relative, info.st_nlink)


def _descend(
    parent: int,
    name: str,
    info: os.stat_result,
    relative: str,
    depth: int,
    budget: Budget,
    others: list[_Seen],
) -> Iterator[tuple[str, bytes]]:
    try:
        fd = os.open(name, DIRECTORY, dir_fd=parent)
    except OSError as exc:
        if is_link_error(exc, name, parent):
            _link(budget, relative)  # swapped for a link since it was listed
        elif exc.errno == errno.ENOTDIR:
            budget.problem("capture.changed", relative, "replaced while read; skipped")
        elif exc.errno != errno.ENOENT:  # gone since it was listed: nothing to read
            budget.problem("capture.unreadable", relative, f"cannot open: {exc.strerror}")
        return
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            budget.problem("capture.changed", relative, "replaced while read; skipped")
            return
        yield from _walk(fd, relative + "/", depth + 1, budget, others)
    finally:
        os.close(fd)


def _entries(fd: int, prefix: str, budget: Budget) -> list[tuple[str, os.stat_result]]:
    """The entries of the open directory ``fd`` in name order, with what they are (links
    not followed), no more than the entry budget allows."""
    entries = []
    try:
        with os.scandir(fd) as listing:
            for entry in listing:
                if not budget.look():
                    break
                try:
                    entries.append((entry.name, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue  # gone since it was listed: nothing to read
    except OSError as exc:
        budget.problem("capture.unreadable", prefix.rstrip("/"), f"cannot list: {exc.strerror}")
    return sorted(entries, key=lambda e: e[0])


def _link(budget: Budget, relative: str) -> None:
    if wanted(relative) or may_hold(relative):
        budget.problem(
            "capture.symlink",
            relative,
            "a symbolic link; not followed (a capture is read without links: copy "
            "sysfs with `balloon-conform capture`, or `cp -rL`)",
        )
    else:
        _unknown(budget, relative, "a symbolic link, not a balloon-related file; not followed")


def _hard_link(budget: Budget, relative: str, links: int) -> None:
    budget.problem(
        "capture.hard-link",
        relative,
        f"a hard link ({links} names): it may be a file from outside the capture; skipped",
    )


def _unknown(budget: Budget, relative: str, message: str) -> None:
    budget.problem("capture.unknown-file", relative, message, Severity.NOTE)


def _read(top: int, seen: _Seen, budget: Budget, name: str | None = None) -> bytes | None:
    """The bytes of the file the walk saw, opened as ``name`` in the directory ``top``
    when given, else at its path below the capture ``top``; None when it is skipped."""
    limit = budget.limits.file_bytes
    try:
        fd = (
            os.open(name, FILE, dir_fd=top)
            if name is not None
            else open_beneath(top, seen.relative)
        )
    except OSError as exc:
        if exc.errno in (*LINK_ERRORS, errno.ENOTDIR):
            budget.problem("capture.changed", seen.relative, "replaced while read; skipped")
        else:
            budget.problem("capture.unreadable", seen.relative, f"cannot open: {exc.strerror}")
        return None
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (seen.device, seen.inode) or not stat.S_ISREG(
            info.st_mode
        ):
            budget.problem("capture.changed", seen.relative, "replaced while read; skipped")
            return None
        if info.st_nlink > 1:
            _hard_link(budget, seen.relative, info.st_nlink)
            return None
        data = read_bounded(fd, limit + 1)
    except OSError as exc:
        budget.problem("capture.unreadable", seen.relative, f"cannot read: {exc.strerror}")
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        budget.too_large(seen.relative)
        return None
    budget.total += len(data) - seen.size  # a file that changed size since the walk
    return data


def open_beneath(top: int, relative: str) -> int:
    """A descriptor of the file at ``relative`` below the open directory ``top``, each
    component opened relative to the one before and none of them through a link."""
    *folders, name = relative.split("/")
    fd = top
    try:
        for folder in folders:
            inner = os.open(folder, DIRECTORY, dir_fd=fd)
            if fd != top:
                os.close(fd)
            fd = inner
        return os.open(name, FILE, dir_fd=fd)
    finally:
        if fd != top:
            os.close(fd)


def read_bounded(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes of ``fd``, read until its end."""
    chunks = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
