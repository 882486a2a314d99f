"""The snapshot protocol on the guest's serial console: the shell that prints a snapshot,
and the parser that reads it back on the host.

Why the serial console: it needs no driver beyond the 8250 UART every x86 kernel has built
in (virtio-serial would need the ``virtio_console`` module, 9p three more), it is already
where a failing boot says why, and QEMU hands it to the host on a pipe. Its cost is that
kernel messages may land in the middle of a snapshot; so every line of the protocol starts
with :data:`MARK`, file contents travel in base64 lines, and each file ends with its MD5,
which the parser checks: a garbled line is an error, never a silently wrong capture.

One snapshot on the wire::

    @@BC BEGIN t0
    @@BC FILE proc/meminfo
    @@BC DATA TWVtVG90YWw6ICAgIDEwMDI...
    @@BC SUM proc/meminfo 0c4a...
    @@BC MISSING sys/kernel/debug/hv-balloon
    @@BC EXISTS sys/bus/virtio/drivers/virtio_balloon
    @@BC PAGESIZE 4
    @@BC END t0
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import TYPE_CHECKING

from ..live import DEBUGFS, DEBUGFS_FILES, VIRTIO_DEVICES
from .errors import HarnessError

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

MARK = "@@BC"
READY = f"{MARK} READY"
END = f"{MARK} END"
FACT_FILES = (
    # read for capture.json, not written as capture files
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/arch",
    "proc/sys/kernel/random/boot_id",
    "proc/uptime",
    "sys/devices/virtual/dmi/id/sys_vendor",
)
CAPTURE_FILES = (
    "proc/meminfo",
    "proc/vmstat",
    *(f"{DEBUGFS}/{name}" for name in DEBUGFS_FILES),
)
_TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PATH = re.compile(r"[A-Za-z0-9_./-]{1,200}")

SNAPSHOT_SHELL = (
    r"""
bc_file() {
  if [ -r "/$1" ] && cat "/$1" > /tmp/bc.file 2>/dev/null; then
    echo "@@BC FILE $1"
    base64 /tmp/bc.file | sed 's/^/@@BC DATA /'
    echo "@@BC SUM $1 $(md5sum < /tmp/bc.file | cut -d' ' -f1)"
  else
    echo "@@BC MISSING $1"
  fi
}
bc_snapshot() {
  echo "@@BC BEGIN $1"
  for f in @FILES@; do bc_file "$f"; done
  for d in /@DEVICES@/virtio*; do
    [ -e "$d" ] || continue
    bc_file "@DEVICES@/${d##*/}/features"
    bc_file "@DEVICES@/${d##*/}/device"
  done
  for m in @MARKERS@; do [ -e "/$m" ] && echo "@@BC EXISTS $m"; done
  echo "@@BC PAGESIZE $(awk '/^KernelPageSize:/ {print $2; exit}' /proc/self/smaps)"
  echo "@@BC END $1"
}
""".replace("@FILES@", " ".join((*CAPTURE_FILES, *FACT_FILES)))
    .replace("@DEVICES@", VIRTIO_DEVICES)
    .replace("@MARKERS@", " ".join(marker for _, marker in DEBUGFS_FILES.values()))
)
"""The shell functions the guest's init runs: ``bc_snapshot TAG`` prints one snapshot."""


class SerialError(HarnessError):
    """The guest's snapshot on the serial console is incomplete or damaged."""


@dataclass(frozen=True)
class GuestSnapshot:
    """What the guest printed between ``BEGIN tag`` and ``END tag``."""

    tag: str
    files: dict[str, bytes]
    """Path below the guest's root to contents, for every file it could read."""
    missing: tuple[str, ...]
    """Paths it could not read."""
    existing: tuple[str, ...]
    """Driver markers (see :data:`conformance.live.DEBUGFS_FILES`) that exist."""
    page_size: int | None
    """PAGE_SIZE in bytes, from the guest's own smaps."""


def parse_snapshot(text: str, tag: str) -> GuestSnapshot:
    """The snapshot ``tag`` in the serial log ``text``; lines without :data:`MARK` (kernel
    messages, the echo of commands) are skipped, a damaged protocol line raises."""
    lines = _protocol_lines(text, tag)
    files: dict[str, bytes] = {}
    missing: list[str] = []
    existing: list[str] = []
    page_size: int | None = None
    current: tuple[str, list[str]] | None = None
    for number, verb, rest in lines:
        if verb == "DATA" and current is not None:
            current[1].append(rest)
        elif verb == "FILE" and current is None and _PATH.fullmatch(rest):
            current = (rest, [])
        elif verb == "SUM" and current is not None:
            files[current[0]] = _decoded(number, current, rest)
            current = None
        elif verb in ("MISSING", "EXISTS") and current is None and _PATH.fullmatch(rest):
            (missing if verb == "MISSING" else existing).append(rest)
        elif verb == "PAGESIZE" and current is None:
            page_size = int(rest) * 1024 if rest.isdigit() and 0 < int(rest) < 1 << 20 else None
        else:
            raise SerialError(f"serial line {number}: unexpected {MARK} {verb} in snapshot {tag}")
    if current is not None:
        raise SerialError(f"snapshot {tag}: {current[0]} has no SUM line")
    return GuestSnapshot(tag, files, tuple(missing), tuple(existing), page_size)


def _protocol_lines(text: str, tag: str) -> list[tuple[int, str, str]]:
    """(line number, verb, rest) of the protocol lines strictly between BEGIN and END."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"not a snapshot tag: {tag!r}")
    found: list[tuple[int, str, str]] = []
    inside = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip("\r\x00 ")
        if not line.startswith(MARK + " "):
            continue
        verb, _, rest = line[len(MARK) + 1 :].partition(" ")
        if verb == "BEGIN" and rest == tag:
            found, inside = [], True
        elif verb == "END" and rest == tag and inside:
            return found
        elif inside:
            found.append((number, verb, rest.strip()))
    where = "has no END line" if inside else "is not in the serial log"
    raise SerialError(f"snapshot {tag} {where}")


def _decoded(number: int, current: tuple[str, list[str]], rest: str) -> bytes:
    path, chunks = current
    name, _, digest = rest.partition(" ")
    try:
        data = base64.b64decode("".join(chunks), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SerialError(f"serial line {number}: {path}: damaged base64 ({exc})") from exc
    if name != path or hashlib.md5(data, usedforsecurity=False).hexdigest() != digest.strip():
        raise SerialError(f"serial line {number}: {path}: checksum does not match; damaged")
    return data
