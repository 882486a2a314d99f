"""The ``html`` report: one self-contained page, a picture of each series first.

For every series of the report (captures named ``.../t0``, ``.../t1`` ... of one folder)
the page draws a timeline in inline SVG, no script and no outside resource: what the host
asked (the target), what it saw (``actual``), the guest's balloon (meminfo ``Balloon:``,
else the vmstat events), MemTotal and MemAvailable, step by step, with each finding marked
at its step; then a table of the values and the findings with their rule and location.
Captures that are no series get their findings only.

Unlike the other reporters this one reads besides the report: the values it draws are in
the captures (``capture.json``'s ``host`` record, ``proc/meminfo``, ``proc/vmstat``), read
again from the paths the report names; a value it cannot read is left out of the picture.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..diagnostics import Diagnostic, Severity
from ..escape import escape
from .model import CaptureResult, Report
from .options import ReportOptions

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass

    from ..capture import Capture
else:
    from ..records import dataclass

SNAPSHOT = re.compile(r"t(\d+)")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 300, 70, 60, 34, 44
LINES = (
    # field of Step, label, colour, dash pattern
    ("target", "host target", "#1f77b4", "6 4"),
    ("actual", "host actual", "#ff7f0e", ""),
    ("balloon", "guest balloon", "#2ca02c", ""),
    ("memtotal", "MemTotal", "#9467bd", ""),
    ("available", "MemAvailable", "#8c564b", "2 3"),
)
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:right}th{background:#f3f3f3}td.step{text-align:left}
.finding.error .sev{color:#b00020}.finding.warning .sev{color:#a86400}
.location{font-family:monospace}.legend span{margin-right:1.2em;white-space:nowrap}
.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
"""


@dataclass(frozen=True)
class Step:
    """One snapshot's values, in MiB (None: not known)."""

    name: str
    label: str
    target: float | None = None
    actual: float | None = None
    balloon: float | None = None
    memtotal: float | None = None
    available: float | None = None


