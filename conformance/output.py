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

The standard streams are destinations too, and the command line's own: the names the
system gives them (``/dev/stdout``, ``/dev/fd/2``, ``/proc/self/fd/1`` ...) mean the
stream whatever it is open on (:func:`standard_stream`), :func:`destination` tells when
two spellings name one place, and :func:`prepare_standard_streams` makes a closed stream
a usage error and a character the terminal's encoding lacks an escape, instead of a
traceback or text lost without a word.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, NoReturn, TextIO

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
    """Write a report to ``path`` as a user means it: ``-`` and every name of standard
    output (``/dev/stdout``, ``/dev/fd/1`` ...) are standard output, and the names of
    standard error are standard error, whatever they are open on (a file, a pipe, a
    terminal); a stream (``/dev/null``, a named pipe), even through a link, is written in
    place, since there is no file to replace and nothing to clobber; any other path is
    replaced whole by :func:`write_atomically`, never through a link."""
    target = os.fspath(path)
    fd = standard_stream(target)
    if fd is not None:
        content(standard(fd))
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


_STREAM_NAMES = {"-": 1, "/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_STREAM_NUMBERS = {"0": 0, "1": 1, "2": 2}  # how /proc spells them: "01" is no name there
_STREAM_WORDS = ("input", "output", "error")


def standard_stream(path: str) -> int | None:
    """0, 1 or 2 when ``path`` is ``-`` or a name the system gives this process's own
    standard input, output or error (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``,
    ``/proc/PID/fd/1``), else None.

    Told from the name alone: it means the stream whatever that is open on, a file
    included, and a link of someone else's that happens to lead there is no such name."""
    if path in _STREAM_NAMES:
        return _STREAM_NAMES[path]
    try:
        absolute = os.path.abspath(path)
    except OSError:  # the working directory is gone: a relative name names nothing of ours
        return None
    if "/../" in f"/{path}/":
        return None  # ".." after a link is not what it reads as: never guessed at
    name = "/" + absolute.lstrip("/")
    if name in _STREAM_NAMES:
        return _STREAM_NAMES[name]
    folder, _, number = name.rpartition("/")
    own = ("/dev/fd", "/proc/self/fd", "/proc/thread-self/fd", f"/proc/{os.getpid()}/fd")
    return _STREAM_NUMBERS.get(number) if folder in own else None


def standard(fd: int) -> TextIO:
    """The text stream of standard output (1) or standard error (2), to write a report to;
    :class:`~conformance.errors.UsageError` for standard input and for a stream that was
    closed when the command started."""
    if fd == 0:
        raise UsageError("standard input is no place for a report")
    stream = sys.stdout if fd == 1 else sys.stderr
    if stream is None or isinstance(stream, ClosedStream):
        raise UsageError(f"standard {_STREAM_WORDS[fd]} is closed: the report has nowhere to go")
    return stream


def destination(path: str) -> tuple[object, ...]:
    """Where writing to ``path`` lands, the same for every spelling of one place (``a``,
    ``./a``, ``$PWD/a``, ``sub/a`` through a link ``sub`` to ``.``, ``-`` and
    ``/dev/stdout``): an existing regular file by device and inode (a standard stream open
    on one too), a standard stream by number, else the name in its folder, the folder by
    device and inode however it is reached."""
    fd = standard_stream(path)
    if fd is not None:
        return _regular_file(lambda: os.fstat(_fileno(fd))) or ("stream", fd)
    found = _regular_file(lambda: os.stat(path, follow_symlinks=False))
    if found:
        return found
    folder, name = os.path.split(path)
    if name not in ("", ".", ".."):
        try:
            info = os.stat(folder or ".")  # followed: the folder itself, however reached
        except (OSError, ValueError):
            pass
        else:
            return ("name", info.st_dev, info.st_ino, name)
    return ("path", os.path.normpath(path))


def _fileno(fd: int) -> int:
    """The descriptor the stream for ``fd`` writes to (another one, or none, in a test)."""
    stream = (sys.stdin, sys.stdout, sys.stderr)[fd]
    return stream.fileno() if stream is not None else fd


def _regular_file(status: Callable[[], os.stat_result]) -> tuple[object, ...] | None:
    try:
        info = status()
    except (OSError, ValueError):
        return None
    return ("file", info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


class ClosedStream(io.TextIOBase):
    """What stands for a standard stream that was closed when the command started
    (``>&-``, ``<&-``, a parent that closed it): reading it, or writing to standard
    output, is a :class:`~conformance.errors.UsageError` that says so, where Python would
    drop what :func:`print` writes or fail on ``None``. What is written to a closed
    standard error, the messages themselves, has nowhere to go and is dropped."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def _refuse(self, *args: object) -> NoReturn:
        word = _STREAM_WORDS[self.fd]
        doing = "nothing to read" if self.fd == 0 else "nothing can be written to it"
        raise UsageError(f"standard {word} is closed: {doing}")

    read = readline = _refuse

    def write(self, text: str) -> int:
        if self.fd != 2:
            self._refuse()
        return len(text)

    def flush(self) -> None:
        """Nothing is kept to flush: the interpreter's flush at exit has nothing to fail on."""

    @property
    def buffer(self) -> ClosedStream:
        """The binary side (``sys.stdin.buffer``): as closed."""
        return self


_ESCAPE = "balloon-conform-escape"


def _escape_unencodable(exc: UnicodeError) -> tuple[str, int]:
    """A character the stream's encoding lacks as ``\\uXXXX`` (two for one beyond the
    BMP, as JSON writes it, so a JSON report stays JSON), for ``codecs.register_error``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    units = exc.object[exc.start : exc.end].encode("utf-16-be", "surrogatepass")
    escaped = "".join(
        f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
    )
    return escaped, exc.end


def prepare_standard_streams() -> None:
    """Make the process's standard streams safe to use, at start-up: a closed one becomes
    a :class:`ClosedStream` (and its descriptor ``/dev/null``, so that no file opened
    later takes its number, to be written by whoever still takes it for the stream), and
    a character the encoding of standard output or error lacks (``PYTHONIOENCODING=ascii``,
    a Latin-1 terminal) is written as an escape instead of failing with an exception."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is None:
            _fill(fd)
            setattr(sys, name, ClosedStream(fd))
    codecs.register_error(_ESCAPE, _escape_unencodable)
    for stream in (sys.__stdout__, sys.__stderr__):
        # only the interpreter's own streams: a test's capture is left as it is
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "surrogateescape"):
            stream.reconfigure(errors=_ESCAPE)


def _fill(fd: int) -> None:
    """``/dev/null`` on descriptor ``fd`` when it is closed."""
    try:
        os.fstat(fd)
        return  # open after all: not ours to replace
    except OSError:
        pass
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd, inheritable=False)
        os.close(null)


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
