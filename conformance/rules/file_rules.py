"""Rules about one file: invariants within hv-balloon, vmmemctl, virtio features, meminfo.

Invariants that JSON Schema can express live in the schemas; these are the ones it cannot
(comparisons between two values, bit arithmetic) or that are soft (warnings) because the
driver prints fields it reads at different moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Location, Severity
from ..records import replace
from .base import Needs, Rule, Scope

if TYPE_CHECKING:
    from ..view import CaptureView, ParsedFile


def _at_most(
    rule: Rule, parsed: ParsedFile, pairs: tuple[tuple[str, str], ...]
) -> Iterator[Diagnostic]:
    instance = parsed.instance
    for small, large in pairs:
        a, b = instance.get(small), instance.get(large)
        if isinstance(a, int) and isinstance(b, int) and a > b:
            yield rule.diagnostic(
                f"{small} ({a}) exceeds {large} ({b})",
                parsed.locate("/" + small),
                pointer="/" + small,
            )


def hv_onlined_within_added(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    return _at_most(rule, parsed, (("pages_onlined", "pages_added"),))


def hv_committed_covers_ballooned(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    instance = parsed.instance
    a, b = instance.get("pages_ballooned"), instance.get("total_pages_committed")
    if isinstance(a, int) and isinstance(b, int) and b < a:
        yield rule.diagnostic(
            f"total_pages_committed ({b}) is below pages_ballooned ({a}), which it includes",
            parsed.locate("/total_pages_committed"),
        )


def hv_capabilities(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    instance = parsed.instance
    words = instance.get("capabilities", [])
    ballooned = instance.get("pages_ballooned", instance.get("pages_ballooned_out"))
    if "enabled" not in words and isinstance(ballooned, int) and ballooned:
        key = "pages_ballooned" if "pages_ballooned" in instance else "pages_ballooned_out"
        yield rule.diagnostic(
            f"{ballooned} pages ballooned but 'enabled' is not a capability",
            parsed.locate("/" + key),
        )
    added = instance.get("pages_added")
    if "hot_add" not in words and isinstance(added, int) and added:
        yield rule.diagnostic(
            f"{added} pages hot-added but 'hot_add' is not a capability",
            parsed.locate("/pages_added"),
        )


MEMINFO_PAIRS = (
    ("MemFree", "MemTotal"),
    ("MemAvailable", "MemTotal"),
    ("SwapFree", "SwapTotal"),
    ("HighFree", "HighTotal"),
    ("LowFree", "LowTotal"),
    ("CmaFree", "CmaTotal"),
    ("HugePages_Free", "HugePages_Total"),
    ("HugePages_Rsvd", "HugePages_Free"),
    ("Balloon", "MemTotal"),
)


def meminfo_within_totals(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    return _at_most(rule, parsed, MEMINFO_PAIRS)


BASIC_CMDS = 0x02


def vmmemctl_used_capabilities(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    caps = parsed.instance.get("capabilities")
    if not isinstance(caps, dict):
        return
    requested = caps.get("requested", {}).get("mask")
    used = caps.get("used", {}).get("mask")
    if isinstance(requested, int) and isinstance(used, int) and used & ~(requested | BASIC_CMDS):
        extra = used & ~(requested | BASIC_CMDS)
        yield rule.diagnostic(
            f"used capabilities {used:#x} include {extra:#x}, which the driver never requested",
            parsed.locate("/capabilities/used"),
        )


ACCESS_PLATFORM, VERSION_1 = 33, 32
MODERN_ONLY = {3: "FREE_PAGE_HINT", 4: "PAGE_POISON", 5: "REPORTING"}


def is_balloon_device(parsed: ParsedFile) -> bool:
    """Whether a virtio-features file is a balloon's (device id 5, or no id to say)."""
    device = parsed.instance.get("device")
    return not isinstance(device, dict) or device.get("id") == 5


def _has_balloon_features(view: CaptureView) -> str | None:
    """A virtio rule reads only a balloon's features: without one, it did not run."""
    if any(is_balloon_device(parsed) for parsed in view.all("virtio-features")):
        return None
    return "no virtio device in the capture is a balloon (device id 5)"


