"""The captures of a series in the order they were taken, cut where the guest rebooted.

A series is a guest seen at several moments. Snapshots are ordered by the ``time`` in their
``capture.json`` when every one has it (``series_index`` and the name break ties: times
have whole seconds), else by the natural order of their names, so ``t2`` comes before
``t10`` whatever order a shell glob gave. Event counters start again from zero at boot, so
a reboot between two snapshots (``boot_id`` differs, or ``uptime`` went back) ends one run
of captures and starts the next; the series rules compare captures of one boot only.
Plain functions of their inputs.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

from .capture import Capture
from .diagnostics import Diagnostic, Location, Severity
from .view import CaptureView

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[Any, ...]:
    """``t2`` before ``t10``: runs of digits compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name))


def taken_at(capture: Capture) -> datetime.datetime | None:
    """The ``time`` of the capture's manifest (UTC when it names no zone), or None."""
    value = (capture.manifest or {}).get("time")
    if not isinstance(value, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def in_order(captures: Sequence[Capture]) -> list[Capture]:
    """``captures`` in the order they were taken (see the module docstring)."""
    times = [taken_at(capture) for capture in captures]

    def index(capture: Capture) -> int:
        value = (capture.manifest or {}).get("series_index")
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

    if all(when is not None for when in times):
        keyed = sorted(
            zip(times, captures), key=lambda p: (p[0], index(p[1]), natural_key(p[1].name))
        )
        return [capture for _, capture in keyed]
    return sorted(captures, key=lambda c: natural_key(c.name))


def rebooted(before: CaptureView, after: CaptureView) -> str | None:
    """Why ``after`` belongs to another boot than ``before``; None when it may not."""
    old, new = before.manifest("boot_id"), after.manifest("boot_id")
    if isinstance(old, str) and isinstance(new, str) and old != new:
        return f"the boot id changed from {old} to {new}"
    up = [view.manifest("uptime") for view in (before, after)]
    numbers = all(isinstance(u, (int, float)) and not isinstance(u, bool) for u in up)
    if numbers and up[1] < up[0]:
        return f"the uptime went back from {up[0]} s to {up[1]} s"
    return None


def boots(views: Sequence[CaptureView]) -> list[list[CaptureView]]:
    """``views`` (in order) cut into runs of one boot each."""
    runs: list[list[CaptureView]] = []
    for view in views:
        if runs and rebooted(runs[-1][-1], view) is None:
            runs[-1].append(view)
        else:
            runs.append([view])
    return runs


def reboot_note(
    where: Location, runs: Sequence[Sequence[CaptureView]], run: Sequence[CaptureView]
) -> Diagnostic | None:
    """The note on the first capture of a run that a reboot started; None for the first."""
    position = next(i for i, r in enumerate(runs) if r is run)
    if position == 0:
        return None
    before = runs[position - 1][-1]
    why = rebooted(before, run[0])
    return Diagnostic(
        "series.reboot",
        Severity.NOTE,
        f"the guest rebooted after {before.capture.name} ({why}): a new series starts here",
        where,
        "event counters restart at boot, so captures of different boots are not compared",
    )
