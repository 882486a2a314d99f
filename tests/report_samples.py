"""Reports built by hand for the reporter tests, and their golden outputs.

The reports do not come from the rule engine: they are written here value by value, so the
reporter tests hold whatever the engine does. ``MIXED`` has two captures and a series, the
three severities, findings with and without hints, line or column, one id the capture's
rule list lacks, and paths that need escaping in every output format; ``CLEAN`` is a run
with nothing to report; ``SKIPPED`` is a clean run in which some checks could not run,
with reasons that need escaping.

``tests/data/reports/<name>.<format>`` holds the output of each reporter for each report.
``python -m tests.report_samples`` rewrites them from the current reporters; review the
diff before committing it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from conformance.diagnostics import Diagnostic, Location, Severity
from conformance.report import REPORTERS, ReportOptions, write_report
from conformance.report.model import CaptureResult, Report, Skip
from conformance.rules.base import RuleInfo, Scope

REPORTS = Path(__file__).parent / "data" / "reports"
SUFFIX = {
    "text": "txt",
    "json": "json",
    "junit": "junit.xml",
    "junit-gitlab": "junit-gitlab.xml",
    "sarif": "sarif.json",
    "github": "github.txt",
    "gitlab": "codequality.json",
}
"""The golden file of report NAME in format F is ``NAME.<SUFFIX[F]>``."""

T0, T1 = "captures/t0", "captures/t1 50%,done:x"
HV0, MEM0 = f"{T0}/sys/kernel/debug/hv-balloon", f"{T0}/proc/meminfo"
MEM1, VIRTIO1 = f"{T1}/proc/meminfo", f"{T1}/sys/bus/virtio/drivers/virtio_balloon/features"
SERIES = f"series:{T0}..{T1}"

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE


def _info(
    rule_id: str, severity: Severity, scope: Scope, title: str, source: str, **kw: str
) -> RuleInfo:
    return RuleInfo(rule_id, severity, scope, title, source, **kw)


CATALOGUE = {
    info.id: info
    for info in (
        _info("schema.maximum", E, Scope.FILE, "Values within the C type's range", "schemas/"),
        _info("layout.whitespace", W, Scope.FILE, "Kernel spacing", "the printf template"),
        _info("parse.unknown-key", W, Scope.FILE, "Known keys only", "the kernel's key list"),
        _info(
            "hv-balloon.pages-accounting",
            E,
            Scope.FILE,
            "Ballooned pages add up",
            "drivers/hv/hv_balloon.c: num_pages_ballooned counts every page given back",
            tolerance="none: one read of one file",
        ),
        _info(
            "meminfo.total-bound",
            N,
            Scope.CAPTURE,
            "MemTotal bounds the balloon",
            "Documentation/filesystems/proc.rst: MemTotal is total usable RAM",
            tolerance="64 kB, since /proc/meminfo and the balloon file are not read at once",
            example="MemTotal: 1024 kB with 2048 kB ballooned",
        ),
        _info(
            "series.monotonic-counters",
            E,
            Scope.SERIES,
            "Counters never go down",
            "Documentation/admin-guide/mm/balloon: the counters are cumulative",
        ),
        _info("virtio.features-known", N, Scope.FILE, "Known feature bits", "virtio spec 5.5.3"),
    )
}


def _d(
    rule_id: str,
    severity: Severity,
    message: str,
    path: str,
    line: int = 0,
    column: int = 0,
    hint: str = "",
    pointer: str = "",
) -> Diagnostic:
    return Diagnostic(rule_id, severity, message, Location(path, line, column), hint, pointer)


# Given out of order on purpose: the reporters sort.
CAPTURE_T0 = CaptureResult(
    name=T0,
    files=(MEM0, HV0),
    diagnostics=(
        _d("hv-balloon.pages-accounting", E, "pages ballooned 512 != 256 + 128", HV0, 9, 1),
        _d(
            "schema.maximum",
            E,
            "/host_version/major: 65536 is greater than 65535",
            HV0,
            4,
            21,
            hint="schema path: properties/host_version/major/maximum",
            pointer="/host_version/major",
        ),
        _d(
            "layout.whitespace",
            W,
            "expected 8 spaces, found a tab",
            MEM0,
            3,
            14,
            hint='the kernel pads with spaces: seq_printf("%-15s%8lu kB")',
        ),
        _d("hv-balloon.pages-accounting", E, "pages added 10 < pages onlined 12", HV0, 7),
        _d("meminfo.total-bound", N, "MemTotal is within 64 kB of the bound", MEM0),
    ),
    rules=(
        "schema.maximum",
        "layout.whitespace",
        "hv-balloon.pages-accounting",
        "meminfo.total-bound",
    ),
)

CAPTURE_T1 = CaptureResult(
    name=T1,
    files=(MEM1, VIRTIO1),
    diagnostics=(
        _d("parse.unknown-key", W, "unknown key 'Foo%bar'\nsecond line, with: colon", MEM1, 5),
        _d("virtio.features-known", N, "bit 63 is not a known feature", VIRTIO1, 1, 64),
    ),
    rules=("schema.maximum", "virtio.features-known", "meminfo.total-bound"),
)

CAPTURE_SERIES = CaptureResult(
    name=SERIES,
    files=(),
    diagnostics=(
        _d(
            "series.monotonic-counters",
            E,
            "pswpin went down from 120 to 80",
            SERIES,
            hint="a counter that goes down means the guest rebooted between captures",
        ),
    ),
    rules=("series.monotonic-counters",),
    series=True,
)

MIXED = Report("0.1.0", (CAPTURE_T0, CAPTURE_T1, CAPTURE_SERIES), CATALOGUE)

CLEAN = Report(
    "0.1.0",
    (CaptureResult(T0, (MEM0, HV0), (), ("schema.maximum", "hv-balloon.pages-accounting")),),
    {k: CATALOGUE[k] for k in ("schema.maximum", "hv-balloon.pages-accounting")},
)

UNKNOWN_RELEASE = "the kernel release is unknown (no kernel_release in capture.json; give --kernel)"
SKIPPED = Report(
    "0.1.0",
    (
        CaptureResult(
            T0,
            (MEM0,),
            (),
            ("schema.maximum",),
            (
                Skip("hv-balloon.pages-accounting", "no hv-balloon file in the capture"),
                Skip("meminfo.total-bound", UNKNOWN_RELEASE),
            ),
        ),
        CaptureResult(
            T1,
            (MEM1,),
            (),
            ("schema.maximum",),
            (Skip("meminfo.total-bound", 'kernel 6.1 predates what <the> rule & "needs" (6.15%)'),),
        ),
    ),
    {
        k: CATALOGUE[k]
        for k in ("schema.maximum", "hv-balloon.pages-accounting", "meminfo.total-bound")
    },
)

SAMPLES = {"mixed": MIXED, "clean": CLEAN, "skipped": SKIPPED}


def render(report: Report, format: str, options: ReportOptions | None = None) -> str:
    """What reporter ``format`` writes for ``report`` (no colour unless asked for)."""
    stream = io.StringIO()
    write_report(report, format, stream, options or ReportOptions(environ={}))
    return stream.getvalue()


def golden(name: str, format: str) -> Path:
    """The golden file of sample report ``name`` in output format ``format``."""
    return REPORTS / f"{name}.{SUFFIX[format]}"


def main() -> int:
    """Rewrite every golden file from the current reporters."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    for name, report in SAMPLES.items():
        for format in REPORTERS:
            path = golden(name, format)
            path.write_text(render(report, format), encoding="utf-8")
            print(f"wrote {path.relative_to(REPORTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