def write_html(report: Report, stream: TextIO, options: ReportOptions) -> None:
    """Write ``report`` as one HTML page with a timeline per series."""
    totals = report.totals()
    stream.write('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    stream.write(f"<title>balloon-conform report</title>\n<style>{STYLE}</style>\n</head>\n")
    stream.write('<body>\n<h1>balloon-conform report</h1>\n<p class="summary">')
    stream.write(
        f"{totals.captures} captures, {totals.files} files: {totals.errors} errors, "
        f"{totals.warnings} warnings, {totals.notes} notes; balloon-conform {_t(report.version)}"
    )
    if options.timestamp:
        stream.write(f"; {_t(options.timestamp)}")
    stream.write("</p>\n")
    for number, (folder, results) in enumerate(_groups(report.captures), 1):
        steps = [_step(r.name) for r in results if not r.series] if folder else []
        if len(steps) >= 2:
            _write_series(stream, number, folder, steps, results)
        else:
            _write_plain(stream, number, results)
    stream.write("</body>\n</html>\n")


def _groups(captures: Iterable[CaptureResult]) -> list[tuple[str, list[CaptureResult]]]:
    """The results by series folder, in the order first seen; ``""`` for plain captures.
    A series' own result (``series`` true) joins the folder its findings are in."""
    groups: dict[str, list[CaptureResult]] = {}
    plain: list[CaptureResult] = []
    pending: list[CaptureResult] = []
    for result in captures:
        if result.series:
            pending.append(result)
            continue
        path = Path(result.name)
        if SNAPSHOT.fullmatch(path.name):
            groups.setdefault(str(path.parent), []).append(result)
        else:
            plain.append(result)
    for result in pending:
        # its name lists its captures: "series:A/t0 -> A/t1"
        named = result.name.split(":", 1)[-1].split(" -> ")
        paths = [d.location.path for d in result.diagnostics] + [n.strip() for n in named]
        folder = next((f for f in groups if any(p.startswith(f + "/") for p in paths)), None)
        (groups[folder] if folder is not None else plain).append(result)
    found = list(groups.items())
    return found + ([("", plain)] if plain else [])


def _step(name: str) -> Step:
    """The values of the capture directory ``name``, as far as they can be read: read as
    every capture is (:func:`~conformance.capture.read_capture`: links refused, reads
    bounded, the manifest's unsound members left out), never by following its paths."""
    from ..capture import read_capture  # the reader loads for an html report only

    folder = Path(name)
    capture = read_capture(folder)
    manifest = capture.manifest or {}
    record = manifest.get("host")
    host: dict = record if isinstance(record, dict) else {}  # type: ignore[type-arg]
    meminfo = _numbers(capture, "meminfo")
    vmstat = _numbers(capture, "vmstat")
    memory = host.get("memory")
    size = manifest.get("page_size")
    page = size if isinstance(size, int) else 4096
    balloon = _kb(meminfo.get("Balloon"))
    if balloon is None and "balloon_inflate" in vmstat and "balloon_deflate" in vmstat:
        balloon = (vmstat["balloon_inflate"] - vmstat["balloon_deflate"]) * page / (1 << 20)
    return Step(
        name=name,
        label=str(host.get("step") or folder.name),
        target=_bytes(host.get("requested_target")),
        actual=_bytes(host.get("actual")) if isinstance(memory, int) else None,
        balloon=balloon,
        memtotal=_kb(meminfo.get("MemTotal")),
        available=_kb(meminfo.get("MemAvailable")),
    )


def _numbers(capture: Capture, format_id: str) -> dict[str, int]:
    """``Name: value kB`` and ``name value`` lines of the capture's first file of
    ``format_id`` as numbers; other lines are skipped."""
    files = capture.of_format(format_id)
    if not files:
        return {}
    text = files[0].data.decode("utf-8", errors="replace")
    found = {}
    for line in text.splitlines():
        words = line.replace(":", " ").split()
        if len(words) >= 2 and words[1].isdigit():
            found[words[0]] = int(words[1])
    return found


def _kb(value: int | None) -> float | None:
    return value / 1024 if isinstance(value, int) else None


def _bytes(value: object) -> float | None:
    return value / (1 << 20) if isinstance(value, int) and not isinstance(value, bool) else None


def _step_of(diagnostic: Diagnostic, steps: Sequence[Step]) -> int:
    """The index of the step a finding belongs to: the capture its location is in."""
    path = diagnostic.location.path
    for index, step in enumerate(steps):
        if path == step.name or path.startswith(step.name + "/"):
            return index
    return len(steps) - 1


def _write_series(
    stream: TextIO, number: int, folder: str, steps: list[Step], results: list[CaptureResult]
) -> None:
    findings = [(d, _step_of(d, steps)) for r in results for d in r.diagnostics]
    stream.write(f'<section class="series" id="series-{number}">\n<h2>{_t(folder)}</h2>\n')
    stream.write("<figure>\n" + _svg(steps, findings) + '\n<figcaption class="legend">')
    for _, label, colour, _ in LINES:
        stream.write(f'<span><i style="background:{colour}"></i>{label}</span>')
    stream.write('<span><i style="background:#d00000"></i>findings</span>')
    stream.write("</figcaption>\n</figure>\n")
    stream.write('<table class="steps">\n<tr><th>step</th><th>scenario</th>')
    stream.write("".join(f"<th>{label} (MiB)</th>" for _, label, _, _ in LINES))
    stream.write("<th>findings</th></tr>\n")
    for index, step in enumerate(steps):
        count = sum(1 for _, at in findings if at == index)
        cells = "".join(f"<td>{_mib(getattr(step, field))}</td>" for field, *_ in LINES)
        stream.write(f'<tr id="s{number}-t{index}"><td class="step">t{index}</td>')
        stream.write(f'<td class="step">{_t(step.label)}</td>{cells}<td>{count}</td></tr>\n')
    stream.write("</table>\n")
    _write_findings(stream, findings)
    stream.write("</section>\n")


def _write_plain(stream: TextIO, number: int, results: list[CaptureResult]) -> None:
    stream.write(f'<section class="captures" id="captures-{number}">\n<h2>captures</h2>\n')
    for result in results:
        stream.write(f"<h3>{_t(result.name)}</h3>\n")
        _write_findings(stream, [(d, None) for d in result.diagnostics])
    stream.write("</section>\n")


def _write_findings(stream: TextIO, findings: Sequence[tuple[Diagnostic, int | None]]) -> None:
    if not findings:
        stream.write('<p class="clean">no findings</p>\n')
        return
    stream.write('<ol class="findings">\n')
    for diagnostic, step in findings:
        at = "" if step is None else f' data-step="{step}"'
        sev = diagnostic.severity.value
        stream.write(f'<li class="finding {sev}" data-rule="{_t(diagnostic.id)}"{at}>')
        stream.write(f'<code class="rule">{_t(diagnostic.id)}</code> <span class="sev">{sev}')
        stream.write(f'</span> <span class="location">{_t(str(diagnostic.location))}</span>')
        where = "" if step is None else f" (t{step})"
        stream.write(f"{where}: {_t(diagnostic.message)}</li>\n")
    stream.write("</ol>\n")


@dataclass(frozen=True)
class Scale:
    """Where a step and a value in MiB stand in the chart."""

    steps: int
    top: float
    tick: float

    def x(self, index: int) -> float:
        return LEFT + index * (WIDTH - LEFT - RIGHT) / max(self.steps - 1, 1)

    def y(self, value: float) -> float:
        return TOP + (1 - value / self.top) * (HEIGHT - TOP - BOTTOM)


def _svg(steps: list[Step], findings: Sequence[tuple[Diagnostic, int]]) -> str:
    values = [_value(s, f) for s in steps for f, *_ in LINES]
    highest = max([v for v in values if v is not None] + [1.0])
    tick = _tick(highest)
    scale = Scale(len(steps), tick * math.ceil(highest / tick), tick)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="balloon timeline">'
    ]
    parts += _axes(scale, steps)
    parts += _lines(scale, steps)
    parts += _markers(scale, findings)
    parts.append("</svg>")
    return "\n".join(parts)


