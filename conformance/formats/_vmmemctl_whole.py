"""The instance of a ``vmmemctl`` file printed exactly as its kernel prints it, read fast.

Nearly every real file is one generation's lines, all of them, in the kernel's own
layout. Such a file is read here without a step of string work per line: one regular
expression of the whole file (made once per generation and set of optional lines) finds
every value, and the file is printed back through one format string made with it, whose
fields are the kernel's printf templates (:func:`~._vmmemctl_lines.render_line`'s
widths); the instance is kept only when that gives the very bytes read. What a print-back
cannot see is checked too: numbers in the range of their C type, and capability bits a
driver defines (others are a note). Anything else gives None, and the line reader reads
the file and reports on it.

A file is whole when it has every line of its generation: generation C's shrinker pair
may be absent (5.3 added it), but no line of generation B (whose gaps are a note of the
line reader's) nor of A.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable

from ._vmmemctl_lines import (
    BITS,
    GEN_C,
    HEAD_KINDS,
    SLOTS,
    Kind,
    Slot,
    capability_names,
    prefix_of,
)

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

_UNSIGNED = "(0|[1-9][0-9]{0,39})"
_SIGNED = "(0|-?[1-9][0-9]{0,39})"
"""Decimals as printf prints them (no leading zero, no plus); the range is checked after.
Bounded, so that ``int`` never reads a huge run."""
_HEX = "(0|0x[1-9a-f][0-9a-f]{0,15})"
"""``%#x`` of a mask: a bare zero, else ``0x`` and lowercase digits, no leading zero."""

_NUMBER, _COMMAND, _CAPS, _RESETTING = range(4)
"""What a slot takes from the values read: one number, two, a mask, a flag."""


@dataclass(frozen=True)
class _Whole:
    """One generation's whole file with a given set of lines: the pattern that finds its
    values, the format string that prints them back (every field a string, as read),
    and where each value goes."""

    pattern: re.Pattern[str]
    template: str
    numbers: Callable[[tuple[str, ...]], tuple[str, ...]]
    """The decimal groups of a match, in order."""
    signed: tuple[int, ...]
    """Indexes among those of the values printed with %d of an unsigned int."""
    masks: tuple[tuple[int, int], ...]
    """``(group, bits)`` of each capability mask."""
    runs: tuple[tuple[tuple[str, ...], int, tuple[str, ...], tuple[int, ...]], ...]
    """``(parents, what, keys, groups)`` of each run of neighbouring slots that take the
    same kind of value into the same object, in file order: filled a run at a time."""


def kernel_instance(text: str, dialect: str) -> dict[str, Any] | None:
    """The instance of ``text`` read as generation ``dialect``, or None when the text
    is not the very bytes the kernel prints for a whole file of it, or the line reader
    would report anything on it."""
    for whole in _wholes(dialect):
        match = whole.pattern.fullmatch(text)
        if match is not None:
            groups = match.groups()
            if whole.template.format(*groups) != text:
                return None  # padding the kernel's widths do not give
            return _instance(whole, groups, BITS[dialect])
    return None


def _instance(whole: _Whole, groups: tuple[str, ...], bits: int) -> dict[str, Any] | None:
    numbers = list(map(int, whole.numbers(groups)))
    # every decimal is unsigned but for the %d sizes and rates of generations A and B
    if max(numbers) >> bits or any(not -(1 << 31) <= numbers[i] < 1 << 31 for i in whole.signed):
        return None
    masks = {}
    for group, width in whole.masks:
        mask = int(groups[group], 16)
        names = _defined_names(mask)
        if mask >> width or names is None:
            return None  # a bit no driver defines is a note of the line reader's
        masks[group] = {"mask": mask, "names": list(names)}
    instance: dict[str, Any] = {}
    at = 0
    for parents, what, keys, starts in whole.runs:
        node = instance
        for part in parents:
            node = node.setdefault(part, {})
        if what == _NUMBER:
            node.update(zip(keys, numbers[at : at + len(keys)]))
            at += len(keys)
        elif what == _COMMAND:
            pairs = iter(numbers[at : at + 2 * len(keys)])
            node.update(zip(keys, [{"count": c, "failed": f} for c, f in zip(pairs, pairs)]))
            at += 2 * len(keys)
        elif what == _CAPS:
            node.update(zip(keys, [masks[group] for group in starts]))
        else:
            node[keys[0]] = groups[starts[0]] == "y"
    return instance


