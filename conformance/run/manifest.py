"""The ``capture.json`` of a snapshot the guest printed, in the words ``capture`` uses.

The files the guest could read become ``read`` entries; those it could not get the status
``capture`` would give them (a debugfs file of a loaded driver is ``absent``, of a driver
not loaded ``driver-not-loaded``: debugfs is always mounted by the harness's init). The
machine facts come from the same guest files :mod:`conformance.live_facts` reads, plus the
boot id and uptime, so a reboot between snapshots can be told.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..live import DEBUGFS, DEBUGFS_FILES, VIRTIO_DEVICES
from ..live_facts import PAGE_SIZES, hypervisor, machine_facts
from .serial import CAPTURE_FILES, GuestSnapshot


class _Files:
    """:class:`conformance.live_facts.Reader` over the files a guest printed."""

    def __init__(self, guest: GuestSnapshot) -> None:
        self.guest = guest

    def small(self, relative: str, limit: int = 65536) -> bytes | None:
        data = self.guest.files.get(relative)
        return None if data is None else data[:limit]

    def exists(self, relative: str) -> bool:
        return relative in self.guest.files or relative in self.guest.existing


def file_statuses(guest: GuestSnapshot) -> dict[str, dict[str, Any]]:
    """``files`` of the manifest: every capture file, read or why not."""
    statuses: dict[str, dict[str, Any]] = {}
    for path in (*CAPTURE_FILES, *sorted(p for p in guest.files if p.startswith(VIRTIO_DEVICES))):
        entry: dict[str, Any] = {}
        format_id = _format_of(path)
        if format_id:
            entry["format"] = format_id
        if path in guest.files:
            entry.update(status="read", bytes=len(guest.files[path]))
        else:
            entry.update(_why_not(path, guest))
        statuses[path] = entry
    return dict(sorted(statuses.items()))


def _format_of(path: str) -> str | None:
    if path.startswith(f"{DEBUGFS}/"):
        return path.rsplit("/", 1)[1]
    if path.startswith("proc/"):
        return path.rsplit("/", 1)[1]
    return "virtio-features" if path.endswith("/features") else None


def _why_not(path: str, guest: GuestSnapshot) -> dict[str, str]:
    name = path.rsplit("/", 1)[1]
    if path.startswith(f"{DEBUGFS}/") and name in DEBUGFS_FILES:
        driver, marker = DEBUGFS_FILES[name]
        if marker in guest.existing:
            return {"status": "absent", "reason": f"{driver} is loaded; this kernel has no {name}"}
        return {"status": "driver-not-loaded", "reason": f"the {driver} driver is not loaded"}
    return {"status": "absent", "reason": "no such file in this kernel"}


def guest_manifest(
    guest: GuestSnapshot, accelerator: str, time: str, tool_version: str
) -> dict[str, Any]:
    """The manifest of one snapshot (without ``series_index`` and ``host``)."""
    reader = _Files(guest)
    manifest: dict[str, Any] = {
        "tool": "balloon-conform",
        "tool_version": tool_version,
        "time": time,
        **machine_facts(reader, live=False),
    }
    if guest.page_size in PAGE_SIZES:
        manifest["page_size"] = guest.page_size
    if accelerator == "kvm":
        manifest.update(hypervisor(reader, b""))
    else:
        # QEMU's DMI vendor would say "kvm"; under TCG there is no KVM to name
        manifest.update(hypervisor="unknown", hypervisor_source="QEMU with TCG (no KVM)")
    boot_id = reader.small("proc/sys/kernel/random/boot_id")
    if boot_id:
        manifest["boot_id"] = boot_id.decode("ascii", errors="replace").strip()
    uptime = reader.small("proc/uptime")
    if uptime:
        # not a number: the manifest says nothing rather than something wrong
        with contextlib.suppress(ValueError, IndexError):
            manifest["uptime"] = float(uptime.split()[0])
    manifest["files"] = file_statuses(guest)
    return manifest
