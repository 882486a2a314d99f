"""The ``capture`` command of ``balloon-conform``, and ``check --live``.

``capture [--root DIR] OUTDIR`` (or ``--tar FILE.tar.gz``) reads the known guest files of
this system (:mod:`conformance.live`) and writes them as a capture in the directory layout
``check`` reads, with its ``capture.json``; ``--series N --interval SECONDS`` takes N
snapshots into ``OUTDIR/t0``, ``t1`` ... It writes nothing outside OUTDIR (or the tar
file): OUTDIR must be new or empty and not a link, every path below it is created afresh
without following links, and the tar file must not exist yet.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .capture import MAX_FILE_BYTES, Limits, capture_from_files
from .check import CheckOptions, check_capture
from .errors import InputError, UsageError
from .output import is_link_error
from .records import replace
from .report.model import CaptureResult

if TYPE_CHECKING:
    from .live import Snapshot

EXIT_OK = 0
MAX_SERIES = 100_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; the module still imports elsewhere
_SIZE = re.compile(r"(\d{1,15})\s*(k|kb|kib|m|mb|mib|g|gb|gib)?", re.IGNORECASE)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_LINK_REFUSED = "{}: a symbolic link; a capture is written into a directory, never through a link"
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def byte_size(text: str) -> int:
    """``1048576``, ``64k``, ``1MiB``, ``2M``: a positive size in bytes (binary units)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match[1]) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1048576, 64k or 1MiB")
    unit = (match[2] or " ").lower()[0]
    return int(match[1]) * {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(unit, 1)


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_SERIES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count from 1 to {MAX_SERIES}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return value


def add_commands(commands: Any) -> None:
    """Register ``capture`` on the CLI's subparsers."""
    cmd = commands.add_parser(
        "capture", help="read this guest's balloon statistics into a capture for check"
    )
    cmd.add_argument("outdir", nargs="?", metavar="OUTDIR", help="a new or empty directory")
    cmd.add_argument("--tar", metavar="FILE.tar.gz", help="write a new tarball instead")
    cmd.add_argument("--root", default="/", metavar="DIR", help="the root to read (default: /)")
    cmd.add_argument("--series", type=_count, metavar="N", help="N snapshots: OUTDIR/t0 ...")
    cmd.add_argument(
        "--interval", type=_seconds, default=1.0, metavar="SECONDS", help="between snapshots"
    )
    add_size_option(cmd)
    cmd.set_defaults(handler=run_capture)


def add_size_option(parser: argparse.ArgumentParser) -> None:
    """``--max-file-size`` (for ``capture`` and ``check``)."""
    parser.add_argument(
        "--max-file-size",
        type=byte_size,
        default=MAX_FILE_BYTES,
        metavar="BYTES",
        help=f"skip larger files (default: {MAX_FILE_BYTES}; 64k, 1MiB ... accepted)",
    )


def add_check_options(check: argparse.ArgumentParser) -> None:
    """``--live`` and ``--max-file-size`` on ``check``."""
    check.add_argument(
        "--live", action="store_true", help="capture this guest in memory and check it"
    )
    add_size_option(check)


def limits_of(args: argparse.Namespace) -> Limits:
    """The reading limits the command line asked for."""
    return Limits(file_bytes=getattr(args, "max_file_size", MAX_FILE_BYTES))


def check_live(args: argparse.Namespace, options: CheckOptions) -> list[CaptureResult]:
    """``check --live``: capture this system in memory and check it; nothing is written."""
    if args.paths or args.series:
        raise UsageError("--live checks this guest; it takes no CAPTURE and no --series")
    from .live import snapshot  # the live reader loads for the commands that read a guest

    limits = limits_of(args)
    taken = snapshot(Path("/"), limits)
    result = check_capture(capture_from_files(taken.capture_files(), limits, LIVE), options)
    return [at_guest_paths(result)]


LIVE = "live"
"""The name of a capture taken in memory by ``check --live``."""


def at_guest_paths(result: CaptureResult) -> CaptureResult:
    """``result`` of a capture taken in memory, with each ``live/...`` path turned into the
    guest path it was read from (``/proc/meminfo``): nothing under the working directory
    holds the file, and that path is the one a maintainer opens on the guest."""

    def guest(path: str) -> str:
        return path[len(LIVE) :] if path.startswith(LIVE + "/") else path

    diagnostics = tuple(
        d.at(guest(d.location.path)) if d.location.path.startswith(LIVE + "/") else d
        for d in result.diagnostics
    )
    files = tuple(guest(f) for f in result.files)
    return replace(result, files=files, diagnostics=diagnostics, guest=True)


def run_capture(args: argparse.Namespace) -> int:
    """Take the snapshot(s) and write them; report what was not read on stderr."""
    if (args.outdir is None) == (args.tar is None):
        raise UsageError("give OUTDIR or --tar FILE.tar.gz (one of them)")
    if args.tar is not None and args.series:
        raise UsageError("--series writes OUTDIR/t0, t1 ...: give OUTDIR, not --tar")
    from .live import snapshot

    root = Path(args.root)
    if not root.is_dir():
        raise InputError(f"{args.root}: not a directory to capture from")
    limits = limits_of(args)
    if args.tar is not None:
        taken = snapshot(root, limits)
        write_tar(Path(args.tar), taken.capture_files())
        _say(taken, args.tar)
        return EXIT_OK
    outdir = Path(args.outdir)
    _prepare(outdir)
    count = args.series or 1
    for index in range(count):
        if index:
            time.sleep(args.interval)
        taken = snapshot(root, limits, series_index=index if args.series else None)
        where = outdir / f"t{index}" if args.series else outdir
        write_directory(where, taken.capture_files())
        _say(taken, str(where))
    return EXIT_OK


def _say(taken: Snapshot, where: str) -> None:
    files = taken.manifest.get("files", {})
    read = sum(1 for entry in files.values() if entry.get("status") == "read")
    print(f"balloon-conform: captured {read} files into {where}", file=sys.stderr)
    for relative, entry in files.items():
        if entry.get("status") != "read":
            reason = f": {entry['reason']}" if entry.get("reason") else ""
            print(f"  {relative}: {entry.get('status')}{reason}", file=sys.stderr)


def _prepare(outdir: Path) -> None:
    """OUTDIR as a new or empty directory (its parent must exist: nothing else is made)."""
    try:
        outdir.mkdir()
    except FileExistsError:
        if outdir.is_symlink():
            raise UsageError(_LINK_REFUSED.format(outdir)) from None
        if not outdir.is_dir() or any(outdir.iterdir()):
            raise UsageError(f"{outdir}: exists and is not an empty directory") from None
    except OSError as exc:
        raise InputError(f"{outdir}: cannot create: {exc.strerror}") from exc


def write_directory(target: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` below ``target`` (created if new), never through a link."""
    try:
        target.mkdir(exist_ok=True)
        top = os.open(target, _DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        if is_link_error(exc, target):
            raise UsageError(_LINK_REFUSED.format(target)) from None
        raise InputError(f"{target}: cannot create: {exc.strerror}") from exc
    try:
        for relative, data in sorted(files.items()):
            _write_beneath(top, relative, data)
    except OSError as exc:
        raise InputError(f"{target}: cannot write the capture: {exc.strerror}") from exc
    finally:
        os.close(top)


def _write_beneath(top: int, relative: str, data: bytes) -> None:
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a capture path: {relative!r}")  # our own paths never are
    fd = os.dup(top)
    try:
        for part in parts[:-1]:
            # made for an earlier file, maybe: opened below without following a link
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            inner = os.open(part, _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        out = os.open(parts[-1], _NEW_FILE, 0o644, dir_fd=fd)
        with os.fdopen(out, "wb") as stream:
            stream.write(data)
    finally:
        os.close(fd)


def write_tar(path: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` as a new gzip tarball at ``path`` (never over an existing file)."""
    import tarfile  # only for --tar

    try:
        fd = os.open(path, _NEW_FILE, 0o644)
    except FileExistsError:
        raise UsageError(f"{path}: exists; a capture is never written over a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot create: {exc.strerror}") from exc
    now = int(time.time())
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            for relative, data in sorted(files.items()):
                info = tarfile.TarInfo(relative)
                info.size, info.mode, info.mtime = len(data), 0o644, now
                archive.addfile(info, io.BytesIO(data))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the capture: {exc.strerror}") from exc
