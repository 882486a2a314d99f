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
from .base import Rule, Scope

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


def meminfo_has_balloon_line(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo = _meminfo(view)
    if meminfo is None or view.kernel is None or view.kernel < (6, 15):
        return
    if "Balloon" not in meminfo.instance:
        release = ".".join(map(str, view.kernel))
        yield rule.diagnostic(
            f"kernel {release} prints a 'Balloon:' line, and this meminfo has none",
            meminfo.locate(""),
        )


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
    if meminfo is None or "InflatedTotal" not in meminfo.instance:
        return
    expected = _rfc_counter(view)
    if expected is None:
        return
    counter, reason = expected
    other = "InflatedFree" if counter == "InflatedTotal" else "InflatedTotal"
    value = meminfo.instance.get(other)
    if isinstance(value, int) and value:
        yield rule.diagnostic(
            f"{other} is {value} kB, but {reason}, so the balloon belongs in {counter}",
            meminfo.locate("/" + other),
        )


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


def rfc_copies_agree(rule: Rule, view: CaptureView) -> Iterator[Diagnostic]:
    meminfo = _meminfo(view)
    if meminfo is None or "InflatedTotal" not in meminfo.instance:
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
    release = ".".join(map(str, view.kernel))
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
        check=rfc_copies_agree,
    ),
)
