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
from functools import lru_cache
from typing import Any

from ..diagnostics import Diagnostic
from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import LazySourceMap, Line, ParseBuilder, Source, ascii_text, split_lines
from . import GUEST_PATHS
from ._virtio_bits import (  # noqa: F401  (the tables are this format's public names)
    BALLOON_BITS,
    BALLOON_ID,
    DEVICE_END,
    DEVICE_NAMES,
    TRANSPORT_BITS,
    TRANSPORT_END,
    bit_name,
    decoded,
    is_unknown,
)

FORMAT_ID = "virtio-features"

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
    return kernel_file(data, dialect, layout, context) or _parse(
        data, dialect, layout, context, fast=True
    )


def kernel_file(
    data: Source, dialect: str | None, layout: Layout, context: dict[str, str] | None
) -> ParseResult | None:
    """The result of a file that is one line of bits as features_show() prints it and a
    readable ``device`` (or none), as nearly every real one is, with no builder and no
    step per bit: the line's decoding and its notes are made once per line and device
    (:func:`decoded`, :func:`_notes`). None for any other file. Its source map is the
    line reader's, worked out only if something asks for it."""
    kernel = _kernel_line(data)
    if kernel is None:
        return None
    text = (context or {}).get("device")
    device = None if text is None else _device(text) if isinstance(text, str) else None
    if text is not None and device is None:
        return None  # an unreadable device file: the line reader reports it
    bits = kernel.text
    set_bits, features, unknown = decoded(bits, device[0] if device else None)
    instance: dict[str, Any] = {
        "bits": bits,
        "width": len(bits),
        "set_bits": list(set_bits),
        "features": [{"bit": bit, "name": name, "kind": kind} for bit, name, kind in features],
        "unknown_bits": list(unknown),
    }
    if device is not None:
        instance["device"] = {"id": device[0], "name": device[1]}
    lazy = LazySourceMap(_source_map, data, dialect, layout, context)
    found = dialect or dialect_for_width(len(bits))
    return ParseResult(
        FORMAT_ID, found, instance, lazy, _notes(bits, device[0] if device else None)
    )


@lru_cache(maxsize=64)
def _device(text: str) -> tuple[int, str | None] | None:
    """``(id, name)`` of the device file's text (``0x%04x``), or None."""
    match = _DEVICE.match(text.strip())
    if not match:
        return None
    device_id = int(match[1], 16)
    return device_id, DEVICE_NAMES.get(device_id)


@lru_cache(maxsize=256)
def _notes(bits: str, device_id: int | None) -> tuple[Diagnostic, ...]:
    """The line reader's notes on the unknown bits of a kernel line (frozen values)."""
    builder = ParseBuilder(FORMAT_ID, Layout.LENIENT)
    _decode(builder, 1, 1, bits, None if device_id is None else {"id": device_id})
    return tuple(builder.diagnostics)


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
    text = ascii_text(data)
    if text is None:
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


def _decode(
    builder: ParseBuilder, number: int, column: int, bits: str, device: dict[str, Any] | None
) -> dict[str, Any]:
    device_id = device["id"] if device is not None else None
    set_bits, features, unknown = decoded(bits, device_id)
    unknown_index = 0
    for index, (bit, _, kind) in enumerate(features):
        for pointer in (f"/set_bits/{index}", f"/features/{index}"):
            builder.map(pointer, number, column + bit)
        if bit in unknown:
            pointer = f"/unknown_bits/{unknown_index}"
            unknown_index += 1
            builder.map(pointer, number, column + bit)
            builder.note(
                "virtio-features.unknown-bit",
                f"bit {bit} is set but has no name in the {kind} bits this tool knows",
                number,
                column + bit,
                pointer=pointer,
            )
    for key in ("", "/bits", "/width", "/set_bits", "/features", "/unknown_bits"):
        builder.map(key, number, column)
    return {
        "bits": bits,
        "width": len(bits),
        "set_bits": list(set_bits),
        "features": [{"bit": bit, "name": name, "kind": kind} for bit, name, kind in features],
        "unknown_bits": list(unknown),
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
