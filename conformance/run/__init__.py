"""The guest harness: boot a kernel under QEMU with a virtio balloon, move the balloon over
QMP, and bring the guest's statistics out as captures ``check --series`` reads.

The parts, each in its own module: :mod:`.qmp` (the QMP client), :mod:`.initramfs` (the
busybox initramfs whose init takes snapshots), :mod:`.serial` (the snapshot protocol on the
serial console), :mod:`.qemu` (the QEMU process) and :mod:`.series` (a scenario run into a
series of capture directories). This package imports the capture layer; nothing below it
imports this package.
"""

from __future__ import annotations

from .qmp import QMPClient, QMPError

__all__ = ["QMPClient", "QMPError"]
