"""``/sys/bus/virtio/devices/virtioN/features``: the feature bits a virtio device negotiated.

The kernel prints one ASCII ``'0'`` or ``'1'`` per bit, bit *i* at index *i* (least
significant bit first), then ``"\\n"`` (``features_show()`` in ``drivers/virtio/virtio.c``).
The dialects differ only in the number of characters:

* ``2.6.24``: before about 3.19 the loop ran over ``BITS_PER_LONG`` bits: 32 characters on
  32-bit kernels, 64 on 64-bit ones;
* ``3.19``: ``dev->features`` became a ``u64``: 64 characters on every architecture;
* ``6.17``: extended features (``VIRTIO_FEATURES_MAX``): 128 characters.

The sibling ``device`` file (``0x%04x``) may come in ``context["device"]``; it decides
whether bits 0-23 are decoded with the balloon's names (as they are when it is absent,
since this tool is about balloons). The balloon-specific rules (ACCESS_PLATFORM never set,
bits 3-5 need VERSION_1, DEFLATE_ON_OOM accounting) are the checker's, not the parser's.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import LazySourceMap, Line, ParseBuilder, Source, split_lines
from . import GUEST_PATHS

FORMAT_ID = "virtio-features"

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
WIDTHS = {"2.6.24": (32, 64), "3.19": (64,), "6.17": (128,)}
"""The widths each dialect's kernels print."""
KNOWN_WIDTHS = (32, 64, 128)
MAX_WIDTH = 1024
"""Eight times the widest known file: wider lines are refused undecoded, since every set
bit costs an entry in four lists and the source map (a megabyte of ``1`` would cost
gigabytes)."""
MOSTLY = 0.75
"""Share of ``0``/``1`` characters that makes one line of text a (perhaps damaged)
features file."""

_DEVICE = re.compile(r"^0x([0-9a-fA-F]{1,8})$")
"""Anchored, one bounded quantifier: linear."""

DIALECTS = (
    DialectSpec(
        "2.6.24",
        "BITS_PER_LONG characters (before about 3.19)",
        "virtio-features.2.6.24.schema.json",
        "2.6.24",
        "32 characters on 32-bit kernels, 64 on 64-bit ones. A 64-character file also fits "
        "3.19 and is read as 3.19 unless this dialect is asked for.",
    ),
    DialectSpec(
        "3.19",
        "64 characters (about 3.19 to 6.16)",
        "virtio-features.3.19.schema.json",
        "3.19",
        "dev->features is a u64: 64 characters on every architecture. Every 64-character "
        "file is read as this dialect, including those of pre-3.19 64-bit kernels, which "
        "print the same bytes.",
    ),
    DialectSpec(
        "6.17",
        "128 characters (extended features, 6.17 and later)",
        "virtio-features.6.17.schema.json",
        "6.17",
        "VIRTIO_FEATURES_MAX = 128 characters. Other multiples of 32 above 64 are read as "
        "this dialect, with a virtio-features.width warning.",
    ),
)


def dialect_for_width(width: int) -> str:
    """The dialect a text of ``width`` characters belongs to (the nearest known width)."""
    if width < 48:
        return "2.6.24"
    return "3.19" if width < 96 else "6.17"


def detect(text: str) -> str | None:
    """A dialect id when ``text`` is one line of at least 16 characters, most of them
    (:data:`MOSTLY`) ``0`` or ``1``: a damaged character is the parser's finding."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) != 1 or len(lines[0]) < 16:
        return None
    bits = lines[0]
    if bits.count("0") + bits.count("1") < MOSTLY * len(bits):
        return None
    return dialect_for_width(len(bits))


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse the features file (and ``context["device"]``); never raises on bad input."""
    return _parse(data, dialect, layout, context, fast=True)


def _parse(
    data: Source,
    dialect: str | None,
    layout: Layout,
    context: dict[str, str] | None,
    fast: bool,
) -> ParseResult:
    # a file as the kernel prints it (nearly every real one) needs no line splitting, and
    # its source map is worked out only if something asks for it
    kernel = _kernel_line(data) if fast else None
    lazy = None if kernel is None else LazySourceMap(_source_map, data, dialect, layout, context)
    builder = ParseBuilder(FORMAT_ID, layout, lazy)
    instance: dict[str, Any] = {}
    lines = split_lines(data, builder) if kernel is None else [kernel]
    line = _bits_line(builder, lines)
    device = _read_device(builder, (context or {}).get("device"))
    if line is not None:
        column = len(line.text) - len(line.text.lstrip()) + 1
        bits = line.text.strip()
        builder.layout(line, _line(bits))
        dialect = dialect or dialect_for_width(len(bits))
        readable = _check_characters(builder, line.number, column, bits)
        if readable and _check_width(builder, line.number, column, len(bits)):
            instance = _decode(builder, line.number, column, bits, device)
    if device is not None:
        instance["device"] = device
    return builder.result(dialect or "6.17", instance)


def _kernel_line(data: Source) -> Line | None:
    """The line of a file that is one line of ``0``/``1`` of a width kernels print, and
    its newline, as features_show() prints it; None for any other file."""
    try:
        text = data if isinstance(data, str) else data.decode("ascii")
    except UnicodeDecodeError:
        return None
    bits = text[:-1]
    if (
        text[-1:] != "\n"
        or len(bits) not in KNOWN_WIDTHS
        or bits.count("0") + bits.count("1") != len(bits)
    ):
        return None
    return Line(1, bits)


