"""The check engine and the rules: each rule holds on one capture and fails on another,
at the file, line and column it names."""

from __future__ import annotations

from pathlib import Path

from conformance.capture import Capture, CapturedFile
from conformance.check import CheckOptions, check_capture, check_series, kernel_version
from conformance.rules import RULES, describe, get_rule

from .test_pipeline import HV

BALLOON = {"device": "0x0005\n"}
PLAIN = "0110000000000000000000000000000010000000000000000000000000000000\n"


def capture(*files: tuple[str, str, str], name: str = "cap", **context: dict[str, str]) -> Capture:
    return Capture(
        name,
        tuple(
            CapturedFile(fmt, f"{name}/{path}", text.encode(), context.get(fmt, {}))
            for fmt, path, text in files
        ),
    )


def findings(result, rule_id: str | None = None) -> list[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    return [
        (d.id, d.location.path, d.location.line, d.location.column)
        for d in result.diagnostics
        if rule_id is None or d.id == rule_id
    ]


HV_PATH = "sys/kernel/debug/hv-balloon"


def test_clean_capture() -> None:
    result = check_capture(capture(("hv-balloon", HV_PATH, HV)))
    assert findings(result) == []
    assert "hv-balloon.onlined-within-added" in result.rules
    assert result.files == ("cap/sys/kernel/debug/hv-balloon",)


def test_onlined_within_added() -> None:
    text = HV.replace("pages_onlined         : 0", "pages_onlined         : 512")
    result = check_capture(capture(("hv-balloon", HV_PATH, text)))
    assert findings(result) == [("hv-balloon.onlined-within-added", "cap/" + HV_PATH, 6, 25)]
    assert result.diagnostics[0].severity.value == "warning"


def test_committed_covers_ballooned() -> None:
    text = HV.replace("pages_ballooned       : 0", "pages_ballooned       : 977791")
    assert findings(check_capture(capture(("hv-balloon", HV_PATH, text)))) == [
        ("hv-balloon.committed-covers-ballooned", "cap/" + HV_PATH, 8, 25)
    ]


def test_capabilities() -> None:
    text = HV.replace("enabled hot_add", "hot_add").replace(
        "pages_ballooned       : 0", "pages_ballooned       : 512"
    )
    assert findings(
        check_capture(capture(("hv-balloon", HV_PATH, text))), "hv-balloon.capabilities"
    ) == [("hv-balloon.capabilities", "cap/" + HV_PATH, 7, 25)]


FEATURES_PATH = "sys/bus/virtio/devices/virtio0/features"


def test_access_platform_never_set_for_a_balloon() -> None:
    bits = PLAIN[:33] + "1" + PLAIN[34:]
    ok = check_capture(
        capture(("virtio-features", FEATURES_PATH, PLAIN), **{"virtio-features": BALLOON})
    )
    bad = check_capture(
        capture(("virtio-features", FEATURES_PATH, bits), **{"virtio-features": BALLOON})
    )
    assert findings(ok) == []
    assert findings(bad) == [("virtio.no-access-platform", "cap/" + FEATURES_PATH, 1, 34)]


def test_modern_features_need_version_1() -> None:
    legacy = "0110010000000000000000000000000000000000000000000000000000000000\n"
    result = check_capture(
        capture(("virtio-features", FEATURES_PATH, legacy), **{"virtio-features": BALLOON})
    )
    assert findings(result) == [("virtio.modern-features", "cap/" + FEATURES_PATH, 1, 6)]
    with_v1 = legacy[:32] + "1" + legacy[33:]
    assert findings(check_capture(capture(("virtio-features", FEATURES_PATH, with_v1)))) == []


def test_single_driver() -> None:
    two = capture(
        ("hv-balloon", HV_PATH, HV),
        ("virtio-features", FEATURES_PATH, PLAIN),
        **{"virtio-features": BALLOON},
    )
    assert findings(check_capture(two), "balloon.single-driver") == [
        ("balloon.single-driver", "cap", 0, 0)
    ]


def test_strict_select_and_ignore() -> None:
    text = HV.replace("pages_onlined         : 0", "pages_onlined         : 512").replace(
        "page_size             :", "page_size :"
    )
    cap = capture(("hv-balloon", HV_PATH, text))
    assert {d.severity.value for d in check_capture(cap).diagnostics} == {"warning"}
    assert {
        d.severity.value for d in check_capture(cap, CheckOptions(strict=True)).diagnostics
    } == {"error"}
    only = check_capture(cap, CheckOptions(select=frozenset({"layout"})))
    assert [d.id for d in only.diagnostics] == ["layout.whitespace"]
    rest = check_capture(cap, CheckOptions(ignore=frozenset({"layout."})))
    assert [d.id for d in rest.diagnostics] == ["hv-balloon.onlined-within-added"]


def test_counters_never_go_backwards() -> None:
    t0 = capture(
        (
            "hv-balloon",
            HV_PATH,
            HV.replace("pages_added           : 0", "pages_added           : 1024"),
        ),
        name="t0",
    )
    t1 = capture(("hv-balloon", HV_PATH, HV), name="t1")
    *_, series = check_series([t0, t1])
    assert series.name == "series:t0 -> t1"
    assert findings(series) == [("series.counters-monotonic", "t1/" + HV_PATH, 5, 25)]
    grown = (
        capture(("hv-balloon", HV_PATH, HV), name="t0"),
        Capture("t1", tuple(CapturedFile(f.format, "t1/" + HV_PATH, f.data) for f in t0.files)),
    )
    *_, fine = check_series(grown)
    assert fine.name == "series:t0 -> t1"
    assert findings(fine) == []


def test_every_rule_is_documented() -> None:
    for rule in RULES:
        assert rule.title and rule.source and rule.example, rule.id
        assert get_rule(rule.id) is rule
        assert describe(rule.id).title == rule.title
    assert describe("schema.const").severity.value == "error"
    assert describe("layout.whitespace").severity.value == "warning"


def test_kernel_version() -> None:
    assert kernel_version("6.18.44-fc-v669") == (6, 18, 44)
    assert kernel_version("6.15") == (6, 15)
    assert kernel_version("weird") is None


def test_a_file_that_cannot_be_parsed_is_a_note_not_dropped() -> None:
    cap = Capture("cap", (CapturedFile("no-such-format", "cap/odd", b"x 1\n"),))
    result = check_capture(cap)
    assert [(d.id, d.severity.value, d.location.path) for d in result.diagnostics] == [
        ("capture.empty", "error", "cap"),
        ("capture.unknown-file", "note", "cap/odd"),
    ]


def test_what_a_rule_needs_is_asked_of_each_capture_of_a_run() -> None:
    """The part of a rule's needs that depends only on the formats read and the kernel is
    worked out once per kind of capture: it must still follow each capture's own kernel,
    files and conditions, in any order."""
    from conformance.check import _plan

    data = Path(__file__).parent / "data" / "meminfo"
    meminfo = (data / "capture-6.18.44-firecracker-virtio-balloon-guest.txt").read_text()
    rfc = (data / "template-rfc-v5-code-placement-inflated-total.txt").read_text()
    kinds = {
        "old": (capture(("meminfo", "proc/meminfo", meminfo)), "6.1.0"),
        "new": (capture(("meminfo", "proc/meminfo", meminfo)), "6.15.0"),
        "none": (capture(("meminfo", "proc/meminfo", meminfo)), None),
        "hv": (capture(("hv-balloon", HV_PATH, HV)), "6.15.0"),
    }
    reasons = {}
    for name in ("old", "new", "none", "hv", "old", "hv", "new"):
        found, kernel = kinds[name]
        result = check_capture(found, CheckOptions(kernel=kernel))
        skipped = {skip.rule: skip.reason for skip in result.skipped}
        assert reasons.setdefault(name, skipped) == skipped
        rule = get_rule("meminfo.balloon-line")
        assert (rule.id in result.rules) == (name == "new")
    assert reasons["old"]["meminfo.balloon-line"] == (
        "kernel 6.1.0 predates what the rule needs (6.15)"
    )
    assert "kernel release is unknown" in reasons["none"]["meminfo.balloon-line"]
    assert reasons["hv"]["meminfo.balloon-line"] == "no meminfo file in the capture"
    assert "hv-balloon.onlined-within-added" not in reasons["hv"]
    assert reasons["old"]["hv-balloon.onlined-within-added"] == "no hv-balloon file in the capture"
    # a condition is asked of each capture: the RFC lines in one meminfo, not the other
    no_lines = "meminfo has no InflatedTotal/InflatedFree lines (only RFC kernels print them)"
    no_mode = "no hv-balloon, vmmemctl or virtio balloon features file tells the accounting mode"
    for text, why in ((meminfo, no_lines), (rfc, no_mode), (meminfo, no_lines)):
        result = check_capture(capture(("meminfo", "proc/meminfo", text)), CheckOptions())
        assert {skip.rule: skip.reason for skip in result.skipped}["rfc.accounting"] == why
    assert _plan.cache_info().currsize >= 4
