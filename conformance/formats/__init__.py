"""The format registry: one module per format, registered by the explicit table below.

Adding a format means writing its module (``parse``, ``detect``, ``render`` and a
``SPEC`` whose ``paths`` are :data:`GUEST_PATHS`'s), its schema files in ``schemas/``,
and naming it here. Nothing is discovered at import time, and nothing is imported
before it is needed: the table says which module holds each format and which guest
paths name it, so telling a file's format by its path, or reading a file of a known
format, imports that format's module alone (``balloon-conform parse /proc/meminfo``
loads no other parser). :data:`FORMATS`, every format, imports them all.
"""

from __future__ import annotations

import importlib
from functools import cache

from ..errors import UnknownFormatError
from ..model import FormatSpec

_MODULES: dict[str, str] = {
    "hv-balloon": "hv_balloon",
    "virtio-features": "virtio_features",
    "virtio-balloon": "virtio_balloon",
    "meminfo": "meminfo",
    "vmstat": "vmstat",
    "vmmemctl": "vmmemctl",
    "show-mem": "show_mem",
}
"""Every format id and the module that holds it, in the order formats are tried."""

GUEST_PATHS: dict[str, tuple[str, ...]] = {
    "hv-balloon": ("sys/kernel/debug/hv-balloon",),
    "virtio-features": (
        "sys/bus/virtio/devices/virtio*/features",
        "sys/bus/virtio/drivers/virtio_balloon/virtio*/features",
        "sys/devices/**/virtio*/features",
    ),
    "virtio-balloon": ("sys/kernel/debug/virtio-balloon",),
    "meminfo": ("proc/meminfo",),
    "vmstat": ("proc/vmstat",),
    "vmmemctl": ("sys/kernel/debug/vmmemctl",),
    "show-mem": (
        "var/log/dmesg",
        "var/log/kern.log",
        "dmesg",
        "dmesg.txt",
        "kern.log",
        "kernel.log",
    ),
}
"""Each format's guest paths as glob patterns relative to the root (its ``SPEC.paths``)."""


def get_format(format_id: str) -> FormatSpec:
    """The registered format ``format_id``; the error lists the known ids."""
    spec = _LOADED.get(format_id)
    if spec is not None:
        return spec
    module = _MODULES.get(format_id)
    if module is None:
        known = ", ".join(sorted(_MODULES))
        raise UnknownFormatError(f"unknown format {format_id!r} (known: {known})")
    loaded: FormatSpec = importlib.import_module(f"{__name__}.{module}").SPEC
    _LOADED[format_id] = loaded
    return loaded


_LOADED: dict[str, FormatSpec] = {}
"""The formats whose modules were imported, by id (asked for on every file read)."""


@cache
def all_formats() -> tuple[FormatSpec, ...]:
    """Every registered format, in the order formats are tried (their modules imported)."""
    return tuple(get_format(format_id) for format_id in _MODULES)


def format_ids() -> tuple[str, ...]:
    return tuple(_MODULES)


def __getattr__(name: str) -> tuple[FormatSpec, ...]:
    # ``FORMATS`` is made on first use, so that importing the package imports no parser
    if name == "FORMATS":
        return all_formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
