"""The format registry: one module per format, registered by this explicit tuple.

Adding a format means writing its module (``parse``, ``detect``, ``render`` and a
``SPEC``), its schema files in ``schemas/``, and naming it here. Nothing is discovered at
import time.
"""

from __future__ import annotations

from ..errors import UnknownFormatError
from ..model import FormatSpec
from . import hv_balloon, meminfo, show_mem, virtio_balloon, virtio_features, vmmemctl, vmstat

FORMATS: tuple[FormatSpec, ...] = (
    hv_balloon.SPEC,
    virtio_features.SPEC,
    virtio_balloon.SPEC,
    meminfo.SPEC,
    vmstat.SPEC,
    vmmemctl.SPEC,
    show_mem.SPEC,
)

_BY_ID = {spec.id: spec for spec in FORMATS}


def get_format(format_id: str) -> FormatSpec:
    """The registered format ``format_id``; the error lists the known ids."""
    try:
        return _BY_ID[format_id]
    except KeyError:
        known = ", ".join(sorted(_BY_ID))
        raise UnknownFormatError(f"unknown format {format_id!r} (known: {known})") from None


def format_ids() -> tuple[str, ...]:
    return tuple(spec.id for spec in FORMATS)
