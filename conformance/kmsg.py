"""The kernel log of the running kernel, read from ``/dev/kmsg`` without blocking.

Why ``/dev/kmsg`` and not ``dmesg``: running a program from a checker means trusting
``$PATH`` and its output format, and ``dmesg`` may not be installed in a minimal guest.
``/dev/kmsg`` opened with ``O_NONBLOCK`` hands out one record per read and says
``EAGAIN`` once the buffer is drained, so the read ends on its own; ``EPIPE`` (records
overwritten while reading) is skipped. Records become the lines ``dmesg`` prints
(``[    1.234567] message``), the form the show-mem format reads. The text kept is bounded:
when the log is larger, the most recent lines are kept, since a show_mem() dump worth
checking is the latest one.
"""

from __future__ import annotations

import collections
import errno
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

KMSG = Path("/dev/kmsg")
_RECORD = re.compile(rb"(\d+),(\d+),(\d+),[^;]*;(.*)")
_READ_SIZE = 8192


@dataclass(frozen=True)
class KernelLog:
    """What reading the kernel log gave: its text, or why there is none."""

    text: bytes
    status: str
    """``read``, or a capture.json status (``permission-denied``, ``absent``, ``unreadable``)."""
    reason: str | None = None
    dropped: int = 0
    """Older lines left out to keep within the limit."""


def read_kernel_log(path: Path = KMSG, limit: int = 1024 * 1024) -> KernelLog:
    """The kernel log at ``path`` as ``dmesg`` prints it, at most ``limit`` bytes of it."""
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return KernelLog(b"", "absent", f"{path} does not exist")
    except PermissionError:
        return KernelLog(
            b"", "permission-denied", f"{path}: permission denied (kernel.dmesg_restrict?)"
        )
    except OSError as exc:
        return KernelLog(b"", "unreadable", f"{path}: {exc.strerror}")
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISREG(mode)):
            return KernelLog(b"", "unreadable", f"{path} is not the kernel log device")
        return _drain(fd, limit)
    finally:
        os.close(fd)


def _drain(fd: int, limit: int) -> KernelLog:
    lines: collections.deque[bytes] = collections.deque()
    kept = dropped = 0
    pending = b""
    # bounded even when the kernel logs faster than we read: a few times the kept size
    for _ in range(max(64, 16 * limit // 64)):
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            break  # drained
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EINVAL):
                continue  # overwritten while we read / a record too long for the buffer
            return KernelLog(b"", "unreadable", f"kernel log: {exc.strerror}")
        if not chunk:
            break  # a regular file (a saved log) ends
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in dmesg_lines(complete):
            lines.append(line)
            kept += len(line)
            while kept > limit and lines:
                kept -= len(lines.popleft())
                dropped += 1
    return KernelLog(b"".join(lines), "read", None, dropped)


def dmesg_lines(records: list[bytes]) -> list[bytes]:
    """``[seconds.micros] message\\n`` of each ``/dev/kmsg`` record; the key=value lines
    that follow a record (they start with a space) and malformed lines are left out."""
    out = []
    for record in records:
        match = _RECORD.fullmatch(record)
        if match is None:
            continue
        micros = int(match[3][:20])  # a timestamp is at most 20 digits (u64)
        out.append(b"[%5d.%06d] %s\n" % (micros // 1_000_000, micros % 1_000_000, match[4]))
    return out
