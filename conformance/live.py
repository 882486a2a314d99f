"""Reading a live guest (or a mounted root) into a capture: the files and the manifest.

:func:`snapshot` reads every known guest file below a root (``/`` by default) once, with a
bounded read, and says for each whether it was read or why not (debugfs not mounted,
permission denied, driver not loaded, absent in this kernel). Paths are opened component
by component with ``O_NOFOLLOW``, so no link below the root is followed, with one
exception: the ``sys/bus/virtio/devices/virtioN`` links sysfs itself makes, which are
resolved by hand and must stay within the root's ``sys/devices``. The kernel log comes from
``/dev/kmsg`` (:mod:`conformance.kmsg`) and only for the running kernel's own root.
Nothing here writes, mounts or runs anything.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import posixpath
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .capture import MANIFEST, Limits, has_show_mem
from .capture_dir import read_bounded
from .kmsg import KMSG, read_kernel_log
from .live_facts import Reader, boot_facts, hypervisor, machine_facts

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

PROC_FILES = ("proc/meminfo", "proc/vmstat")
DEBUGFS = "sys/kernel/debug"
DEBUGFS_FILES = {
    # file: (driver, a path that exists while the driver is loaded)
    "hv-balloon": ("hv_balloon", "sys/bus/vmbus/drivers/hv_balloon"),
    "vmmemctl": ("vmw_balloon", "sys/module/vmw_balloon"),
    "virtio-balloon": ("virtio_balloon", "sys/bus/virtio/drivers/virtio_balloon"),
}
VIRTIO_DEVICES = "sys/bus/virtio/devices"
LOG_FILE = "dmesg"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; the module still imports elsewhere
_DEVICE_NAME = re.compile(r"virtio\d{1,9}")
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Snapshot:
    """The files read from one guest at one moment, and its manifest."""

    files: Mapping[str, bytes]
    """Capture-relative path to contents, without the manifest."""
    manifest: Mapping[str, Any]

    def capture_files(self) -> dict[str, bytes]:
        """Every file of the capture, ``capture.json`` included."""
        text = json.dumps(self.manifest, indent=2, sort_keys=True) + "\n"
        return {**self.files, MANIFEST: text.encode("utf-8")}


def is_live_root(root: Path) -> bool:
    """Whether ``root`` is the root of the running system (its kernel log is ours)."""
    try:
        return os.path.samefile(root, "/")
    except OSError:
        return False


def snapshot(
    root: Path = Path("/"),
    limits: Limits | None = None,
    kernel_log: Path | None = None,
    series_index: int | None = None,
) -> Snapshot:
    """Read the known files below ``root``; ``kernel_log`` is a ``/dev/kmsg`` to drain
    (by default the real one when ``root`` is the running system's)."""
    live = is_live_root(root)
    reader = _Root(root, (limits or Limits()).file_bytes)
    for relative in PROC_FILES:
        reader.read(relative, relative.rsplit("/", 1)[1])
    for name in DEBUGFS_FILES:
        reader.read(f"{DEBUGFS}/{name}", name)
    reader.read_virtio()
    log_text = reader.read_log(kernel_log if kernel_log is not None else (KMSG if live else None))
    manifest: dict[str, Any] = {
        "tool": "balloon-conform",
        "tool_version": __version__,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **machine_facts(reader, live),
        **boot_facts(reader),
        **hypervisor(reader, log_text),
        "files": dict(sorted(reader.statuses.items())),
    }
    if series_index is not None:
        manifest["series_index"] = series_index
    return Snapshot(dict(sorted(reader.files.items())), manifest)


def open_beneath(root: Path, relative: str, directory: bool = False) -> int:
    """A descriptor for ``root/relative``, opened without following any link on the way."""
    fd = os.open(root, _DIR_FLAGS & ~_NOFOLLOW)
    try:
        parts = relative.split("/")
        for part in parts[:-1]:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(parts[-1], _DIR_FLAGS if directory else _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)


class _Root(Reader):
    """Reads below one root, recording each known file's bytes and status."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self.files: dict[str, bytes] = {}
        self.statuses: dict[str, dict[str, Any]] = {}

    def small(self, relative: str, limit: int = 65536) -> bytes | None:
        """The first ``limit`` bytes of a file that is not part of the capture, if any."""
        try:
            fd = open_beneath(self.root, relative)
        except OSError:
            return None
        try:
            return read_bounded(fd, limit) if stat.S_ISREG(os.fstat(fd).st_mode) else None
        except OSError:
            return None
        finally:
            os.close(fd)

    def exists(self, relative: str) -> bool:
        """Whether ``root/relative`` exists (a link counts; it is not followed)."""
        return os.path.lexists(self.root / relative)

    def read(self, relative: str, format_id: str | None, source: str | None = None) -> None:
        """Read the known file ``source`` (default: ``relative``) into the capture."""
        entry: dict[str, Any] = {"format": format_id} if format_id else {}
        try:
            fd = open_beneath(self.root, source or relative)
        except OSError as exc:
            entry.update(self._why_not(relative, exc))
            self.statuses[relative] = entry
            return
        try:
            entry.update(self._take(relative, fd))
        except OSError as exc:
            entry.update(status="unreadable", reason=f"cannot read: {exc.strerror}")
        finally:
            os.close(fd)
        self.statuses[relative] = entry

    def _take(self, relative: str, fd: int) -> dict[str, Any]:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {"status": "unreadable", "reason": "not a regular file; not read"}
        data = read_bounded(fd, self.limit + 1)
        if len(data) > self.limit:
            return {"status": "too-large", "reason": f"over {self.limit} bytes (--max-file-size)"}
        self.files[relative] = data
        return {"status": "read", "bytes": len(data)}

    def _why_not(self, relative: str, exc: OSError) -> dict[str, str]:
        if isinstance(exc, PermissionError):
            return {"status": "permission-denied", "reason": "permission denied (run as root)"}
        if exc.errno == errno.ELOOP:
            return {"status": "unreadable", "reason": "a symbolic link on the way; not followed"}
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            return {"status": "unreadable", "reason": f"cannot open: {exc.strerror}"}
        if relative.startswith(DEBUGFS + "/"):
            return self._debugfs_absent(relative.rsplit("/", 1)[1])
        if relative.startswith("proc/") and not self.mounted("proc"):
            return {"status": "not-mounted", "reason": "procfs is not mounted at /proc"}
        return {"status": "absent", "reason": "no such file in this kernel"}

    def _debugfs_absent(self, name: str) -> dict[str, str]:
        if not self.mounted(DEBUGFS):
            return {
                "status": "not-mounted",
                "reason": f"debugfs is not mounted at /{DEBUGFS} (not mounted by this tool)",
            }
        driver, marker = DEBUGFS_FILES[name]
        if self.exists(marker):
            return {"status": "absent", "reason": f"{driver} is loaded; this kernel has no {name}"}
        return {"status": "driver-not-loaded", "reason": f"the {driver} driver is not loaded"}

    def mounted(self, relative: str) -> bool:
        """Whether a file system is mounted at ``root/relative`` (it is on another device
        than its parent directory)."""
        try:
            here = os.lstat(self.root / relative)
            parent = os.lstat(self.root / relative / "..")
        except OSError:
            return False
        return stat.S_ISDIR(here.st_mode) and here.st_dev != parent.st_dev

    def read_virtio(self) -> None:
        """``features`` and ``device`` of every virtio device, links resolved within sysfs."""
        names = self._virtio_names()
        for name in names:
            source = self._device_dir(name)
            for leaf, format_id in (("features", "virtio-features"), ("device", None)):
                target = f"{source}/{leaf}" if source else None
                relative = f"{VIRTIO_DEVICES}/{name}/{leaf}"
                if target is None:
                    reason = "the device link leads out of the root's sys/devices; not followed"
                    self.statuses[relative] = {"status": "unreadable", "reason": reason}
                else:
                    self.read(relative, format_id, target)
        if not names:
            why = "no virtio devices" if self.exists(VIRTIO_DEVICES) else "no virtio bus"
            self.statuses[f"{VIRTIO_DEVICES}/virtio*/features"] = {
                "format": "virtio-features",
                "status": "absent",
                "reason": f"{why} in this guest",
            }

    def _virtio_names(self) -> list[str]:
        try:
            fd = open_beneath(self.root, VIRTIO_DEVICES, directory=True)
        except OSError:
            return []
        try:
            return sorted(n for n in os.listdir(fd) if _DEVICE_NAME.fullmatch(n))[:4096]
        finally:
            os.close(fd)

    def _device_dir(self, name: str) -> str | None:
        """Where the device's files are, relative to the root: the link sysfs makes from
        the bus to ``sys/devices/...``, resolved by hand; None when it leads elsewhere."""
        link = f"{VIRTIO_DEVICES}/{name}"
        try:
            target = os.readlink(self.root / link)
        except OSError:
            return link  # a directory (a copied tree): read in place
        resolved = posixpath.normpath(posixpath.join(VIRTIO_DEVICES, target))
        inside = not posixpath.isabs(target) and resolved.startswith("sys/devices/")
        return resolved if inside else None

    def read_log(self, kmsg: Path | None) -> bytes:
        """Drain the kernel log into the capture when it holds a show_mem() dump."""
        entry: dict[str, Any] = {"format": "show-mem"}
        if kmsg is None:
            entry.update(status="absent", reason="the kernel log is read from the running system")
            self.statuses[LOG_FILE] = entry
            return b""
        log = read_kernel_log(kmsg, self.limit)
        if log.reason:
            entry.update(status=log.status, reason=log.reason)
        elif not has_show_mem(log.text):
            reason = "no show_mem() dump in the kernel log; not kept"
            entry.update(status="not-kept", reason=reason, bytes=len(log.text))
        else:
            self.files[LOG_FILE] = log.text
            entry.update(status="read", bytes=len(log.text))
            if log.dropped:
                entry["reason"] = f"the {log.dropped} oldest lines left out (--max-file-size)"
        self.statuses[LOG_FILE] = entry
        return log.text
