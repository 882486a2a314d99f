"""Rules between a guest and its host: what the guest's own files show against what the
host asked for and saw, as ``balloon-conform run`` records it in each snapshot's
``capture.json`` (the ``host`` object: the requested target, QMP ``query-balloon``'s
``actual``, the device options, and the statistics the guest sent the device).

The host's record and the guest's files are not read at the same instant: the snapshot is
taken after the balloon stopped moving and, for the statistics, after the guest sent a
set newer than that moment. Each rule says how much drift that leaves, and why. A capture
without a host record (any capture not taken by ``run``) skips these rules with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, Location, Severity
from ..records import replace
from .base import Needs, Rule, Scope
from .capture_rules import _balloon_device, balloon_events_kb

if TYPE_CHECKING:
    from ..view import CaptureView, ParsedFile

BATCH_KB = 1024
"""virtio_balloon moves at most VIRTIO_BALLOON_ARRAY_PFNS_MAX (256) pages of 4 KiB per
request and tells the device its new size (``actual``) after each: the guest's own count
may be one batch ahead of what the host saw."""
BATCH = (
    "1 MiB, one batch of virtio_balloon: the guest counts each page as it enters or leaves "
    "the balloon (Balloon:, the vmstat events) but updates the size the host reads "
    "(config 'actual', QMP query-balloon) once per batch of up to 256 pages of 4 KiB "
    "(VIRTIO_BALLOON_ARRAY_PFNS_MAX, drivers/virtio/virtio_balloon.c), so reads taken while "
    "it moves can be up to a batch apart; the project's QEMU runs have also shown two guest "
    "files a page apart, which balloon.vmstat-agrees does not allow, so no drift is not an "
    "option here"
)
NO_HOST = "capture.json has no host record (captures taken by 'balloon-conform run' have one)"
FEATURE_BITS = {
    # device option: the feature bit it offers (include/uapi/linux/virtio_balloon.h)
    "deflate-on-oom": (2, "VIRTIO_BALLOON_F_DEFLATE_ON_OOM"),
    "free-page-hint": (3, "VIRTIO_BALLOON_F_FREE_PAGE_HINT"),
    "free-page-reporting": (5, "VIRTIO_BALLOON_F_REPORTING"),
}
STATS_VQ = 1
LOW_MEMORY_SHARE = 0.05
"""MemAvailable below this share of MemTotal: the guest is short of memory, where
virtio_balloon stops inflating (its allocations do not retry) and, with DEFLATE_ON_OOM,
gives pages back."""


MALFORMED = (
    "the host record does not follow capture.schema.json (the schema findings of "
    "capture.json say where)"
)


def host(view: CaptureView) -> dict[str, Any]:
    """The capture's host record, or an empty one when it has none or one that does not
    follow capture.schema.json: the rules below read its members by their schema's types,
    and a capture is untrusted input."""
    record = view.sound_manifest("host")
    return record if isinstance(record, dict) else {}


def _no_host(view: CaptureView) -> str:
    """Why ``host(view)`` is empty."""
    return NO_HOST if view.manifest("host") is None else MALFORMED


def _host_location(view: CaptureView) -> Location:
    return Location(path=f"{view.capture.name}/capture.json")


def _has_host(view: CaptureView) -> str | None:
    return None if host(view) else _no_host(view)


def guest_balloon_kb(view: CaptureView) -> tuple[ParsedFile, str, int] | None:
    """The balloon's size as the guest shows it: meminfo's Balloon (6.15+), else the
    vmstat events (inflate - deflate, pages): the file, the pointer, and kB."""
    meminfo = view.first("meminfo")
    if meminfo is not None and isinstance(meminfo.instance.get("Balloon"), int):
        return meminfo, "/Balloon", meminfo.instance["Balloon"]
    vmstat, events = view.first("vmstat"), balloon_events_kb(view)
    if vmstat is not None and events is not None:
        return vmstat, "/balloon_inflate", events
    return None


def _size_known(view: CaptureView) -> str | None:
    if guest_balloon_kb(view) is None:
        return "no meminfo Balloon: line and no vmstat balloon_inflate/balloon_deflate events"
    return None


def balloon_size(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    found, record = guest_balloon_kb(view), host(view)
    if found is None:
        return
    parsed, pointer, guest_kb = found
    host_kb = (record["memory"] - record["actual"]) // 1024
    if abs(guest_kb - host_kb) > BATCH_KB:
        source = "Balloon" if pointer == "/Balloon" else "balloon_inflate - balloon_deflate"
        yield rule.diagnostic(
            f"the guest's balloon is {guest_kb} kB ({source}) but the host saw "
            f"{host_kb} kB (memory {record['memory']} - actual {record['actual']} bytes)",
            parsed.locate(pointer),
            hint=f"{view.capture.name}/capture.json: host.actual",
            pointer=pointer,
        )


def _balloon_features(view: CaptureView) -> ParsedFile | None:
    for parsed in view.all("virtio-features"):
        if _balloon_device(parsed):
            return parsed
    return None


def _features_known(view: CaptureView) -> str | None:
    if not host(view):
        return _no_host(view)
    if not isinstance(host(view).get("device_options"), dict):
        return "the host record has no device_options"
    if _balloon_features(view) is None:
        return "no virtio features file of a balloon device (device id 5) in the capture"
    return None


def features(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    parsed, options = _balloon_features(view), host(view).get("device_options", {})
    if parsed is None:
        return
    negotiated = set(parsed.instance.get("set_bits", []))
    # QEMU offers STATS_VQ always, the others when their option is on (default off); Linux
    # accepts each, so what the guest negotiated is what the host offered
    expected = {"stats": (STATS_VQ, "VIRTIO_BALLOON_F_STATS_VQ", True)}
    for option, (bit, name) in FEATURE_BITS.items():
        expected[option] = (bit, name, options.get(option, "off") == "on")
    for option, (bit, name, wanted) in expected.items():
        if (bit in negotiated) != wanted:
            said = (
                "STATS_VQ (QEMU offers it always)"
                if option == "stats"
                else f"{option}={options.get(option, 'off')}"
            )
            state = "set" if bit in negotiated else "clear"
            at = parsed.locate("")
            yield rule.diagnostic(
                f"feature bit {bit} ({name}) is {state} in the guest, but the device "
                f"was started with {said}",
                replace(at, line=at.line or 1, column=bit + 1),
                hint=f"{view.capture.name}/capture.json: host.device_options",
            )


GUEST_STATS = (
    # QEMU's name, the guest file, its field, the unit of the field in bytes, a counter
    ("stat-total-memory", "meminfo", "MemTotal", 1024, False),
    ("stat-free-memory", "meminfo", "MemFree", 1024, False),
    ("stat-available-memory", "meminfo", "MemAvailable", 1024, False),
    ("stat-disk-caches", "vmstat", "nr_file_pages", 0, False),
    ("stat-swap-in", "vmstat", "pswpin", 0, True),
    ("stat-swap-out", "vmstat", "pswpout", 0, True),
    ("stat-major-faults", "vmstat", "pgmajfault", 1, True),
    ("stat-minor-faults", "vmstat", "pgfault", 1, True),
)
"""drivers/virtio/virtio_balloon.c update_balloon_stats(): pages are sent in bytes (unit 0:
the guest's page size), the fault counters as counts."""


LEVEL_DRIFT = 16 * 1024 * 1024
LEVEL_SHARE = 0.05
"""How far a memory size the guest sent may be from its meminfo read a moment later: up
to 7.6 MiB (1.9%) was measured after a deflate (tolerance of host.guest-stats)."""


def _level_close(sent: int, seen: int) -> bool:
    return abs(sent - seen) <= max(LEVEL_DRIFT, LEVEL_SHARE * max(sent, seen))


def _stats(view: CaptureView) -> dict[str, Any]:
    record = host(view).get("guest_stats")
    return record if isinstance(record, dict) else {}


def _stats_known(view: CaptureView) -> str | None:
    record = _stats(view)
    if not record:
        return (
            "the host record has no guest_stats (the device polled none: "
            "--device guest-stats-polling-interval=N)"
        )
    if record.get("fresh") is not True:
        return "the guest sent no statistics after the balloon settled (guest_stats.fresh false)"
    return None


def guest_stats(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    stats = _stats(view).get("stats", {})
    for name, format_id, field, unit, counter in GUEST_STATS:
        parsed, sent = view.first(format_id), stats.get(name)
        value = parsed.instance.get(field) if parsed is not None else None
        if parsed is None or not isinstance(sent, int) or sent < 0 or not isinstance(value, int):
            continue  # -1: the guest did not send it; a kernel without the field
        seen = value * (unit or view.page_size)
        # a counter read later can only have grown; a level may have moved a little
        bad = sent > seen if counter else not _level_close(sent, seen)
        if bad:
            how = "more than" if counter else "far from"
            in_bytes = "" if unit == 1 else f" ({seen} bytes)"
            yield rule.diagnostic(
                f"the guest sent the host {name} {sent}, {how} its own {field} "
                f"{value}{in_bytes} at the same step",
                parsed.locate("/" + field),
                hint=f"{view.capture.name}/capture.json: host.guest_stats.stats.{name}",
                pointer="/" + field,
            )


def _reach_known(view: CaptureView) -> str | None:
    return None if host(view) else _no_host(view)


def target_reached(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    record = host(view)
    target, actual = record["requested_target"], record.get("actual")
    if record["target_reached"] is True or _refused_for_memory(view, target, actual):
        return
    yield rule.diagnostic(
        f"the balloon did not reach the host's target: asked {target} bytes, the guest "
        f"stopped at {actual} after {record.get('polls', '?')} polls ({record.get('step', '?')})",
        _host_location(view),
        hint="the guest may refuse only when short of memory with DEFLATE_ON_OOM",
        pointer="/host/actual",
    )


def _refused_for_memory(view: CaptureView, target: int, actual: Any) -> bool:
    """The documented refusal: DEFLATE_ON_OOM negotiated, the balloon smaller than asked,
    and the guest short of memory (MemAvailable below 5% of MemTotal)."""
    parsed, meminfo = _balloon_features(view), view.first("meminfo")
    if parsed is None or meminfo is None or not isinstance(actual, int) or actual <= target:
        return False
    total, available = (meminfo.instance.get(k) for k in ("MemTotal", "MemAvailable"))
    if not isinstance(total, int) or not isinstance(available, int):
        return False
    return 2 in parsed.instance.get("set_bits", []) and available < LOW_MEMORY_SHARE * total


HOST_RULES = (
    Rule(
        "host.balloon-size",
        Severity.ERROR,
        Scope.CAPTURE,
        "the guest's balloon equals the guest memory minus what the host sees (actual)",
        "QEMU's query-balloon 'actual' is the guest memory less the pages the guest told the "
        "device it holds (hw/virtio/virtio-balloon.c); the guest counts the same pages in "
        "NR_BALLOON_PAGES (Balloon:, 6.15+) and in the balloon_inflate/balloon_deflate "
        "events before (kernel-formats.md §5.3).",
        tolerance=BATCH,
        example="host: memory 1073741824, actual 805306368 (256 MiB); guest Balloon: 0 kB",
        needs=Needs(condition=lambda v: _has_host(v) or _size_known(v)),
        check=balloon_size,
    ),
    Rule(
        "host.features",
        Severity.ERROR,
        Scope.CAPTURE,
        "the features the guest negotiated are those the device was started with",
        "QEMU offers VIRTIO_BALLOON_F_STATS_VQ always and DEFLATE_ON_OOM, FREE_PAGE_HINT and "
        "REPORTING when deflate-on-oom, free-page-hint and free-page-reporting are on (all "
        "off by default; hw/virtio/virtio-balloon.c); Linux's virtio_balloon accepts each, so "
        "the guest's features file shows exactly those bits (kernel-formats.md §4.2).",
        example="device deflate-on-oom=on; guest features bit 2 clear",
        needs=Needs(condition=_features_known),
        check=features,
    ),
    Rule(
        "host.guest-stats",
        Severity.ERROR,
        Scope.CAPTURE,
        "the statistics the guest sent the host agree with its own meminfo and vmstat",
        "virtio_balloon's update_balloon_stats() sends MemTotal, MemFree, MemAvailable (as "
        "bytes), NR_FILE_PAGES, pswpin/pswpout (pages as bytes) and pgmajfault/pgfault; QEMU "
        "shows the last set as the balloon's guest-stats property.",
        tolerance="for the memory sizes, the larger of 16 MiB and 5% of the larger value: the "
        "guest sent them before the snapshot read its files (after the balloon settled, at "
        "most one polling interval earlier) and memory use moves meanwhile; after a deflate "
        "of 128 MiB a 7.3 guest under TCG showed 3.6 to 7.6 MiB (1.9%) more free memory in "
        "its meminfo than in the stats just sent; the counters (swap, faults) may only be "
        "smaller than the guest's own, never larger",
        example="guest-stats stat-free-memory 0; MemFree: 320204 kB",
        needs=Needs(condition=lambda v: _has_host(v) or _stats_known(v)),
        check=guest_stats,
    ),
    Rule(
        "host.target-reached",
        Severity.ERROR,
        Scope.CAPTURE,
        "the balloon reaches the target the host asked for",
        "virtio_balloon moves towards the device's num_pages until it is reached "
        "(drivers/virtio/virtio_balloon.c update_balloon_size_func); it may stop short only "
        "when allocations fail, and with DEFLATE_ON_OOM it gives pages back when the guest "
        "runs out of memory (balloon.rst 'KVM balloon').",
        tolerance="none in value; the harness waits until actual equals the target or stays "
        "still for 2 seconds (bounded); a balloon short of its target with DEFLATE_ON_OOM "
        "negotiated and MemAvailable below 5% of MemTotal is the documented refusal",
        example="host: requested_target 268435456, actual 805306368, target_reached false",
        needs=Needs(condition=_reach_known),
        check=target_reached,
    ),
)
