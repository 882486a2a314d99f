"""GitHub annotations written besides the chosen report, within what GitHub shows.

GitHub shows at most 10 error, 10 warning and 10 notice annotations of one step and drops
the rest without a word. :func:`write_limited_annotations` writes at most that many of
each kind (the ``github`` reporter's commands, in its order), and when some are left
out, the last notice slot says in one line how many of each kind, and where they all are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from .github import finding_commands, skipped_notices
from .model import Report
from .options import plural

PER_STEP = 10
"""GitHub's display limit per kind of annotation and per step."""
KINDS = ("error", "warning", "notice")


def write_limited_annotations(report: Report, stream: TextIO, limit: int = PER_STEP) -> None:
    """Write the annotations of ``report`` to ``stream``, at most ``limit`` of each kind,
    and one notice saying how many were left out when some were."""
    shown = dict.fromkeys(KINDS, 0)
    left = dict.fromkeys(KINDS, 0)
    held: list[str] = []  # the notice that waits for the summary's slot
    for kind, line in _commands(report):
        room = limit - 1 if kind == "notice" else limit  # one notice kept for the summary
        if shown[kind] < room:
            shown[kind] += 1
            stream.write(line + "\n")
        elif kind == "notice" and not held:
            held.append(line)
        else:
            left[kind] += 1
    if not any(left.values()):
        for line in held:  # nothing left out: the kept slot takes the notice it held
            stream.write(line + "\n")
        return
    if held:
        left["notice"] += 1
    counts = ", ".join(plural(n, k) for k, n in left.items() if n)
    stream.write(
        f"::notice title=balloon-conform::{counts} more not annotated (GitHub shows "
        f"{limit} of each kind per step): see the report or the step summary\n"
    )


def _commands(report: Report) -> Iterator[tuple[str, str]]:
    for line in finding_commands(report):
        yield line[2 : line.index(" ")], line
    for line in skipped_notices(report):
        yield "notice", line
