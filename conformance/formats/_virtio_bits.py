"""The names of virtio feature bits, and the decoding of a line of them, made once per line.

The tables say which bits the balloon device and the virtio transport define;
:func:`decoded` turns a features line into its set bits, their names and the bits no
table names, and is cached: the files of a fleet repeat a few lines (one per device
configuration), so each is decoded once per process, not once per file.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

BALLOON_ID = 5
DEVICE_NAMES: dict[int, str] = {
    1: "net", 2: "block", 3: "console", 4: "rng", 5: "balloon", 6: "iomem", 7: "rpmsg",
    8: "scsi", 9: "9p", 10: "mac80211-wlan", 11: "rproc-serial", 12: "caif",
    13: "memory-balloon", 16: "gpu", 17: "clock", 18: "input", 19: "vsock", 20: "crypto",
    21: "signal-dist", 22: "pstore", 23: "iommu", 24: "mem", 25: "sound", 26: "fs",
    27: "pmem", 28: "rpmb", 29: "mac80211-hwsim", 30: "video-encoder",
    31: "video-decoder", 32: "scmi", 33: "nitro-sec-mod", 34: "i2c-adapter",
    35: "watchdog", 36: "can",
}  # fmt: skip
"""``VIRTIO_ID_*`` of ``include/uapi/linux/virtio_ids.h``, in lower case."""

BALLOON_BITS: dict[int, str] = {
    0: "VIRTIO_BALLOON_F_MUST_TELL_HOST",
    1: "VIRTIO_BALLOON_F_STATS_VQ",
    2: "VIRTIO_BALLOON_F_DEFLATE_ON_OOM",
    3: "VIRTIO_BALLOON_F_FREE_PAGE_HINT",
    4: "VIRTIO_BALLOON_F_PAGE_POISON",
    5: "VIRTIO_BALLOON_F_REPORTING",
}
"""``include/uapi/linux/virtio_balloon.h``; bit 6 (WS_REPORTING) was only proposed."""

TRANSPORT_BITS: dict[int, str] = {
    24: "VIRTIO_F_NOTIFY_ON_EMPTY",
    27: "VIRTIO_F_ANY_LAYOUT",
    28: "VIRTIO_RING_F_INDIRECT_DESC",
    29: "VIRTIO_RING_F_EVENT_IDX",
    32: "VIRTIO_F_VERSION_1",
    33: "VIRTIO_F_ACCESS_PLATFORM",
    34: "VIRTIO_F_RING_PACKED",
    35: "VIRTIO_F_IN_ORDER",
    36: "VIRTIO_F_ORDER_PLATFORM",
    37: "VIRTIO_F_SR_IOV",
    38: "VIRTIO_F_NOTIFICATION_DATA",
    39: "VIRTIO_F_NOTIF_CONFIG_DATA",
    40: "VIRTIO_F_RING_RESET",
    41: "VIRTIO_F_ADMIN_VQ",
}
"""``include/uapi/linux/virtio_config.h`` and ``virtio_ring.h``."""

DEVICE_END = 24
TRANSPORT_END = 42


def bit_name(bit: int, device_id: int | None) -> tuple[str | None, str]:
    """``(name, kind)`` of ``bit``: device bits get balloon names unless another device
    type is known; the name is None where no table applies or the table has no entry."""
    if bit < DEVICE_END:
        balloon = device_id is None or device_id == BALLOON_ID
        return (BALLOON_BITS.get(bit) if balloon else None), "device"
    if bit < TRANSPORT_END:
        return TRANSPORT_BITS.get(bit), "transport"
    return None, "other"


def is_unknown(bit: int, device_id: int | None) -> bool:
    """A set bit no table of this tool names although one applies to it: any unnamed
    transport bit, and unnamed device or higher bits of a balloon (or unnamed device)."""
    name, kind = bit_name(bit, device_id)
    if name is not None:
        return False
    return kind == "transport" or device_id is None or device_id == BALLOON_ID


Feature = tuple[int, Optional[str], str]
"""``(bit, name, kind)`` of one set bit."""


@lru_cache(maxsize=256)
def decoded(
    bits: str, device_id: int | None
) -> tuple[tuple[int, ...], tuple[Feature, ...], tuple[int, ...]]:
    """``(set_bits, features, unknown_bits)`` of a line of ``0``/``1`` (least significant
    bit first) of a device of type ``device_id`` (None: not known)."""
    set_bits = []
    at = bits.find("1")
    while at >= 0:  # str.find from bit to bit: a line has few set bits
        set_bits.append(at)
        at = bits.find("1", at + 1)
    features = tuple((bit, *bit_name(bit, device_id)) for bit in set_bits)
    unknown = tuple(bit for bit in set_bits if is_unknown(bit, device_id))
    return tuple(set_bits), features, unknown
