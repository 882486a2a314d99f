"""Rules between two consecutive captures of the same guest (a series).

Event counters never go backwards while the guest runs; a guest that rebooted between
captures starts a new series, which the checker splits off before these rules run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, Severity
from .base import Needs, Rule, Scope
from .capture_rules import (
    DRIFT,
    NO_BALLOON_LINE,
    NO_EVENTS,
    _balloon_device,
    _close,
    balloon_events_kb,
)

if TYPE_CHECKING:
    from ..view import CaptureView, ParsedFile

VMSTAT_COUNTERS = ("balloon_inflate", "balloon_deflate", "balloon_migrate")


def _counters(parsed: ParsedFile) -> Iterator[tuple[str, int]]:
    """``(pointer, value)`` of every monotonic counter in a parsed file."""
    instance = parsed.instance
    fmt = parsed.result.format
    if fmt == "vmstat":
        yield from (
            (f"/{k}", instance[k]) for k in VMSTAT_COUNTERS if isinstance(instance.get(k), int)
        )
    elif fmt == "hv-balloon" and isinstance(instance.get("pages_added"), int):
        yield "/pages_added", instance["pages_added"]
    elif fmt == "vmmemctl":
        yield from _walk_ints(instance.get("commands", {}), "/commands")
        yield from _walk_ints(instance.get("stats", {}), "/stats")
        yield from _walk_ints(instance.get("page_stats", {}), "/page_stats")


def _walk_ints(node: Any, pointer: str) -> Iterator[tuple[str, int]]:
    if isinstance(node, bool):
        return
    if isinstance(node, int):
        yield pointer, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk_ints(value, f"{pointer}/{key}")


COUNTED = ("vmstat", "hv-balloon", "vmmemctl")


def _counted_in_both(before: CaptureView, after: CaptureView) -> str | None:
    if any(before.first(f) and after.first(f) for f in COUNTED):
        return None
    return "no vmstat, hv-balloon or vmmemctl file in both captures"


def counters_monotonic(rule: Rule, before: CaptureView, after: CaptureView) -> Iterator[Diagnostic]:
    for fmt in ("vmstat", "hv-balloon", "vmmemctl"):
        old, new = before.first(fmt), after.first(fmt)
        if old is None or new is None:
            continue
        earlier = dict(_counters(old))
        for pointer, value in _counters(new):
            previous = earlier.get(pointer)
            if previous is not None and value < previous:
                yield rule.diagnostic(
                    f"{pointer[1:]} went back from {previous} ({old.file.path}) to {value}",
                    new.locate(pointer),
                    pointer=pointer,
                )


def balloon_kb(view: CaptureView) -> tuple[str, int] | None:
    """How large the balloon is, and which counter said so: the Balloon line (6.15+), the
    RFC's two counters, or else the vmstat events (net pages inflated since boot)."""
    meminfo = view.first("meminfo")
    instance = meminfo.instance if meminfo is not None else {}
    if isinstance(instance.get("Balloon"), int):
        return "Balloon", instance["Balloon"]
    rfc = [instance.get(k) for k in ("InflatedTotal", "InflatedFree")]
    if all(isinstance(v, int) for v in rfc):
        return "InflatedTotal + InflatedFree", sum(rfc)  # type: ignore[arg-type]
    events = balloon_events_kb(view)
    return None if events is None else ("balloon_inflate - balloon_deflate", events)


def _balloon_features(view: CaptureView) -> ParsedFile | None:
    for parsed in view.all("virtio-features"):
        if _balloon_device(parsed) or "device" not in parsed.instance:
            return parsed
    return None


def _memtotal_measurable(before: CaptureView, after: CaptureView) -> str | None:
    if _balloon_features(after) is None:
        return f"{after.capture.name}: no virtio balloon features file"
    sizes = [balloon_kb(view) for view in (before, after)]
    if sizes[0] is None or sizes[1] is None:
        return f"{NO_BALLOON_LINE}, and {NO_EVENTS}"
    if sizes[0][0] != sizes[1][0]:
        return (
            f"the balloon is measured by {sizes[0][0]} in one capture, {sizes[1][0]} in the other"
        )
    return None


def virtio_memtotal(rule: Rule, before: CaptureView, after: CaptureView) -> Iterator[Diagnostic]:
    pair = [v.first("meminfo") for v in (before, after)]
    features = _balloon_features(after)
    sizes = [balloon_kb(v) for v in (before, after)]
    if pair[0] is None or pair[1] is None or features is None or None in sizes:
        return
    old, new = pair[0].instance, pair[1].instance
    if not all(isinstance(m.get("MemTotal"), int) for m in (old, new)):
        return
    measure = sizes[0][0]  # type: ignore[index]
    grown = sizes[1][1] - sizes[0][1]  # type: ignore[index]
    shrunk = old["MemTotal"] - new["MemTotal"]
    if 2 in features.instance.get("set_bits", []):
        expected, why = 0, "with DEFLATE_ON_OOM the balloon is accounted as used, MemTotal stays"
    else:
        expected, why = grown, "without DEFLATE_ON_OOM the balloon is taken out of MemTotal"
    if grown and not _close(shrunk, expected):
        yield rule.diagnostic(
            f"the balloon changed by {grown} kB ({measure}) and MemTotal by {-shrunk} kB; {why}",
            pair[1].locate("/MemTotal"),
        )


SERIES_RULES = (
    Rule(
        "series.counters-monotonic",
        Severity.ERROR,
        Scope.SERIES,
        "event counters never go backwards",
        "vmstat balloon_inflate/deflate/migrate are vm events, vmmemctl statistics and "
        "hv-balloon pages_added only ever grow while the guest runs (mm/vmstat.c, "
        "drivers/misc/vmw_balloon.c, drivers/hv/hv_balloon.c; kernel-formats.md §2.3, §3.3, §5.3).",
        example="t0 balloon_inflate 1000, t1 balloon_inflate 10",
        pair=_counted_in_both,
        check=counters_monotonic,
    ),
    Rule(
        "virtio.memtotal-accounting",
        Severity.ERROR,
        Scope.SERIES,
        "virtio without DEFLATE_ON_OOM takes the balloon out of MemTotal; with it, MemTotal stays",
        "virtio_balloon calls adjust_managed_page_count() only without DEFLATE_ON_OOM "
        "(drivers/virtio/virtio_balloon.c; balloon.rst 'KVM balloon'; kernel-formats.md §1.5, §8). "
        "The balloon's growth is read from meminfo's Balloon line (6.15+), else the RFC's "
        "InflatedTotal + InflatedFree, else /proc/vmstat's balloon_inflate - balloon_deflate "
        "events (one per page passing through balloon_compaction, since about 3.8), so LTS "
        "kernels before 6.15 are checked too.",
        tolerance=DRIFT + "; memory hot-plug between captures also moves MemTotal",
        example="Balloon +1048576 kB, MemTotal unchanged, features bit 2 clear",
        needs=Needs(("meminfo",)),
        pair=_memtotal_measurable,
        check=virtio_memtotal,
    ),
)
