"""What a live capture's manifest says about the machine: kernel, architecture, page size,
and the hypervisor when it can be told.

Every fact comes from a file below the capture root (so ``--root`` describes the system
it names), falling back to ``uname`` and ``sysconf`` only for the running system itself.
The hypervisor is told from, in order: ``sys/hypervisor/type`` (Xen), the DMI system
vendor, a Hyper-V VMBus, the kernel's ``Hypervisor detected:`` line, and last the x86
``hypervisor`` CPU flag, which says only that there is one. The manifest records which
of these told it (``hypervisor_source``), so a reader can judge the guess.
"""

from __future__ import annotations

import os
import re
from typing import Any, Protocol

VENDORS = (
    # DMI sys_vendor prefix: hypervisor
    ("Microsoft Corporation", "hyperv"),
    ("VMware", "vmware"),
    ("QEMU", "kvm"),
    ("Xen", "xen"),
    ("Amazon EC2", "kvm"),
    ("Google", "kvm"),
)
DETECTED = (
    # the kernel's "Hypervisor detected: <name>" (arch/x86/kernel/cpu/hypervisor.c)
    ("KVM", "kvm"),
    ("Microsoft Hyper-V", "hyperv"),
    ("VMware", "vmware"),
    ("Xen", "xen"),
)
PAGE_SIZES = (4096, 8192, 16384, 65536, 262144)


class Reader(Protocol):
    """Small reads below the capture root."""

    def small(self, relative: str, limit: int = 65536) -> bytes | None:
        """The first ``limit`` bytes of ``relative``, or None."""

    def exists(self, relative: str) -> bool:
        """Whether ``relative`` exists."""


def _line(reader: Reader, relative: str) -> str | None:
    data = reader.small(relative, 4096)
    if data is None:
        return None
    text = data.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0][:200] if text else None


def machine_facts(reader: Reader, live: bool) -> dict[str, Any]:
    """``kernel_release``, ``architecture`` and ``page_size``, where known."""
    facts: dict[str, Any] = {}
    release = _line(reader, "proc/sys/kernel/osrelease")
    arch = _line(reader, "proc/sys/kernel/arch")
    if live:
        uname = os.uname()
        release = release or uname.release
        arch = arch or uname.machine
        page_size = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else None
        if page_size in PAGE_SIZES:
            facts["page_size"] = page_size
    if release:
        facts["kernel_release"] = release
    if arch:
        facts["architecture"] = arch
    return facts


_BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UPTIME = re.compile(r"(\d{1,12}(?:\.\d{1,9})?)\s")


def boot_facts(reader: Reader) -> dict[str, Any]:
    """``boot_id`` (proc/sys/kernel/random/boot_id) and ``uptime`` in seconds (the first
    number of proc/uptime), where readable: a series compares them to tell a reboot
    between two snapshots, after which event counters start again from zero."""
    facts: dict[str, Any] = {}
    boot_id = _line(reader, "proc/sys/kernel/random/boot_id")
    if boot_id is not None and _BOOT_ID.fullmatch(boot_id):
        facts["boot_id"] = boot_id
    uptime = _line(reader, "proc/uptime")
    match = _UPTIME.match((uptime or "") + " ")
    if match:
        facts["uptime"] = float(match[1])
    return facts


def hypervisor(reader: Reader, kernel_log: bytes) -> dict[str, str]:
    """``hypervisor`` and ``hypervisor_source``, or nothing when it cannot be told."""
    if _line(reader, "sys/hypervisor/type") == "xen":
        return _told("xen", "sys/hypervisor/type")
    vendor = _line(reader, "sys/devices/virtual/dmi/id/sys_vendor")
    for prefix, name in VENDORS if vendor else ():
        if vendor is not None and vendor.startswith(prefix):
            return _told(name, f"DMI sys_vendor {vendor!r}")
    if reader.exists("sys/bus/vmbus"):
        return _told("hyperv", "sys/bus/vmbus (Hyper-V VMBus)")
    match = re.search(rb"Hypervisor detected: ([^\n]{1,40})", kernel_log)
    if match:
        said = match[1].decode("ascii", errors="replace").strip()
        for prefix, name in DETECTED:
            if said.startswith(prefix):
                return _told(name, f"kernel log 'Hypervisor detected: {said}'")
    flags = _cpu_flags(reader)
    if flags is None:
        return {}
    if "hypervisor" in flags:
        return _told("unknown", "the 'hypervisor' CPU flag in proc/cpuinfo")
    return _told("none", "no 'hypervisor' CPU flag in proc/cpuinfo")


def _told(name: str, source: str) -> dict[str, str]:
    return {"hypervisor": name, "hypervisor_source": source}


def _cpu_flags(reader: Reader) -> set[str] | None:
    """The x86 CPU flags of proc/cpuinfo; None on other architectures or without it."""
    data = reader.small("proc/cpuinfo", 65536)
    match = re.search(rb"^flags\s*:(.*)$", data or b"", re.MULTILINE)
    return set(match[1].decode("ascii", errors="replace").split()) if match else None
