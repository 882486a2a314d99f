"""Helpers for files made of ``label: value`` lines in a fixed order.

hv-balloon, vmmemctl and the virtio-balloon debugfs file print a fixed list of labels;
what goes wrong with them is always one of: a label the kernel never prints, a label
twice, a label missing, or labels out of order. :func:`check_sequence` reports all four
the same way for every such format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..text import Line, ParseBuilder, clip


def split_label(line: Line) -> tuple[str, str, int] | None:
    """``(label, value, value_column)`` of a ``label: value`` line, or None.

    Lenient: any whitespace around the first colon. Written with str methods, not a
    regular expression, so a line of a million spaces costs linear time.
    """
    return split_text(line.text)


def split_text(text: str) -> tuple[str, str, int] | None:
    """:func:`split_label` of a line's text."""
    label, colon, rest = text.partition(":")
    if not colon:
        return None
    value = rest.strip()
    column = len(label) + 1 + (len(rest) - len(rest.lstrip())) + 1
    return label.strip(), value, column


def check_sequence(
    builder: ParseBuilder,
    found: Sequence[tuple[str, Line]],
    expected: Sequence[str],
    what: str,
    after_line: int = 0,
    pointers: Mapping[str, str] | None = None,
) -> None:
    """Report unknown, duplicated, missing and out-of-order labels.

    ``found`` lists ``(label, line)`` in input order; ``expected`` is the kernel's order.
    A missing label is reported where it should have stood: on the line after the last
    expected label before it that was present (``after_line`` when none was), with the
    JSON pointer of its value (``pointers[label]``, default ``/label``) so the schema's
    ``required`` failure for the same value is not reported again.
    """
    order = {label: index for index, label in enumerate(expected)}
    seen: dict[str, Line] = {}
    highest = -1
    for label, line in found:
        if label not in order:
            builder.error(
                "parse.unknown-label",
                f"{what} has no line {clip(label)!r}",
                line.number,
                1,
                hint="known labels: " + ", ".join(expected),
            )
            continue
        if label in seen:
            builder.error(
                "parse.duplicate-line",
                f"{clip(label)!r} appears twice (first on line {seen[label].number})",
                line.number,
                1,
            )
            continue
        seen[label] = line
        if order[label] < highest:
            builder.error(
                "parse.order",
                f"{label!r} is out of order: the kernel prints it before {expected[highest]!r}",
                line.number,
                1,
            )
        highest = max(highest, order[label])
    last = after_line
    for label in expected:
        if label in seen:
            last = seen[label].number
            continue
        builder.error(
            "parse.missing-line",
            f"{what} lacks the line {label!r}",
            last + 1,
            1,
            pointer=(pointers or {}).get(label, "/" + label),
        )
