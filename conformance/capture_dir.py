"""Reading a capture directory without trusting it, through directory file descriptors.

The walk lists each directory through a descriptor opened ``O_DIRECTORY | O_NOFOLLOW``
relative to its parent's, so a directory swapped for a link while the walk runs can never
lead out of the capture: the open fails instead. It descends only into the directories
that can hold a guest file (:func:`~conformance.capture_budget.may_hold`) and stops at the
depth and entry limits; a folder it leaves out at the top of the capture, and whatever
it finds that is neither a file nor a folder, is said in a ``capture.unknown-file`` note.
Wanted guest files are read first, so that other files never spend the budget they need:
each as the walk meets it, opened ``O_NOFOLLOW | O_NONBLOCK`` in the directory just listed
and read only if its descriptor's status says a regular file with one link (what is checked
is what is read). Other files are read afterwards, opened again component by component from
the capture's own descriptor, and must still be the regular file with one link that the
walk saw. Nothing here follows a link, opens a special file, or reads more than the file
size limit. What the files are is decided by the caller
(:func:`conformance.capture._assemble`).
"""

from __future__ import annotations

import errno
import os
import stat
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING

from .capture_budget import Budget, may_hold, wanted
from .diagnostics import Severity
from .output import is_link_error

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

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


def directory_records(top: int, budget: Budget) -> list[tuple[str, bytes]]:
    """``(relative path, bytes)`` of each admitted regular file in the directories the walk
    visits below the open directory ``top`` (not closed here): wanted guest files first,
    each read as the walk meets it through its directory's descriptor, then the others."""
    records: list[tuple[str, bytes]] = []
    others: list[_Seen] = []
    _walk(top, "", 0, budget, others, records)
    for file in others:
        if budget.admit(file.relative, file.size):
            data = _read(top, file, budget)
            if data is not None:
                records.append((file.relative, data))
    return records


def _walk(
    fd: int,
    prefix: str,
    depth: int,
    budget: Budget,
    others: list[_Seen],
    records: list[tuple[str, bytes]],
) -> None:
    # a plain recursion that appends: a capture is a few small directories, and a
    # generator per level cost more than the reading it drove
    if depth > budget.limits.depth:
        budget.problem(
            "capture.too-deep",
            prefix.rstrip("/"),
            f"nested deeper than {budget.limits.depth} levels; not read",
            Severity.ERROR,
        )
        return
    for entry in _entries(fd, prefix, budget):
        name = entry.name
        relative = prefix + name
        try:
            kind = _kind(entry)
            if kind == "file" and not wanted(relative):
                _other(entry.stat(follow_symlinks=False), relative, budget, others)
                continue
            if kind == "special":
                _special(budget, relative, entry.stat(follow_symlinks=False).st_mode)
                continue
        except OSError:
            continue  # gone since it was listed: nothing to read
        # reading and descending report their own errors; anything else is not swallowed
        if kind == "file":
            data = _read_wanted(fd, name, relative, budget)
            if data is not None:
                records.append((relative, data))
        elif kind == "dir":
            if may_hold(relative):
                _descend(fd, name, relative, depth, budget, others, records)
            elif not prefix:
                _unknown(
                    budget,
                    relative,
                    "a folder that holds no guest file by its path; not looked into",
                )
        else:
            _link(budget, relative)


def _kind(entry: os.DirEntry[str]) -> str:
    """``file``, ``dir``, ``link`` or ``special``: what the listing says the entry is,
    without a system call where the file system says it (as most do). A wanted file is
    then looked at through the descriptor it is read from; the rest are looked at only
    when they need a finding or a size."""
    if entry.is_file(follow_symlinks=False):
        return "file"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "link" if entry.is_symlink() else "special"


def _other(info: os.stat_result, relative: str, budget: Budget, others: list[_Seen]) -> None:
    """A regular file that is no guest file: read after the wanted ones, if admitted."""
    if info.st_nlink == 1:
        others.append(_Seen(relative, info.st_dev, info.st_ino, info.st_size))
    else:
        _hard_link(budget, relative, info.st_nlink)


def _special(budget: Budget, relative: str, mode: int) -> None:
    if wanted(relative):
        budget.problem("capture.special-file", relative, f"{kind_of(mode)}; not opened")
    else:
        _unknown(budget, relative, f"{kind_of(mode)}, not a balloon-related file; not opened")


