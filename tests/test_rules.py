"""Each rule holds on one capture and fails on another, at the file, line and column it
names. The captures are made from the samples under tests/data (real or template output),
changed where a rule needs a violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.capture import Capture, CapturedFile
from conformance.check import CheckOptions, check_capture, check_series

DATA = Path(__file__).parent / "data"
MEMINFO = (DATA / "meminfo/template-2.6-6.18-virtio-guest-balloon-1GiB.txt").read_text()
RFC_MEMINFO = (DATA / "meminfo/template-rfc-v5-code-placement-inflated-total.txt").read_text()
OLD_MEMINFO = (DATA / "meminfo/corpus-jc-fixture-linux-proc-meminfo.txt").read_text()
VMSTAT = (DATA / "vmstat/template-2.6-6.18-virtio-guest-balloon-1GiB.txt").read_text()
VMMEMCTL = (DATA / "vmmemctl/template-4.20-pre-5.3-4k-only.txt").read_text()
HV = (DATA / "hv-balloon/template-6.0-x86_64-hot-add.txt").read_text()
NO_DEFLATE = (
    DATA / "virtio-features/corpus-vzkernel-doc-balloon-without-deflate-on-oom.txt"
).read_text()
DEFLATE = (DATA / "virtio-features/corpus-vzkernel-doc-balloon-with-deflate-on-oom.txt").read_text()

PATHS = {
    "meminfo": "proc/meminfo",
    "vmstat": "proc/vmstat",
    "vmmemctl": "sys/kernel/debug/vmmemctl",
    "hv-balloon": "sys/kernel/debug/hv-balloon",
    "virtio-features": "sys/bus/virtio/devices/virtio0/features",
    "virtio-balloon": "sys/kernel/debug/virtio-balloon",
    "show-mem": "dmesg",
}


def capture(name: str = "cap", **texts: str) -> Capture:
    files = []
    for key, text in texts.items():
        fmt = key.replace("_", "-")
        context = {"device": "0x0005\n"} if fmt == "virtio-features" else {}
        files.append(CapturedFile(fmt, f"{name}/{PATHS[fmt]}", text.encode(), context))
    return Capture(name, tuple(files))


def findings(capture: Capture, rule: str, **options: object) -> list[tuple[str, int, int]]:
    result = check_capture(capture, CheckOptions(**options))  # type: ignore[arg-type]
    assert rule in result.rules
    return [
        (d.location.path, d.location.line, d.location.column)
        for d in result.diagnostics
        if d.id == rule
    ]


def skip_reason(capture: Capture, rule: str, **options: object) -> str:
    """Why ``rule`` was skipped on ``capture``; it must not also count as evaluated."""
    result = check_capture(capture, CheckOptions(**options))  # type: ignore[arg-type]
    assert rule not in result.rules
    reasons = {skip.rule: skip.reason for skip in result.skipped}
    assert rule in reasons, result.skipped
    return reasons[rule]


def test_meminfo_within_totals() -> None:
    assert findings(capture(meminfo=MEMINFO), "meminfo.within-totals") == []
    bad = MEMINFO.replace("MemFree:        ", "MemFree:       9", 1)
    assert findings(capture(meminfo=bad), "meminfo.within-totals") == [("cap/proc/meminfo", 2, 16)]


def test_vmmemctl_used_capabilities() -> None:
    assert findings(capture(vmmemctl=VMMEMCTL), "vmmemctl.used-capabilities") == []
    bad = VMMEMCTL.replace("             0x16", "             0x36", 1)
    assert findings(capture(vmmemctl=bad), "vmmemctl.used-capabilities") == [
        ("cap/sys/kernel/debug/vmmemctl", 2, 37)
    ]


def test_meminfo_balloon_line_from_6_15() -> None:
    assert skip_reason(capture(meminfo=OLD_MEMINFO), "meminfo.balloon-line", kernel="5.8.0-63") == (
        "kernel 5.8.0 predates what the rule needs (6.15)"
    )
    assert findings(capture(meminfo=MEMINFO), "meminfo.balloon-line", kernel="6.15.0") == []
    assert findings(capture(meminfo=OLD_MEMINFO), "meminfo.balloon-line", kernel="6.15.0") == [
        ("cap/proc/meminfo", 1, 1)
    ]
    # without a kernel release the rule cannot tell: skipped, and says why
    reason = skip_reason(capture(meminfo=OLD_MEMINFO), "meminfo.balloon-line")
    assert reason.startswith("the kernel release is unknown")
    assert skip_reason(capture(vmstat=VMSTAT), "meminfo.balloon-line", kernel="6.15") == (
        "no meminfo file in the capture"
    )


def test_manifest_kernel_release_selects_the_rule() -> None:
    cap = capture(meminfo=OLD_MEMINFO)
    with_manifest = Capture(cap.name, cap.files, {"kernel_release": "6.16.1"})
    assert findings(with_manifest, "meminfo.balloon-line") == [("cap/proc/meminfo", 1, 1)]


def test_vmstat_agrees_with_meminfo() -> None:
    assert findings(capture(meminfo=MEMINFO, vmstat=VMSTAT), "balloon.vmstat-agrees") == []
    bad = VMSTAT.replace("nr_balloon_pages 262144", "nr_balloon_pages 262000")
    assert findings(capture(meminfo=MEMINFO, vmstat=bad), "balloon.vmstat-agrees") == [
        ("cap/proc/meminfo", 45, 18)
    ]


def test_hyperv_count_agrees_with_meminfo() -> None:
    # the HV sample has 0 pages ballooned; 1 GiB in meminfo is far from it
    assert findings(capture(meminfo=MEMINFO, hv_balloon=HV), "balloon.driver-agrees") == [
        ("cap/proc/meminfo", 45, 18)
    ]
    ballooned = HV.replace("pages_ballooned       : 0", "pages_ballooned       : 262144")
    assert findings(capture(meminfo=MEMINFO, hv_balloon=ballooned), "balloon.driver-agrees") == []
    # within the tolerance: 511 pages (a 2 MiB allocation less one page) still agree
    drift = HV.replace("pages_ballooned       : 0", "pages_ballooned       : 261633")
    assert findings(capture(meminfo=MEMINFO, hv_balloon=drift), "balloon.driver-agrees") == []


def test_vmware_count_agrees_with_meminfo() -> None:
    # current 65536 frames = 256 MiB, meminfo says 1 GiB
    assert findings(capture(meminfo=MEMINFO, vmmemctl=VMMEMCTL), "balloon.driver-agrees") == [
        ("cap/proc/meminfo", 45, 18)
    ]
    quarter = MEMINFO.replace("Balloon:         1048576 kB", "Balloon:          262144 kB")
    assert findings(capture(meminfo=quarter, vmmemctl=VMMEMCTL), "balloon.driver-agrees") == []


@pytest.mark.parametrize(
    ("driver", "meminfo", "expected"),
    [
        ({"virtio_features": NO_DEFLATE}, RFC_MEMINFO, []),
        ({"virtio_features": DEFLATE}, RFC_MEMINFO, [("cap/proc/meminfo", 43, 18)]),
        ({"hv_balloon": HV}, RFC_MEMINFO, []),
        ({"vmmemctl": VMMEMCTL}, RFC_MEMINFO, [("cap/proc/meminfo", 43, 18)]),
    ],
)
def test_rfc_accounting(
    driver: dict[str, str], meminfo: str, expected: list[tuple[str, int, int]]
) -> None:
    assert findings(capture(meminfo=meminfo, **driver), "rfc.accounting") == expected


def test_rfc_free_counter_for_deflate_on_oom() -> None:
    free = RFC_MEMINFO.replace(
        "InflatedTotal:   2097152 kB", "InflatedTotal:         0 kB"
    ).replace("InflatedFree:          0 kB", "InflatedFree:    2097152 kB")
    assert findings(capture(meminfo=free, virtio_features=DEFLATE), "rfc.accounting") == []
    assert findings(capture(meminfo=free, virtio_features=NO_DEFLATE), "rfc.accounting") == [
        ("cap/proc/meminfo", 44, 18)
    ]


def test_rfc_debugfs_copy_agrees() -> None:
    same = "InflatedTotal: 2097152 kB\nInflatedFree: 0 kB\n"
    assert findings(capture(meminfo=RFC_MEMINFO, virtio_balloon=same), "rfc.copies-agree") == []
    other = "InflatedTotal: 1048576 kB\nInflatedFree: 0 kB\n"
    assert findings(capture(meminfo=RFC_MEMINFO, virtio_balloon=other), "rfc.copies-agree") == [
        ("cap/sys/kernel/debug/virtio-balloon", 1, 16)
    ]


def _series(rule: str, *captures: Capture) -> list[tuple[str, int, int]]:
    *_, between = check_series(list(captures))
    assert rule in between.rules
    return [
        (d.location.path, d.location.line, d.location.column)
        for d in between.diagnostics
        if d.id == rule
    ]


def test_vmstat_and_vmmemctl_counters_never_go_backwards() -> None:
    t0 = capture("t0", vmstat=VMSTAT, vmmemctl=VMMEMCTL)
    t1 = capture(
        "t1",
        vmstat=VMSTAT.replace("balloon_inflate 300000", "balloon_inflate 299999"),
        vmmemctl=VMMEMCTL.replace(
            "start                 :                1", "start                 :                0"
        ),
    )
    assert _series("series.counters-monotonic", t0, t0) == []
    assert _series("series.counters-monotonic", t0, t1) == [
        ("t1/proc/vmstat", 176, 17),
        ("t1/sys/kernel/debug/vmmemctl", 6, 40),
    ]


def test_virtio_memtotal_follows_the_balloon_without_deflate_on_oom() -> None:
    empty = MEMINFO.replace("Balloon:         1048576 kB", "Balloon:               0 kB")
    t0 = capture("t0", meminfo=empty, virtio_features=NO_DEFLATE)
    unchanged = capture("t1", meminfo=MEMINFO, virtio_features=NO_DEFLATE)
    assert _series("virtio.memtotal-accounting", t0, unchanged) == [("t1/proc/meminfo", 1, 17)]
    shrunk = MEMINFO.replace("MemTotal:       23635508 kB", "MemTotal:       22586932 kB")
    assert (
        _series(
            "virtio.memtotal-accounting",
            t0,
            capture("t1", meminfo=shrunk, virtio_features=NO_DEFLATE),
        )
        == []
    )
    t0_deflate = capture("t0", meminfo=empty, virtio_features=DEFLATE)
    assert (
        _series(
            "virtio.memtotal-accounting",
            t0_deflate,
            capture("t1", meminfo=MEMINFO, virtio_features=DEFLATE),
        )
        == []
    )


def test_rfc_show_mem_line_agrees() -> None:
    log = (DATA / "show-mem/template-rfc-6.0-virtio-balloon-inflated-total.txt").read_text()
    same = RFC_MEMINFO.replace("InflatedTotal:   2097152 kB", "InflatedTotal:   1048576 kB")
    assert findings(capture(meminfo=same, show_mem=log), "rfc.copies-agree") == []
    assert findings(capture(meminfo=RFC_MEMINFO, show_mem=log), "rfc.copies-agree") == [
        ("cap/dmesg", 27, 41)
    ]


def test_dialect_fits_kernel() -> None:
    wide = (DATA / "virtio-features/template-6.17-deflate-on-oom.txt").read_text()
    assert findings(capture(virtio_features=wide), "kernel.dialect", kernel="6.18.44") == []
    assert findings(capture(virtio_features=NO_DEFLATE), "kernel.dialect", kernel="6.16.2") == []
    assert findings(capture(virtio_features=NO_DEFLATE), "kernel.dialect", kernel="6.18.44") == [
        ("cap/sys/bus/virtio/devices/virtio0/features", 1, 1)
    ]
    assert findings(capture(vmmemctl=VMMEMCTL), "kernel.dialect", kernel="4.19.0") == [
        ("cap/sys/kernel/debug/vmmemctl", 1, 1)
    ]
    assert findings(capture(meminfo=MEMINFO), "kernel.dialect", kernel="6.14.0") == [
        ("cap/proc/meminfo", 45, 18)
    ]


def test_manifest_is_checked_against_its_schema() -> None:
    cap = capture(meminfo=MEMINFO)
    bad = Capture(cap.name, cap.files, {"kernel_release": "6.18.0", "page_size": 4000})
    result = check_capture(bad)
    assert [(d.id, d.location.path) for d in result.diagnostics] == [
        ("capture.manifest", "cap/capture.json")
    ]
    assert "4000" in result.diagnostics[0].message


# 6.1-style output: no Balloon line in meminfo, no nr_balloon_pages in vmstat; only the
# balloon_inflate/balloon_deflate events say how large the balloon is
LTS_MEMINFO = MEMINFO.replace("Balloon:         1048576 kB\n", "")
LTS_VMSTAT = VMSTAT.replace("nr_balloon_pages 262144\n", "")


def lts_vmstat(inflated: int, deflated: int = 37856) -> str:
    return LTS_VMSTAT.replace("balloon_inflate 300000", f"balloon_inflate {inflated}").replace(
        "balloon_deflate 37856", f"balloon_deflate {deflated}"
    )


def test_vmstat_agrees_is_skipped_without_a_balloon_line() -> None:
    cap = capture(meminfo=LTS_MEMINFO, vmstat=LTS_VMSTAT)
    assert skip_reason(cap, "balloon.vmstat-agrees") == (
        "meminfo has no 'Balloon:' line (kernels print it from 6.15 on)"
    )
    assert skip_reason(capture(meminfo=MEMINFO), "balloon.vmstat-agrees") == (
        "no vmstat file in the capture"
    )


@pytest.mark.parametrize(
    ("features", "memtotal_moves", "expected"),
    [
        (NO_DEFLATE, False, [("t1/proc/meminfo", 1, 17)]),
        (NO_DEFLATE, True, []),
        (DEFLATE, False, []),
        (DEFLATE, True, [("t1/proc/meminfo", 1, 17)]),
    ],
)
def test_virtio_memtotal_from_vmstat_events_on_lts_kernels(
    features: str, memtotal_moves: bool, expected: list[tuple[str, int, int]]
) -> None:
    # t0: balloon empty (as many pages deflated as inflated); t1: 262144 more pages, 1 GiB
    t0 = capture("t0", meminfo=LTS_MEMINFO, vmstat=lts_vmstat(37856), virtio_features=features)
    after = LTS_MEMINFO
    if memtotal_moves:
        after = after.replace("MemTotal:       23635508 kB", "MemTotal:       22586932 kB")
    t1 = capture("t1", meminfo=after, vmstat=lts_vmstat(300000), virtio_features=features)
    assert _series("virtio.memtotal-accounting", t0, t1) == expected


def test_virtio_memtotal_is_skipped_without_any_balloon_size() -> None:
    bare = LTS_VMSTAT.replace("balloon_inflate 300000\nballoon_deflate 37856\n", "")
    t0 = capture("t0", meminfo=LTS_MEMINFO, vmstat=bare, virtio_features=NO_DEFLATE)
    t1 = capture("t1", meminfo=LTS_MEMINFO, vmstat=bare, virtio_features=NO_DEFLATE)
    *_, between = check_series([t0, t1])
    assert "virtio.memtotal-accounting" not in between.rules
    reasons = {skip.rule: skip.reason for skip in between.skipped}
    assert "no balloon_inflate and balloon_deflate" in reasons["virtio.memtotal-accounting"]


def test_driver_count_is_skipped_without_a_balloon_line() -> None:
    cap = capture(meminfo=LTS_MEMINFO, vmstat=lts_vmstat(300000), hv_balloon=HV)
    assert skip_reason(cap, "balloon.driver-agrees") == (
        "meminfo has no 'Balloon:' line (kernels print it from 6.15 on)"
    )
    assert skip_reason(capture(meminfo=MEMINFO), "balloon.driver-agrees").startswith(
        "no hv-balloon pages_ballooned"
    )


def test_rfc_counter_holds_what_the_vmstat_events_say() -> None:
    # InflatedTotal 2 GiB; the events say 1 GiB, then 2 GiB
    small = capture(meminfo=RFC_MEMINFO, vmstat=lts_vmstat(300000), virtio_features=NO_DEFLATE)
    assert findings(small, "rfc.accounting") == [("cap/proc/meminfo", 43, 18)]
    same = capture(meminfo=RFC_MEMINFO, vmstat=lts_vmstat(562144), virtio_features=NO_DEFLATE)
    assert findings(same, "rfc.accounting") == []
