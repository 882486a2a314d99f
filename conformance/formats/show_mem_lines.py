"""Line grammar of the ``show_mem()`` dump: log prefixes, line kinds, fields and renderers.

``__show_mem()`` (``mm/show_mem.c``, earlier ``lib/show_mem.c`` and ``mm/page_alloc.c``)
prints through ``printk``, so every line reaches the reader behind a log prefix (dmesg
timestamp, ``[T77]``/``[C1]`` caller id, ``<4>`` level, a syslog or journal head).
:func:`split_prefix` takes the prefix off; :func:`classify` names what the rest is.

Most lines are runs of ``key:value`` items (:func:`scan_items`). What the kernel prints
for each value, and how, is :mod:`.show_mem_render`'s.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

PREFIX = re.compile(
    r"(?:[a-z]+ *:[a-z]+ *: )?"  # dmesg -x: facility and level
    r"(?:<\d{1,3}>)?"
    r"(?:(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" \S+ kernel:(?: |$))?"
    r"(?:<\d{1,3}>)?"
    r"(?:(?:(?:\[ *\d+\.\d+\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\])"
    r"(?:\[ *[TC]\d+\])?|\[ *[TC]\d+\])(?: |$))?"
)
"""``dmesg -x`` facility/level, ``<n>`` level, syslog/journal head, dmesg timestamp (seconds
or ``dmesg -T``) and caller id, each optional. Each part takes exactly one following space:
a global-block continuation line keeps its own."""

_SECTIONS = (
    ("meminfo",),
    ("global", "global-cont"),
    ("node",),
    ("zone", "zone-nameless", "lowmem"),
    ("free-area",),
    ("hugepages",),
    ("pagecache",),
    ("swapcache", "swapstats", "freeswap", "totalswap"),
    ("ram",),
    ("rfc",),
)
KIND_RANK = {kind: rank for rank, kinds in enumerate(_SECTIONS) for kind in kinds}
"""Kinds of dump line in the order __show_mem() prints them."""

_NODE_HEAD = re.compile(r"^Node\s+(?P<node>\d+)\s+(?P<rest>\S.*)$")
_FREE_AREA = re.compile(r"^(?P<zone>[A-Za-z][A-Za-z0-9_]*)\s*:\s*(?P<rest>(?:\d+\s*\*|=).*)$")
_ZONE = re.compile(r"^(?P<zone>[A-Za-z][A-Za-z0-9_]*)\s+(?P<rest>free\s*:.*)$")
_NODE_LINE = re.compile(r"^(?P<rest>[A-Za-z_][\w()]*\s*:.*)$")
"""A node line, and in the global block a continuation line: ``key:value ...``."""
_PER_CPU = re.compile(r"^\S+\s+per-cpu:")
_SIMPLE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("meminfo", re.compile(r"^Mem-Info:$")),
    ("rfc", re.compile(r"^Balloon\s+(?P<rest>Inflated.*)$")),
    ("lowmem", re.compile(r"^lowmem_reserve\[\]\s*:(?P<rest>.*)$")),
    ("zone-nameless", re.compile(r"^(?P<rest>free\s*:\s*\S+\s.*\b(?:min|managed)\s*:.*)$")),
    ("global", re.compile(r"^(?P<rest>active_anon\s*:.*)$")),
    ("pagecache", re.compile(r"^(?P<n>\S+)\s+total\s+pagecache\s+pages$")),
    ("swapcache", re.compile(r"^(?P<n>\S+)\s+pages\s+in\s+swap\s+cache$")),
    ("swapstats", re.compile(r"^Swap\s+cache\s+stats\s*:\s*(?P<rest>.*)$")),
    ("freeswap", re.compile(r"^Free\s+swap\s*=\s*(?P<n>\S*?)(?P<unit>kB)?$")),
    ("totalswap", re.compile(r"^Total\s+swap\s*=\s*(?P<n>\S*?)(?P<unit>kB)?$")),
    ("ram", re.compile(r"^(?P<n>[-\d]\S*)\s+pages\s+(?P<what>\S.*)$")),
)


@dataclass(frozen=True)
class LogLine:
    """One log line split into its prefix and the kernel's text; made by :func:`split_prefix`.

    The content and where it starts are worked out once per line, not per question: a
    free list or a node line of a megabyte has a value every few characters, and the
    column of each must not cost a copy of the line (quadratic time).
    """

    number: int
    text: str
    prefix: str
    content: str
    """The kernel's text without the spaces around it (what the line grammars read)."""
    start: int
    """Index in ``text`` of ``content[0]``: the prefix and the spaces after it."""

    def column(self, index: int) -> int:
        """1-based column in the original line of ``content[index]``."""
        return self.start + index + 1