@lru_cache(maxsize=64)
def _defined_names(mask: int) -> tuple[str, ...] | None:
    """The names of the capabilities set in ``mask``, or None when a bit no driver
    defines is set (the masks of a fleet are a few: worked out once each)."""
    names = capability_names(mask)
    return None if any(name.startswith("bit") for name in names) else tuple(names)


@cache
def _wholes(dialect: str) -> tuple[_Whole, ...]:
    """The whole files of ``dialect``: every line, and for generation C also every line
    but the optional shrinker pair."""
    every = SLOTS[dialect]
    if dialect != GEN_C:
        return (_whole(dialect, every),)
    return (_whole(dialect, every), _whole(dialect, tuple(s for s in every if not s.optional)))


def _whole(dialect: str, slots: tuple[Slot, ...]) -> _Whole:
    patterns, fields = [], []
    numbers: list[int] = []
    signed: list[int] = []
    masks: list[tuple[int, int]] = []
    places = []
    count = 0
    separator = dialect != GEN_C  # A and B print one empty line before the counters
    for slot in slots:
        if separator and slot.kind not in HEAD_KINDS:
            patterns.append("\n")
            fields.append("\n")
            separator = False
        value, printed, what = _field(slot, dialect)
        group = count  # index of the slot's first group: labels hold none, values a few
        count += re.compile(value).groups  # a handful of value patterns, cached by re
        if what == _CAPS:
            masks.append((group, 32 if slot.label.startswith("balloon") else 64))
        elif what != _RESETTING:
            if _signed(slot, dialect):
                signed.append(len(numbers))
            numbers += range(group, group + (2 if what == _COMMAND else 1))
        prefix = prefix_of(slot, dialect)
        patterns.append(re.escape(prefix) + value + "\n")
        fields.append(prefix.replace("{", "{{").replace("}", "}}") + printed + "\n")
        places.append((slot.parts[:-1], what, slot.parts[-1], group))
    return _Whole(
        re.compile("".join(patterns)),
        "".join(fields),
        itemgetter(*numbers),
        tuple(signed),
        tuple(masks),
        _runs(places),
    )


def _runs(
    places: list[tuple[tuple[str, ...], int, str, int]],
) -> tuple[tuple[tuple[str, ...], int, tuple[str, ...], tuple[int, ...]], ...]:
    """``(parents, what, key, group)`` of each slot gathered into runs (see ``_Whole.runs``)."""
    runs: list[tuple[tuple[str, ...], int, tuple[str, ...], tuple[int, ...]]] = []
    for parents, what, key, group in places:
        if runs and runs[-1][:2] == (parents, what) and what != _RESETTING:
            last = runs[-1]
            runs[-1] = (parents, what, (*last[2], key), (*last[3], group))
        else:
            runs.append((parents, what, (key,), (group,)))
    return tuple(runs)


def _field(slot: Slot, dialect: str) -> tuple[str, str, int]:
    """The pattern of a line's value (after its label), its format-string field (of the
    value as read, a string) as :func:`~._vmmemctl_lines.render_line` prints it, and what
    the slot takes. Each pattern's leading spaces are followed by a character they cannot
    match: linear."""
    wide = dialect == GEN_C
    kind = slot.kind
    if kind is Kind.CAPS:
        return " *" + _HEX, "{:>16}" if wide else "{:>4}", _CAPS
    if kind is Kind.RESETTING:
        return " *([yn])", "{:>16}" if wide else "{:>1}", _RESETTING
    if kind is Kind.COMMAND:
        if wide:
            return rf" *{_UNSIGNED} \({_UNSIGNED} failed\)", "{:>16} ({} failed)", _COMMAND
        return rf" *{_UNSIGNED} \( *{_UNSIGNED} failed\)", "{:>8} ({:>4} failed)", _COMMAND
    if wide:
        return " *" + _UNSIGNED, "{:>16}", _NUMBER
    suffix = {Kind.SIZE: " pages", Kind.RATE: " pages/sec"}.get(kind, "")
    number = _SIGNED if _signed(slot, dialect) else _UNSIGNED
    return " *" + number + re.escape(suffix), "{:>8}" + suffix, _NUMBER


def _signed(slot: Slot, dialect: str) -> bool:
    """Generations A and B print sizes and rates with %d of an unsigned int."""
    return dialect != GEN_C and slot.kind in (Kind.SIZE, Kind.RATE)
