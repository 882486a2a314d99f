"""Reading a capture directory without trusting it.

The walk looks at directory entries without following any link, descends only into the
directories that can hold a guest file (:func:`~conformance.capture_budget.may_hold`), and
stops at the depth and entry limits. Only regular files with one link are opened, with
``O_NOFOLLOW | O_NONBLOCK`` so a file swapped for a link or a FIFO after the walk can
neither lead out of the capture nor block; each read is bounded by the file size limit.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .capture_budget import Budget, may_hold, wanted
from .diagnostics import Severity

_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for a diagnostic."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def directory_records(root: Path, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """``(relative path, bytes)`` of each wanted, admitted guest file below ``root``."""
    for relative, info in _walk(root, "", 0, budget):
        if not wanted(relative):
            continue
        if not stat.S_ISREG(info.st_mode):
            budget.problem("capture.special-file", relative, f"{kind_of(info.st_mode)}; not opened")
        elif info.st_nlink > 1:
            budget.problem(
                "capture.hard-link",
                relative,
                f"a hard link ({info.st_nlink} names): it may be a file from outside the "
                "capture; skipped",
            )
        elif budget.admit(relative, info.st_size):
            data = _read(root, relative, info, budget)
            if data is not None:
                yield relative, data


def _walk(
    folder: Path, prefix: str, depth: int, budget: Budget
) -> Iterator[tuple[str, os.stat_result]]:
    if depth > budget.limits.depth:
        budget.problem(
            "capture.too-deep",
            prefix.rstrip("/"),
            f"nested deeper than {budget.limits.depth} levels; not read",
            Severity.ERROR,
        )
        return
    for entry in _entries(folder, prefix, budget):
        relative = f"{prefix}{entry.name}"
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone since it was listed: nothing to read
        if stat.S_ISLNK(info.st_mode):
            if wanted(relative) or may_hold(relative):
                budget.problem(
                    "capture.symlink",
                    relative,
                    "a symbolic link; not followed (a capture is read without links: copy "
                    "sysfs with `balloon-conform capture`, or `cp -rL`)",
                )
        elif stat.S_ISDIR(info.st_mode):
            if may_hold(relative):
                yield from _walk(Path(entry.path), relative + "/", depth + 1, budget)
        else:
            yield relative, info


def _entries(folder: Path, prefix: str, budget: Budget) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` in name order, no more than the entry budget allows."""
    entries = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if not budget.look():
                    break
                entries.append(entry)
    except OSError as exc:
        budget.problem("capture.unreadable", prefix.rstrip("/"), f"cannot list: {exc.strerror}")
    return sorted(entries, key=lambda e: e.name)


def _read(root: Path, relative: str, seen: os.stat_result, budget: Budget) -> bytes | None:
    limit = budget.limits.file_bytes
    try:
        fd = os.open(root / relative, _NO_FOLLOW)
    except OSError as exc:
        budget.problem("capture.unreadable", relative, f"cannot open: {exc.strerror}")
        return None
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (seen.st_dev, seen.st_ino) or not stat.S_ISREG(
            info.st_mode
        ):
            budget.problem("capture.changed", relative, "replaced while read; skipped")
            return None
        data = read_bounded(fd, limit + 1)
    except OSError as exc:
        budget.problem("capture.unreadable", relative, f"cannot read: {exc.strerror}")
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        budget.too_large(relative)
        return None
    budget.total += len(data) - seen.st_size  # a file that changed size since the walk
    return data


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