def split_prefix(number: int, text: str) -> LogLine:
    """The line with its log prefix recognised (possibly empty)."""
    match = PREFIX.match(text)
    prefix = match.group(0) if match else ""
    body = text[len(prefix) :].lstrip()
    return LogLine(number, text, prefix, body.rstrip(), len(text) - len(body))


@dataclass(frozen=True)
class Kind:
    """What a line is: its kind, the node number it names, and named parts with offsets."""

    name: str
    node: str | None = None
    node_at: int = 0
    groups: tuple[tuple[str, str, int], ...] = ()

    def get(self, name: str) -> tuple[str, int]:
        """``(text, index in content)`` of the named part, or ``("", -1)``."""
        for key, value, index in self.groups:
            if key == name:
                return value, index
        return "", -1


def _kind(
    name: str, match: re.Match[str], offset: int = 0, node: str | None = None, node_at: int = 0
) -> Kind:
    groups = tuple(
        (key, value, match.start(key) + offset)
        for key, value in match.groupdict().items()
        if value is not None
    )
    return Kind(name, node, node_at, groups)


def classify(content: str, in_global: bool) -> Kind:
    """The kind of a line's content (prefix and outer spaces removed)."""
    head = _NODE_HEAD.match(content)
    if head:
        return _classify_node(head)
    for name, pattern in (("free-area", _FREE_AREA), ("zone", _ZONE)):
        match = pattern.match(content)
        if match:
            return _kind(name, match)
    for name, pattern in _SIMPLE:
        match = pattern.match(content)
        if match:
            return _kind(name, match)
    if in_global:
        match = _NODE_LINE.match(content)
        if match:
            return _kind("global-cont", match)
    return Kind("other")


def _classify_node(head: re.Match[str]) -> Kind:
    rest, offset = head.group("rest"), head.start("rest")
    node, node_at = head.group("node"), head.start("node")
    if rest.startswith("hugepages_total"):
        return Kind("hugepages", node, node_at, (("rest", rest, offset),))
    if _PER_CPU.match(rest):
        return Kind("other")
    for name, pattern in (("free-area", _FREE_AREA), ("zone", _ZONE), ("node", _NODE_LINE)):
        match = pattern.match(rest)
        if match:
            return _kind(name, match, offset, node, node_at)
    return Kind("other")


# -- key:value items --------------------------------------------------------------------

_ITEM = re.compile(
    r"(?P<key>[^\s:?=]+)(?:(?P<colon>:)(?P<gap>[ \t]*)(?P<value>\S*)|\?(?P<qgap>\s*)(?P<flag>\S*))"
)
_VALUE = re.compile(r"^(?P<num>.*?)(?P<unit>kB|KB)?$")


@dataclass(frozen=True)
class Item:
    """One ``key:value`` (or ``key? flag``) item of a line; indexes are into the content."""

    key: str
    key_at: int
    number: str
    value_at: int
    unit: str = ""
    spaced: bool = False
    flag: str | None = None


def scan_items(text: str, offset: int = 0) -> tuple[list[Item], int]:
    """The items of ``text`` and the index (plus ``offset``) where reading stopped
    (-1 when the whole text was read)."""
    items: list[Item] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return items, -1
        match = _ITEM.match(text, pos)
        if not match:
            return items, pos + offset
        items.append(_item(match, offset))
        pos = match.end()


def _item(match: re.Match[str], offset: int) -> Item:
    key, key_at = match.group("key"), match.start("key") + offset
    if match.group("colon") is None:
        return Item(key, key_at, "", match.start("flag") + offset, flag=match.group("flag"))
    value = _VALUE.match(match.group("value"))
    assert value is not None  # the pattern matches every string
    return Item(
        key,
        key_at,
        value.group("num"),
        match.start("value") + offset,
        value.group("unit") or "",
        bool(match.group("gap")),
    )