def virtio_no_access_platform(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    bits = parsed.instance.get("set_bits", [])
    if is_balloon_device(parsed) and ACCESS_PLATFORM in bits:
        yield rule.diagnostic(
            "a balloon never negotiates VIRTIO_F_ACCESS_PLATFORM (bit 33): "
            "virtballoon_validate() clears it",
            _bit_location(parsed, ACCESS_PLATFORM),
        )


def virtio_modern_features(rule: Rule, parsed: ParsedFile) -> Iterator[Diagnostic]:
    bits = parsed.instance.get("set_bits", [])
    if not is_balloon_device(parsed) or VERSION_1 in bits:
        return
    for bit, name in MODERN_ONLY.items():
        if bit in bits:
            yield rule.diagnostic(
                f"bit {bit} ({name}) is set without VIRTIO_F_VERSION_1 (bit 32); "
                "legacy devices clear it",
                _bit_location(parsed, bit),
            )


def _bit_location(parsed: ParsedFile, bit: int) -> Location:
    """The column of character ``bit`` of the features string."""
    location = parsed.locate("/bits")
    return replace(location, column=location.column + bit)


SCHEMA_BACKED = (
    Rule(
        "rfc.inflated-exclusive",
        Severity.ERROR,
        Scope.FILE,
        "InflatedTotal and InflatedFree are never both non-zero",
        'balloon.rst (RFC v5 8/8): \'Both "InflatedTotal" and "InflatedFree" cannot be '
        "non-zero at the same time.' Each driver feeds one counter, by its accounting mode. "
        "The schemas of meminfo (rfc), virtio-balloon and show-mem (rfc) enforce it (x-rule).",
        example="InflatedTotal:   2097152 kB\nInflatedFree:    1048576 kB",
        formats=("meminfo", "virtio-balloon", "show-mem"),
    ),
)
"""Rules a JSON Schema enforces (its ``x-rule``); listed here so they are documented."""

FILE_RULES = (
    *SCHEMA_BACKED,
    Rule(
        "hv-balloon.onlined-within-added",
        Severity.WARNING,
        Scope.FILE,
        "pages_onlined does not exceed pages_added",
        "hv_balloon counts hot-added pages in pages_added and those brought online in "
        "pages_onlined (drivers/hv/hv_balloon.c); the driver clamps the subtraction and WARNs "
        "instead of trusting it, so a violation is a warning (kernel-formats.md §2.4).",
        tolerance="none; a warning, because the fields are read without a lock",
        example="pages_added           : 0\npages_onlined         : 512",
        formats=("hv-balloon",),
        check=hv_onlined_within_added,
    ),
    Rule(
        "hv-balloon.committed-covers-ballooned",
        Severity.WARNING,
        Scope.FILE,
        "total_pages_committed is at least pages_ballooned",
        "get_pages_committed() adds pages_ballooned to vm_memory_committed() and the balloon "
        "floor (drivers/hv/hv_balloon.c), so the total cannot be smaller (kernel-formats.md §2.3).",
        tolerance="none; a warning, because pages_ballooned may change between the two reads",
        example="pages_ballooned       : 262144\ntotal_pages_committed : 1000",
        formats=("hv-balloon",),
        check=hv_committed_covers_ballooned,
    ),
    Rule(
        "hv-balloon.capabilities",
        Severity.WARNING,
        Scope.FILE,
        "no pages ballooned without 'enabled', none hot-added without 'hot_add'",
        "ballooning is refused when ballooning_enabled() is false and hot-add when "
        "hot_add_enabled() is false (drivers/hv/hv_balloon.c; kernel-formats.md §2.4).",
        example="capabilities          : hot_add\npages_ballooned       : 512",
        formats=("hv-balloon",),
        check=hv_capabilities,
    ),
    Rule(
        "meminfo.within-totals",
        Severity.ERROR,
        Scope.FILE,
        "free and used parts do not exceed their totals",
        "MemFree, MemAvailable and Balloon are parts of MemTotal; SwapFree of SwapTotal; "
        "HighFree, LowFree, CmaFree of their totals; HugePages_Free of HugePages_Total and "
        "HugePages_Rsvd of HugePages_Free (fs/proc/meminfo.c, mm/hugetlb.c).",
        example="MemTotal:        4000000 kB\nMemFree:         5000000 kB",
        formats=("meminfo",),
        check=meminfo_within_totals,
    ),
    Rule(
        "vmmemctl.used-capabilities",
        Severity.ERROR,
        Scope.FILE,
        "used capabilities are among the requested ones (or BASIC)",
        "vmw_balloon requests a fixed capability set with START and keeps what the host "
        "answers; a plain SUCCESS is forced to BASIC (drivers/misc/vmw_balloon.c; "
        "kernel-formats.md §3.2, §3.3).",
        example="balloon capabilities  :             0x1e\n"
        "used capabilities     :             0x3e",
        formats=("vmmemctl",),
        check=vmmemctl_used_capabilities,
    ),
    Rule(
        "virtio.no-access-platform",
        Severity.ERROR,
        Scope.FILE,
        "a balloon never negotiates ACCESS_PLATFORM (bit 33)",
        "virtballoon_validate() always clears VIRTIO_F_ACCESS_PLATFORM "
        "(drivers/virtio/virtio_balloon.c; kernel-formats.md §4.2).",
        example="bit 33 set in /sys/bus/virtio/drivers/virtio_balloon/virtio0/features",
        formats=("virtio-features",),
        needs=Needs(condition=_has_balloon_features),
        check=virtio_no_access_platform,
    ),
    Rule(
        "virtio.modern-features",
        Severity.ERROR,
        Scope.FILE,
        "bits 3 to 5 of a balloon need VERSION_1 (bit 32)",
        "for legacy devices virtballoon_validate() clears FREE_PAGE_HINT, PAGE_POISON and "
        "REPORTING (Tsirkin, 'virtio_balloon: clear modern features under legacy', 2020; "
        "kernel-formats.md §4.2).",
        example="bit 5 (REPORTING) set and bit 32 clear",
        formats=("virtio-features",),
        needs=Needs(condition=_has_balloon_features),
        check=virtio_modern_features,
    ),
)
