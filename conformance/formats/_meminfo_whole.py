"""``/proc/meminfo`` printed exactly as the kernel prints it, read with no Python step a line.

Nearly every real file is known fields in the kernel's own layout. :func:`kernel_file`
finds the keys and values with one regular expression and prints the file back through
one format string made once per list of keys (the files of a fleet share a few); a file
that is not those very bytes, or that the line reader would report on, is left to
:mod:`conformance.formats.meminfo`'s line reader.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..model import ParseResult
from ..text import LazySourceMap, Source, ascii_text, pointer_token
from ._meminfo_layout import INFLATED, KNOWN, PRINTED_BEFORE_INFLATED, label_width, template

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

FORMAT_ID = "meminfo"
_FIELD = re.compile(r"^([A-Za-z0-9_()]+):[ ]*(0|[1-9][0-9]{0,19})", re.MULTILINE)
"""The key and the digits at the start of each ``Key: value`` line, as ``%lu`` prints them
(no leading zero: the file is printed back from these very digits). Linear: anchored at
line starts, and each part is told from the next by its first character."""
U64_MAX = 2**64 - 1
S64_MAX = 2**63 - 1


def kernel_file(data: Source, dialect: str | None) -> ParseResult | None:
    """The result of a file whose every line is a known field printed exactly as the
    kernel prints it (as nearly every real file is), with no Python work per line: the
    keys and values are found by one regular expression, and the file is printed back
    through one format string made once per list of keys (a fleet's files share a few);
    a file that is not those very bytes is None, for the line reader to read and report
    on. Such a file has no finding in either layout and no 2.4 header; it is RFC meminfo
    when it has the Inflated pair (placed where the RFC's code prints it), else 2.6. Its
    source map is worked out only if something asks for it."""
    if dialect == "2.4":
        return None
    text = ascii_text(data)
    if text is None:
        return None
    fields = _FIELD.findall(text)
    if not fields or len(fields) > len(KNOWN):
        return None  # a known key twice, at least: the line reader says which
    keys, digits = zip(*fields)
    # the label width is told from the MemTotal line, as the line reader tells it
    at = 0 if text.startswith("MemTotal:") else text.find("\nMemTotal:") + 1
    memtotal = text[at : text.find("\n", at)] if at or text.startswith("MemTotal:") else ""
    printed = _printed(keys, label_width(memtotal))
    if printed is None:
        return None
    values = list(map(int, digits))
    # the Inflated pair is printed signed (%8ld): its values stop at the s64's maximum
    limit = S64_MAX if printed.inflated else U64_MAX
    if max(values) > limit or printed.template % digits != text:
        return None
    instance = dict(zip(keys, values))
    found = dialect or ("rfc" if printed.inflated else "2.6")
    return ParseResult(FORMAT_ID, found, instance, LazySourceMap(_source_map, text))


@dataclass(frozen=True)
class _Printed:
    """How the kernel prints a list of keys: a format string of the whole file, and
    whether the RFC's Inflated pair is among them."""

    template: str
    """A ``%``-format string of the whole file, one ``%Ns`` per value's digits."""
    inflated: bool


@lru_cache(maxsize=64)
def _printed(keys: tuple[str, ...], width: int) -> _Printed | None:
    """How the kernel prints ``keys`` in that order at the label ``width``; None when a
    key is unknown or comes twice, or the keys would be a finding of the line reader (one
    Inflated line without the other, the pair before a field the RFC prints ahead of it)."""
    if len(set(keys)) != len(keys) or not KNOWN.issuperset(keys):
        return None
    inflated = [index for index, key in enumerate(keys) if key in INFLATED]
    if inflated and len(inflated) != len(INFLATED):
        return None
    if inflated and not PRINTED_BEFORE_INFLATED.isdisjoint(keys[inflated[0] :]):
        return None
    lines = []
    for key in keys:
        shape = template(key, width)
        label = f"{key}:".ljust(shape.label_width)
        unit = " kB" if shape.unit else ""
        # the digits as read, right-aligned as %lu pads them: printf-style formatting of
        # strings is the cheapest print-back there is
        lines.append(f"{label.replace('%', '%%')}%{shape.value_width}s{unit}\n")
    return _Printed("".join(lines), bool(inflated))


def _source_map(text: str) -> dict[str, tuple[int, int]]:
    """Where each value of a file :func:`kernel_file` read stands: its digits, after the
    key, the colon and the padding (the same places the line reader records)."""
    found = {}
    for number, line in enumerate(text.split("\n")[:-1], 1):
        key, _, rest = line.partition(":")
        found["/" + pointer_token(key)] = (number, len(key) + 2 + len(rest) - len(rest.lstrip()))
    return found