def _tick(value: float) -> float:
    """A grid step of 1, 2, 2.5 or 5 x 10^k that divides ``value`` into at most six."""
    rough = value / 6
    power = 10.0 ** math.floor(math.log10(rough)) if rough > 0 else 1.0
    return next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= rough)


def _value(step: Step, field: str) -> float | None:
    value = getattr(step, field)
    return float(value) if isinstance(value, (int, float)) else None


def _axes(scale: Scale, steps: list[Step]) -> list[str]:
    parts = []
    for tick in range(round(scale.top / scale.tick) + 1):
        value = tick * scale.tick
        at = scale.y(value)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at:.1f}" y2="{at:.1f}" '
            f'stroke="#e4e4e4"/><text x="{LEFT - 6}" y="{at + 4:.1f}" font-size="11" '
            f'text-anchor="end">{value:g}</text>'
        )
    parts.append(f'<text x="12" y="{TOP - 12}" font-size="11">MiB</text>')
    for index, step in enumerate(steps):
        at = scale.x(index)
        parts.append(
            f'<text x="{at:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle">t{index}</text><text x="{at:.1f}" '
            f'y="{HEIGHT - BOTTOM + 30}" font-size="10" text-anchor="middle" '
            f'fill="#666">{_t(step.label[:24])}</text>'
        )
    return parts


def _lines(scale: Scale, steps: list[Step]) -> list[str]:
    parts = []
    for field, label, colour, dash in LINES:
        points = [
            (scale.x(i), scale.y(v), v)
            for i, s in enumerate(steps)
            if (v := _value(s, field)) is not None
        ]
        if not points:
            continue
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="line" data-series="{label}" points="{line}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dashed}/>'
        )
        parts += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
            f"<title>{label}: {v:.1f} MiB</title></circle>"
            for px, py, v in points
        ]
    return parts


def _markers(scale: Scale, findings: Sequence[tuple[Diagnostic, int]]) -> list[str]:
    parts = []
    for index in sorted({at for _, at in findings}):
        here = [d for d, at in findings if at == index]
        ids = ", ".join(sorted({d.id for d in here}))
        worst = max(d.severity for d in here)
        colour = "#d00000" if worst is Severity.ERROR else "#d08000"
        at = scale.x(index)
        parts.append(
            f'<g class="marker" data-step="{index}"><line x1="{at:.1f}" x2="{at:.1f}" '
            f'y1="{TOP - 6}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" stroke-dasharray="3 3"/>'
            f'<circle cx="{at:.1f}" cy="{TOP - 14}" r="9" fill="{colour}"><title>{_t(ids)}'
            f'</title></circle><text x="{at:.1f}" y="{TOP - 10}" font-size="11" fill="#fff" '
            f'text-anchor="middle">{len(here)}</text></g>'
        )
    return parts


def _mib(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _t(text: str) -> str:
    """Text from a capture, safe in HTML: control characters escaped, then markup."""
    return html.escape(escape(text))


write_page = write_html
"""The name :mod:`conformance.report.targets` calls a page writer by."""
