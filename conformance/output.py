"""Writing a report or an exported file whole or not at all, and never through a link.

:func:`write_atomically` writes into a new temporary file beside the destination (created
``O_EXCL | O_NOFOLLOW``, so nothing that was already there is opened), then renames it
over the destination: whoever reads the destination sees the previous file or the new
one, never half of one. It refuses a destination that is a symbolic link or not a regular
file, and removes its temporary file whatever stops the writing (an exception, a full
disk, a file size limit, Ctrl-C, or a signal the command line turns into an exception,
as it does SIGTERM), so the previous file stays as it was.

The rename replaces a name and never writes through it: a link put in place of the
destination after the check is replaced, not followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, TextIO

from .errors import UsageError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_MODE = 0o644
"""Permissions of a new file, before the umask (an existing file keeps its own)."""
_TRIES = 8
_NAME_ROOM = 200  # the temporary name adds to the destination's: keep under NAME_MAX


def write_atomically(
    path: str | Path,
    content: str | Callable[[TextIO], object],
    dir_fd: int | None = None,
    encoding: str = "utf-8",
) -> None:
    """Replace the file at ``path`` (relative to the open directory ``dir_fd`` if given)
    by ``content``: a text, or a function that writes to the text stream it is handed.

    Raises :class:`~conformance.errors.UsageError` when ``path`` is a link or not a
    regular file, and passes on what ``content`` or the file system raise; either way the
    file at ``path`` is untouched and no temporary file is left behind.
    """
    target = os.fspath(path)
    mode = destination_mode(target, dir_fd)
    temporary, fd = _create(target, dir_fd)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as stream:
            if isinstance(content, str):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())  # the data is on disk before the name points at it
        destination_mode(target, dir_fd)  # a link swapped in meanwhile is still refused
        os.replace(temporary, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise


def write_output(path: str | Path, content: Callable[[TextIO], object]) -> None:
    """Write a report to ``path`` as a user means it: ``-`` is standard output; a stream
    (``/dev/null``, ``/dev/stdout``, a named pipe), even through a link, is written in
    place, since there is no file to replace and nothing to clobber; any other path is
    replaced whole by :func:`write_atomically`, never through a link."""
    target = os.fspath(path)
    if target == "-":
        content(sys.stdout)
        return
    if _is_stream(target):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:
            content(stream)
        return
    write_atomically(target, content)


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode  # followed: /dev/stdout is a link to the stream
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def destination_mode(path: str, dir_fd: int | None = None) -> int | None:
    """The permissions of the regular file at ``path``, None when there is none yet;
    raises :class:`~conformance.errors.UsageError` for a link or any other kind of file."""
    try:
        info = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(
            f"{path}: a symbolic link; not written through (name the file it points to)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: exists and is not a regular file; not written")
    return stat.S_IMODE(info.st_mode)


def _create(target: str, dir_fd: int | None) -> tuple[str, int]:
    """A new temporary file in the destination's directory: its name and descriptor."""
    directory, name = os.path.split(target)
    for _ in range(_TRIES):
        temporary = os.path.join(directory, f".{name[:_NAME_ROOM]}.{os.urandom(4).hex()}.tmp")
        try:
            return temporary, os.open(temporary, _NEW, _NEW_MODE, dir_fd=dir_fd)
        except FileExistsError:
            continue  # someone else's name, or a link put there: never opened
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", directory or ".")


@contextlib.contextmanager
def directory(path: Path) -> Iterator[int]:
    """A descriptor of the directory ``path``, made (with its parents) when missing, for
    :func:`write_beneath`; refuses a ``path`` that is a link or not a directory."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(parents=True)
    try:
        fd = os.open(path, _DIRECTORY)
    except OSError as exc:
        if is_link_error(exc, path):
            raise UsageError(f"{path}: a symbolic link; not written through") from None
        if exc.errno == errno.ENOTDIR:
            raise UsageError(f"{path}: exists and is not a directory") from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


def write_beneath(top: int, relative: str, content: str | Callable[[TextIO], object]) -> None:
    """:func:`write_atomically` at ``relative`` below the open directory ``top``; the
    directories on the way are made when missing and never entered through a link."""
    *folders, name = relative.split("/")
    fd = top
    try:
        for folder in folders:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o755, dir_fd=fd)
            try:
                inner = os.open(folder, _DIRECTORY, dir_fd=fd)
            except OSError as exc:
                if is_link_error(exc, folder, fd) or exc.errno == errno.ENOTDIR:
                    raise UsageError(
                        f"{relative}: {folder} is not a directory of its own (a link?); not written"
                    ) from None
                raise
            if fd != top:
                os.close(fd)
            fd = inner
        write_atomically(name, content, dir_fd=fd)
    finally:
        if fd != top:
            os.close(fd)


def is_link_error(exc: OSError, path: str | Path, dir_fd: int | None = None) -> bool:
    """Whether opening ``path`` with ``O_NOFOLLOW`` failed because it is a link (which
    ``O_DIRECTORY`` reports as ENOTDIR on Linux)."""
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return True
    try:
        return exc.errno == errno.ENOTDIR and stat.S_ISLNK(
            os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
        )
    except OSError:
        return False