def _source_map(
    data: Source, dialect: str | None, layout: Layout, context: dict[str, str] | None
) -> dict[str, tuple[int, int]]:
    return dict(_parse(data, dialect, layout, context, fast=False).source_map)


def _bits_line(builder: ParseBuilder, lines: list[Line]) -> Line | None:
    """The one line of bits; other lines are reported."""
    found: Line | None = None
    for line in lines:
        if not line.text.strip():
            if builder.exact:
                builder.warning(
                    "layout.text", "blank line; the kernel prints a single line", line.number, 1
                )
        elif found is None:
            found = line
        else:
            builder.error(
                "virtio-features.extra-line",
                f"a second line of text (the bits are on line {found.number}); "
                "the kernel prints one line",
                line.number,
                1,
            )
    if found is None:
        last = lines[-1].number + 1 if lines else 1
        builder.error(
            "parse.missing-line", f"{FORMAT_ID} has no line of bits", last, 1, pointer="/bits"
        )
    return found


def _check_characters(builder: ParseBuilder, number: int, column: int, bits: str) -> bool:
    """True when ``bits`` holds only ``0`` and ``1``; else the first stranger is reported."""
    bad = len(bits) - bits.count("0") - bits.count("1")
    if not bad:
        return True
    first = len(bits) - len(bits.lstrip("01"))
    others = f" (and {bad - 1} more)" if bad > 1 else ""
    builder.error(
        "virtio-features.bad-character",
        f"{bits[first]!r} at bit {first}{others}: the kernel prints only '0' and '1', "
        "one per feature bit, with nothing between them",
        number,
        column + first,
        pointer="/bits",
    )
    return False


def _check_width(builder: ParseBuilder, number: int, column: int, width: int) -> bool:
    """False when no kernel could print ``width`` characters (an error); an unusual
    multiple of 32 is only a warning."""
    known = "32 (before 3.19, 32-bit), 64 (3.19 to 6.16) or 128 (6.17 and later)"
    if width in KNOWN_WIDTHS:
        return True
    if width > MAX_WIDTH:
        builder.error(
            "virtio-features.bad-width",
            f"{width} characters, far more than any kernel prints ({known}); "
            f"lines over {MAX_WIDTH} characters are not decoded",
            number,
            column + MAX_WIDTH,
            pointer="/bits",
        )
        return False
    if width % 32 == 0:
        builder.warning(
            "virtio-features.width",
            f"{width} characters: no known kernel prints this many; they print {known}",
            number,
            column + width,
            pointer="/width",
        )
        return True
    target = max(32, round(width / 32) * 32)
    where = width if width < target else target
    builder.error(
        "virtio-features.bad-width",
        f"{width} characters, not a multiple of 32; kernels print {known}",
        number,
        column + where,
        pointer="/bits",
    )
    return False


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


def _decode(
    builder: ParseBuilder, number: int, column: int, bits: str, device: dict[str, Any] | None
) -> dict[str, Any]:
    device_id = device["id"] if device is not None else None
    set_bits = [index for index, char in enumerate(bits) if char == "1"]
    features: list[dict[str, Any]] = []
    unknown: list[int] = []
    for index, bit in enumerate(set_bits):
        name, kind = bit_name(bit, device_id)
        features.append({"bit": bit, "name": name, "kind": kind})
        for pointer in (f"/set_bits/{index}", f"/features/{index}"):
            builder.map(pointer, number, column + bit)
        if is_unknown(bit, device_id):
            pointer = f"/unknown_bits/{len(unknown)}"
            builder.map(pointer, number, column + bit)
            builder.note(
                "virtio-features.unknown-bit",
                f"bit {bit} is set but has no name in the {kind} bits this tool knows",
                number,
                column + bit,
                pointer=pointer,
            )
            unknown.append(bit)
    for key in ("", "/bits", "/width", "/set_bits", "/features", "/unknown_bits"):
        builder.map(key, number, column)
    return {
        "bits": bits,
        "width": len(bits),
        "set_bits": set_bits,
        "features": features,
        "unknown_bits": unknown,
    }


def _read_device(builder: ParseBuilder, text: str | None) -> dict[str, Any] | None:
    """``{"id", "name"}`` from the ``device`` file's text (``0x%04x``), or None."""
    if text is None:
        return None
    match = _DEVICE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        builder.error(
            "virtio-features.device",
            f"the device file (beside features) holds {str(text)[:40]!r}, not a device id "
            "printed as 0x%04x",
            1,
            1,
            pointer="/device",
        )
        return None
    device_id = int(match[1], 16)
    for pointer in ("/device", "/device/id", "/device/name"):
        builder.map(pointer, 1, 1)
    return {"id": device_id, "name": DEVICE_NAMES.get(device_id)}


def _line(bits: str) -> str:
    """The line as features_show() prints it (without its newline)."""
    return bits


def render(instance: JSON, dialect: str) -> str:
    """The file as the kernel prints it (exact layout)."""
    return _line(instance["bits"]) + "\n"


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="virtio feature bits",
    description="/sys/bus/virtio/devices/virtioN/features: the negotiated feature bits of a "
    "virtio device, one '0'/'1' per bit, least significant first.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="virtio-features.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