def _descend(
    parent: int,
    name: str,
    relative: str,
    depth: int,
    budget: Budget,
    others: list[_Seen],
    records: list[tuple[str, bytes]],
) -> None:
    # whatever directory stands at ``name`` when it is opened is the one walked: opened
    # from its parent's descriptor without following a link, it is inside the capture
    try:
        fd = os.open(name, DIRECTORY, dir_fd=parent)
    except OSError as exc:
        if is_link_error(exc, name, parent):
            _link(budget, relative)  # swapped for a link since it was listed
        elif exc.errno == errno.ENOTDIR:
            budget.problem("capture.changed", relative, "replaced while read; skipped")
        elif exc.errno == errno.ENOENT:  # listed, then gone: said, never passed over
            budget.problem("capture.changed", relative, "removed while read; skipped")
        else:
            budget.problem("capture.unreadable", relative, f"cannot open: {exc.strerror}")
        return
    try:
        _walk(fd, relative + "/", depth + 1, budget, others, records)
    finally:
        os.close(fd)


def _entries(fd: int, prefix: str, budget: Budget) -> list[os.DirEntry[str]]:
    """The entries of the open directory ``fd`` in name order, no more than the entry
    budget allows."""
    left = max(budget.limits.entries - budget.looked, 0)
    entries: list[os.DirEntry[str]] = []
    try:
        with os.scandir(fd) as listing:
            # one more than the budget allows, if there is one, to say it ran out; what
            # was listed before an error is kept (extend keeps what it appended)
            entries.extend(islice(listing, left + 1))
    except OSError as exc:
        budget.problem("capture.unreadable", prefix.rstrip("/"), f"cannot list: {exc.strerror}")
    if len(entries) > left:
        budget.looked += left
        del entries[left:]
        budget.look()  # the one past the limit: said once for the capture
    else:
        budget.looked += len(entries)
    entries.sort(key=_NAME)
    return entries


_NAME = attrgetter("name")


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


def _read_wanted(fd: int, name: str, relative: str, budget: Budget) -> bytes | None:
    """The bytes of the guest file ``name`` in the open directory ``fd``, if it is still a
    regular file with one link and the budget admits it; None when it is skipped. What is
    checked is what was opened (its descriptor's status), so nothing can be swapped in
    between the looking and the reading."""
    try:
        file = os.open(name, FILE, dir_fd=fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:  # listed, then gone: said, never passed over
            budget.problem("capture.changed", relative, "removed while read; skipped")
        else:
            _not_opened(budget, relative, exc)
        return None
    try:
        info = os.fstat(file)
        if not stat.S_ISREG(info.st_mode):
            budget.problem("capture.changed", relative, "replaced while read; skipped")
            return None
        if info.st_nlink > 1:
            _hard_link(budget, relative, info.st_nlink)
            return None
        if not budget.admit(relative, info.st_size):
            return None
        return _bounded(file, relative, info.st_size, budget)
    finally:
        os.close(file)


def _read(top: int, seen: _Seen, budget: Budget) -> bytes | None:
    """The bytes of the file the walk saw at its path below the capture ``top``, if it is
    still that regular file with one link; None when it is skipped."""
    try:
        fd = open_beneath(top, seen.relative)
    except OSError as exc:
        _not_opened(budget, seen.relative, exc)
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
        return _bounded(fd, seen.relative, seen.size, budget)
    finally:
        os.close(fd)


def _not_opened(budget: Budget, relative: str, exc: OSError) -> None:
    if exc.errno in (*LINK_ERRORS, errno.ENOTDIR):
        budget.problem("capture.changed", relative, "replaced while read; skipped")
    else:
        budget.problem("capture.unreadable", relative, f"cannot open: {exc.strerror}")


def _bounded(fd: int, relative: str, size: int, budget: Budget) -> bytes | None:
    """The bytes of the open file ``fd`` of ``size`` bytes as admitted, within the file
    size limit, counted against the capture's budget; None when it is skipped."""
    limit = budget.limits.file_bytes
    try:
        data = read_bounded(fd, limit + 1, size)
    except OSError as exc:
        budget.problem("capture.unreadable", relative, f"cannot read: {exc.strerror}")
        return None
    if len(data) > limit:
        budget.too_large(relative)
        return None
    budget.total += len(data) - size  # a file that changed size since it was admitted
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


def read_bounded(fd: int, limit: int, size: int = -1) -> bytes:
    """At most ``limit`` bytes of ``fd``, read until its end. A regular file whose
    status said ``size`` bytes is read in one read when it still holds that many: asked
    for one byte more, it gives exactly ``size`` only at its end."""
    chunks = []
    left = limit
    if 0 <= size < limit:
        first = os.read(fd, size + 1)
        if len(first) == size:
            return first
        chunks.append(first)  # it changed since: read on to its end, within the limit
        left -= len(first)
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
