"""Rules across the files of one capture: the same balloon seen through several files.

Upstream (6.15+) every balloon driver feeds NR_BALLOON_PAGES, shown as ``Balloon:`` in
/proc/meminfo and ``nr_balloon_pages`` in /proc/vmstat; each driver also shows its own
count in its debugfs file. The RFC kernels show ``InflatedTotal``/``InflatedFree``
instead, fed by one driver in one of two modes. The files are read one after the other,
not atomically, so rules that compare values read from two files tolerate some drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, Severity
from .base import Needs, Rule, Scope

if TYPE_CHECKING:
    from ..view import CaptureView, ParsedFile

DRIFT_KB = 4096
DRIFT_SHARE = 0.01
DRIFT = (
    "the larger of 4 MiB and 1% of the larger value: the files are read one after the other "
    "while the balloon may move (hv_balloon moves 2 MiB at a time, virtio 1 MiB batches)"
)


def _close(a: int, b: int) -> bool:
    return abs(a - b) <= max(DRIFT_KB, DRIFT_SHARE * max(a, b))


def _meminfo(view: CaptureView) -> ParsedFile | None:
    return view.first("meminfo")


def balloon_events_kb(view: CaptureView) -> int | None:
    """The balloon's size by /proc/vmstat's events: (balloon_inflate - balloon_deflate)
    pages since boot, in kB; None without both events. hv_balloon and Xen do not feed
    them (kernel-formats.md, "How balloon memory appears upstream")."""
    vmstat = view.first("vmstat")
    if vmstat is None:
        return None
    inflated, deflated = (vmstat.instance.get(k) for k in ("balloon_inflate", "balloon_deflate"))
    if not isinstance(inflated, int) or not isinstance(deflated, int):
        return None
    return (inflated - deflated) * view.page_size // 1024


NO_BALLOON_LINE = "meminfo has no 'Balloon:' line (kernels print it from 6.15 on)"
NO_EVENTS = "/proc/vmstat has no balloon_inflate and balloon_deflate events"


def meminfo_has_balloon_line(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo = _meminfo(view)
    if meminfo is not None and "Balloon" not in meminfo.instance:
        yield rule.diagnostic(
            f"kernel {view.release} prints a 'Balloon:' line, and this meminfo has none",
            meminfo.locate(""),
        )


def _has_balloon_counters(view: CaptureView) -> str | None:
    meminfo, vmstat = _meminfo(view), view.first("vmstat")
    if meminfo is not None and not isinstance(meminfo.instance.get("Balloon"), int):
        return NO_BALLOON_LINE
    if vmstat is not None and not isinstance(vmstat.instance.get("nr_balloon_pages"), int):
        return "/proc/vmstat has no nr_balloon_pages (kernels print it from 6.15 on)"
    return None


def vmstat_agrees(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo, vmstat = _meminfo(view), view.first("vmstat")
    if meminfo is None or vmstat is None:
        return
    balloon, pages = meminfo.instance.get("Balloon"), vmstat.instance.get("nr_balloon_pages")
    if isinstance(balloon, int) and isinstance(pages, int):
        expected = pages * view.page_size // 1024
        if balloon != expected:
            yield rule.diagnostic(
                f"Balloon is {balloon} kB but nr_balloon_pages {pages} "
                f"x {view.page_size} bytes is {expected} kB",
                meminfo.locate("/Balloon"),
                hint=f"{vmstat.file.path}: nr_balloon_pages {pages}",
            )


def driver_count_agrees(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo = _meminfo(view)
    balloon = meminfo.instance.get("Balloon") if meminfo else None
    if meminfo is None or not isinstance(balloon, int):
        return
    for parsed, pointer, kb in _driver_counts(view):
        if not _close(balloon, kb):
            yield rule.diagnostic(
                f"Balloon is {balloon} kB but {parsed.result.format} holds {kb} kB "
                f"({pointer[1:]} x 4 KiB)",
                meminfo.locate("/Balloon"),
                hint=f"{parsed.file.path}: {pointer[1:]}",
            )


def _driver_count_known(view: CaptureView) -> str | None:
    # The vmstat events cannot stand in for Balloon here: hv_balloon does not feed them,
    # and vmw_balloon only since it moved to balloon_compaction (5.x), a boundary the
    # reference does not pin down; a false finding would be worse than a skip.
    if not any(True for _ in _driver_counts(view)):
        return "no hv-balloon pages_ballooned or vmmemctl current (4 KiB pages) in the capture"
    meminfo = _meminfo(view)
    if meminfo is not None and not isinstance(meminfo.instance.get("Balloon"), int):
        return NO_BALLOON_LINE
    return None


def _driver_counts(view: CaptureView) -> Iterator[tuple[ParsedFile, str, int]]:
    for parsed in view.all("hv-balloon"):
        pages = parsed.instance.get("pages_ballooned")
        if isinstance(pages, int):
            yield parsed, "/pages_ballooned", pages * 4
    for parsed in view.all("vmmemctl"):
        current = parsed.instance.get("current")
        if isinstance(current, int) and not _uses_2m_pages(parsed):
            yield parsed, "/current", current * 4


def _uses_2m_pages(parsed: ParsedFile) -> bool:
    stats = parsed.instance.get("page_stats", {})
    alloc = stats.get("alloc", {}) if isinstance(stats, dict) else {}
    used = parsed.instance.get("capabilities", {}).get("used", {}).get("mask", 0)
    return bool(alloc.get("2M")) or bool(isinstance(used, int) and used & 0x08)


def single_driver(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    active = [p.file.path for p in view.all("hv-balloon") + view.all("vmmemctl")]
    active += [p.file.path for p in view.all("virtio-features") if _balloon_device(p)]
    if len(active) > 1:
        yield rule.diagnostic(
            f"{len(active)} balloon drivers are active: {', '.join(active)}", view.location
        )


def _balloon_device(parsed: ParsedFile) -> bool:
    device = parsed.instance.get("device")
    return isinstance(device, dict) and device.get("id") == 5


def rfc_accounting(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    """Which RFC counter each driver feeds (balloon.rst, kernel-formats.md §1.5)."""
    meminfo = _meminfo(view)
    expected = _rfc_counter(view)
    if meminfo is None or expected is None:
        return
    counter, reason = expected
    other = "InflatedFree" if counter == "InflatedTotal" else "InflatedTotal"
    value = meminfo.instance.get(other)
    if isinstance(value, int) and value:
        yield rule.diagnostic(
            f"{other} is {value} kB, but {reason}, so the balloon belongs in {counter}",
            meminfo.locate("/" + other),
        )
    # virtio's pages pass through balloon_compaction (since about 3.8): the vmstat events
    # say how large the balloon is, and the counter the driver feeds must hold it
    events, fed = balloon_events_kb(view), meminfo.instance.get(counter)
    virtio = not view.all("hv-balloon") and not view.all("vmmemctl")
    if events is None or not virtio or not isinstance(fed, int):
        return
    if not _close(fed, events):
        yield rule.diagnostic(
            f"{counter} is {fed} kB but balloon_inflate - balloon_deflate in /proc/vmstat is "
            f"{events} kB; {reason}, so the balloon belongs in {counter}",
            meminfo.locate("/" + counter),
        )


def _rfc_applies(view: CaptureView) -> str | None:
    meminfo = _meminfo(view)
    if meminfo is not None and "InflatedTotal" not in meminfo.instance:
        return "meminfo has no InflatedTotal/InflatedFree lines (only RFC kernels print them)"
    if _rfc_counter(view) is None:
        return "no hv-balloon, vmmemctl or virtio balloon features file tells the accounting mode"
    return None


def _rfc_counter(view: CaptureView) -> tuple[str, str] | None:
    if view.all("hv-balloon"):
        return "InflatedTotal", "Hyper-V's balloon shrinks total RAM"
    if view.all("vmmemctl"):
        return "InflatedFree", "VMware's balloon is accounted as used memory"
    for parsed in view.all("virtio-features"):
        if _balloon_device(parsed) or "device" not in parsed.instance:
            if 2 in parsed.instance.get("set_bits", []):
                return "InflatedFree", "virtio negotiated DEFLATE_ON_OOM (bit 2)"
            return "InflatedTotal", "virtio did not negotiate DEFLATE_ON_OOM (bit 2)"
    return None


def _rfc_copies_exist(view: CaptureView) -> str | None:
    meminfo = _meminfo(view)
    if meminfo is not None and "InflatedTotal" not in meminfo.instance:
        return "meminfo has no InflatedTotal/InflatedFree lines (only RFC kernels print them)"
    dumps = [p.instance.get("dumps") or [{}] for p in view.all("show-mem")]
    if view.all("virtio-balloon") or any(isinstance(d[-1].get("balloon"), dict) for d in dumps):
        return None
    return "no virtio-balloon file and no show_mem() dump with a Balloon line in the capture"


def rfc_copies_agree(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo = _meminfo(view)
    if meminfo is None:
        return
    for parsed in view.all("virtio-balloon"):
        yield from _compare_inflated(rule, meminfo, parsed, "", parsed.instance)
    for parsed in view.all("show-mem"):
        dumps = parsed.instance.get("dumps", [])
        if dumps and isinstance(dumps[-1].get("balloon"), dict):
            pointer = f"/dumps/{len(dumps) - 1}/balloon"
            yield from _compare_inflated(rule, meminfo, parsed, pointer, dumps[-1]["balloon"])


def _compare_inflated(
    rule: Rule, meminfo: ParsedFile, other: ParsedFile, base: str, values: dict[str, Any]
) -> Iterator[Diagnostic]:
    for key in ("InflatedTotal", "InflatedFree"):
        mine, theirs = meminfo.instance.get(key), values.get(key)
        if isinstance(mine, int) and isinstance(theirs, int) and not _close(mine, theirs):
            yield rule.diagnostic(
                f"{key} is {theirs} kB here but {mine} kB in {meminfo.file.path}",
                other.locate(f"{base}/{key}"),
            )


DIALECT_ERAS = {
    # format: ((first kernel, dialect), ...) in order; boundaries from kernel-formats.md
    "virtio-features": (((0,), ("2.6.24", "3.19")), ((6, 17), ("6.17",))),
    "vmmemctl": (((0,), ("2.6.34",)), ((4, 4), ("4.4",)), ((4, 20), ("4.20",))),
}


def dialect_fits_kernel(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    if view.kernel is None:
        return
    release = view.release
    for parsed in view.parsed:
        eras = DIALECT_ERAS.get(parsed.result.format)
        if not eras:
            continue
        expected = [dialects for first, dialects in eras if view.kernel >= first][-1]
        if parsed.result.dialect not in expected:
            yield rule.diagnostic(
                f"kernel {release} prints the {' or '.join(expected)} layout of "
                f"{parsed.result.format}, not {parsed.result.dialect}",
                parsed.locate(""),
            )
    meminfo = _meminfo(view)
    if meminfo is not None and "Balloon" in meminfo.instance and view.kernel < (6, 15):
        yield rule.diagnostic(
            f"kernel {release} predates the Balloon line (6.15)", meminfo.locate("/Balloon")
        )


CAPTURE_RULES = (
    Rule(
        "meminfo.balloon-line",
        Severity.ERROR,
        Scope.CAPTURE,
        "kernels from 6.15 on print 'Balloon:' in /proc/meminfo",
        "'track memory used by balloon drivers' (Nico Pache, merged for 6.15-rc1) adds an "
        "unconditional Balloon line to /proc/meminfo (kernel-formats.md §5.3). Needs the kernel "
        "release from capture.json or --kernel.",
        example="capture.json says 6.15.0; proc/meminfo has no Balloon: line",
        needs=Needs(("meminfo",), kernel=(6, 15)),
        check=meminfo_has_balloon_line,
    ),
    Rule(
        "kernel.dialect",
        Severity.WARNING,
        Scope.CAPTURE,
        "each file has the layout its kernel release prints",
        "virtio features are 128 characters from 6.17 on (commit e7d4c1c5a546), 64 before; "
        "vmmemctl changed layout in about 4.4 and 4.20; meminfo has Balloon from 6.15 "
        "(kernel-formats.md §3, §4.2, §5.3). Needs the kernel release from capture.json or "
        "--kernel.",
        tolerance="a warning: vendor kernels backport features, and the 4.4 and 4.20 "
        "boundaries are approximate",
        example="capture.json says 6.18.0; features has 64 characters",
        needs=Needs(kernel=()),
        check=dialect_fits_kernel,
    ),
    Rule(
        "balloon.vmstat-agrees",
        Severity.WARNING,
        Scope.CAPTURE,
        "meminfo Balloon equals nr_balloon_pages x page size",
        "both come from the node counter NR_BALLOON_PAGES (fs/proc/meminfo.c, mm/vmstat.c; "
        "kernel-formats.md §5.3).",
        tolerance="none in value; a warning, because the two files are read one after the other",
        example="Balloon:          524288 kB with nr_balloon_pages 0",
        needs=Needs(("meminfo", "vmstat"), condition=_has_balloon_counters),
        check=vmstat_agrees,
    ),
    Rule(
        "balloon.driver-agrees",
        Severity.WARNING,
        Scope.CAPTURE,
        "meminfo Balloon matches the driver's own count",
        "hv_balloon counts pages_ballooned in NR_BALLOON_PAGES by hand, vmw_balloon's 4 KiB "
        "pages go through balloon_compaction (its 2 MiB pages do not, so the rule is skipped "
        "when they are in use): Balloon ~ pages_ballooned x 4 KiB, ~ current x 4 KiB "
        "(kernel-formats.md §2.4, §3.3, §8).",
        tolerance=DRIFT,
        example="Balloon: 0 kB with hv-balloon pages_ballooned 262144",
        needs=Needs(condition=_driver_count_known),
        check=driver_count_agrees,
    ),
    Rule(
        "balloon.single-driver",
        Severity.ERROR,
        Scope.CAPTURE,
        "at most one balloon driver is active in a guest",
        "hv_balloon, vmw_balloon and virtio_balloon each bind only on their own hypervisor, "
        "so one guest shows at most one of their files.",
        example="both sys/kernel/debug/hv-balloon and sys/kernel/debug/vmmemctl present",
        check=single_driver,
    ),
    Rule(
        "rfc.accounting",
        Severity.ERROR,
        Scope.CAPTURE,
        "each driver feeds the RFC counter of its accounting mode",
        "balloon.rst (RFC v5 8/8): virtio accounts in InflatedFree with DEFLATE_ON_OOM and in "
        "InflatedTotal without it; 'Hyper-V balloon driver changes the total RAM size' "
        "(InflatedTotal); 'VMware balloon driver makes ballooned pages accounted as used' "
        "(InflatedFree).",
        example="features bit 2 clear, InflatedFree: 1048576 kB",
        needs=Needs(("meminfo",), condition=_rfc_applies),
        check=rfc_accounting,
    ),
    Rule(
        "rfc.copies-agree",
        Severity.WARNING,
        Scope.CAPTURE,
        "the virtio-balloon debugfs file and the show_mem Balloon line repeat meminfo's values",
        "balloon.rst (RFC v5 8/8) shows the same InflatedTotal/InflatedFree counters in "
        "/proc/meminfo, /sys/kernel/debug/virtio-balloon and the show_mem() line.",
        tolerance=DRIFT + "; the show_mem dump may also be older than the meminfo read",
        example="meminfo InflatedFree 0 kB, virtio-balloon InflatedFree 1048576 kB",
        needs=Needs(("meminfo",), condition=_rfc_copies_exist),
        check=rfc_copies_agree,
    ),
)
