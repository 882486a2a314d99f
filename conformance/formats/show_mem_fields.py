"""Reading the ``key:value`` lines of a ``show_mem()`` dump: global block, nodes, zones.

:class:`FieldReader` turns a classified line (see :mod:`.show_mem_lines`) into instance
values: numbers checked against their C type, a source-map entry for each value at its
column in the original log line (prefix included), findings for unknown, duplicated or
unreadable items, and, in exact mode, the comparison of the line with its re-rendering.
:mod:`.show_mem_summary` reads the other lines; :mod:`.show_mem_reader` decides which
dump a line belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..text import Line, ParseBuilder, clip, pointer_token, words
from . import show_mem_lines as g
from . import show_mem_render as t

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass, field
else:
    from ..records import dataclass, field

Style = dict[str, tuple[str, bool]]


@dataclass
class Dump:
    """A dump being read: its instance and what the reader still has to close."""

    index: int
    start: int
    meminfo: bool
    data: dict[str, Any] = field(default_factory=dict)
    rank: int = 0
    last: int = 0
    global_lines: list[tuple[g.LogLine, str, int]] = field(default_factory=list)
    global_open: bool = False
    zone: tuple[dict[str, Any], int, int] | None = None
    """The last zone line's instance, line number and index in ``zones``, until its
    lowmem_reserve[] line."""
    skip_lowmem: bool = False
    seen: set[tuple[Any, ...]] = field(default_factory=set)
    """``(kind, node, name or size)`` of every node, zone, free-list and hugepages entry
    read: a duplicate is found in one look-up, not by a scan of the lines before it."""

    @property
    def pointer(self) -> str:
        """JSON pointer of the dump in the instance."""
        return f"/dumps/{self.index}"


def key_pointer(base: str, key: str) -> str:
    """``base`` extended by ``key`` as one escaped reference token."""
    return f"{base}/{pointer_token(key)}"


class FieldReader:
    """Reads the values of single lines; the dump bookkeeping is the subclass's."""

    def __init__(self, builder: ParseBuilder) -> None:
        self.builder = builder

    # -- helpers --------------------------------------------------------------------
    def error(self, id: str, message: str, line: g.LogLine, index: int, pointer: str = "") -> None:
        """An error at ``line.content[index]`` (its column in the original line)."""
        self.builder.error(id, message, line.number, line.column(index), pointer=pointer)

    def number(
        self,
        digits: str,
        line: g.LogLine,
        index: int,
        pointer: str,
        bits: int = 64,
        signed: bool = False,
    ) -> int | None:
        """``digits`` as an integer of the C type, mapped at its column; None after an error."""
        return self.builder.number(digits, line.number, line.column(index), pointer, bits, signed)

    def layout(self, line: g.LogLine, expected_body: str) -> None:
        """In exact mode, compare the line with its prefix plus the kernel's rendering."""
        self.builder.layout(Line(line.number, line.text), line.prefix + expected_body)

    def read_items(
        self,
        line: g.LogLine,
        text: str,
        at: int,
        pointer: str,
        known: frozenset[str],
        values: dict[str, int],
        style: Style,
        flags: dict[str, bool] | None = None,
    ) -> tuple[list[str], bool]:
        """Read ``key:value`` items into ``values``; ``(keys read, all read cleanly)``."""
        items, stop = g.scan_items(text, at)
        ok = stop < 0
        if not ok:
            found = line.content[stop : stop + 24]
            self.error("parse.unreadable-line", f"cannot read {found!r} as 'key:value'", line, stop)
        keys = []
        for item in items:
            if item.flag is not None:
                ok = self._flag(line, item, pointer, flags) and ok
                continue
            if item.key in values:
                self.error(
                    "show-mem.duplicate-field",
                    f"{clip(item.key)!r} appears twice",
                    line,
                    item.key_at,
                )
                ok = False
                continue
            if item.key not in known:
                self.unknown(line, item.key_at, f"{clip(item.key)!r} is not a member of this line")
            bits = 32 if item.key in t.BITS_32 else 64
            value = self.number(
                item.number, line, item.value_at, key_pointer(pointer, item.key), bits
            )
            if value is None:
                ok = False
                continue
            values[item.key] = value
            style[item.key] = (item.unit, item.spaced)
            keys.append(item.key)
        return keys, ok

    def unknown(self, line: g.LogLine, index: int, what: str) -> None:
        """Note a member no known kernel prints; it is kept in the instance."""
        self.builder.note(
            "show-mem.unknown-field",
            f"{what} in any kernel known here; kept as printed",
            line.number,
            line.column(index),
        )

    def _flag(
        self, line: g.LogLine, item: g.Item, pointer: str, flags: dict[str, bool] | None
    ) -> bool:
        # the flag belongs to the node or zone, not to its fields
        flag_pointer = pointer.rsplit("/", 1)[0] + "/all_unreclaimable"
        if flags is None or item.key != "all_unreclaimable" or item.flag not in ("yes", "no"):
            self.error(
                "parse.bad-value",
                f"'{clip(item.key)}? {clip(item.flag or '')}' is not 'all_unreclaimable? yes|no' "
                "in this line",
                line,
                item.key_at,
                pointer=flag_pointer if flags is not None else "",
            )
            return False
        flags["all_unreclaimable"] = item.flag == "yes"
        self.builder.map(flag_pointer, line.number, line.column(item.value_at))
        return True

    def read_numbers(self, line: g.LogLine, text: str, at: int, pointer: str) -> list[int] | None:
        """Space-separated signed longs (``lowmem_reserve[]``), or None after an error."""
        values = []
        for index, (word, start) in enumerate(words(text, at)):
            value = self.number(word, line, start, f"{pointer}/{index}", signed=True)
            if value is None:
                return None
            values.append(value)
        return values

    def _node_number(self, kind: g.Kind, line: g.LogLine, pointer: str) -> tuple[bool, int | None]:
        """``(readable, node)``: node is None for a line without the ``Node n`` prefix."""
        if kind.node is None:
            return True, None
        number = self.number(kind.node, line, kind.node_at, pointer + "/node", 32)
        return number is not None, number

    # -- node and zone lines --------------------------------------------------------
    def read_node(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """``Node n active_anon:...kB ... all_unreclaimable? no[ Balloon:...kB]``."""
        nodes = dump.data.get("nodes", [])
        pointer = f"{dump.pointer}/nodes/{len(nodes)}"
        readable, number = self._node_number(kind, line, pointer)
        if not readable:
            return
        if ("node", number, None) in dump.seen:
            self.error("parse.duplicate-line", f"a second line for node {number}", line, 0)
            return
        dump.seen.add(("node", number, None))
        text, at = kind.get("rest")
        fields: dict[str, int] = {}
        style: Style = {}
        flags: dict[str, bool] = {}
        _, ok = self.read_items(
            line, text, at, pointer + "/fields", t.NODE_KEYS, fields, style, flags
        )
        node: dict[str, Any] = {"node": number, "fields": fields, **flags}
        dump.data.setdefault("nodes", []).append(node)
        self.builder.map(pointer, line.number, line.column(0))
        self.builder.map(pointer + "/fields", line.number, line.column(at))
        if ok:
            self.layout(line, t.node_line(node, style))

    def read_zone(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> dict[str, Any] | None:
        """``[Node n ]Zone free:...kB ...``; None when the line cannot be used."""
        zones = dump.data.get("zones", [])
        pointer = f"{dump.pointer}/zones/{len(zones)}"
        readable, number = self._node_number(kind, line, pointer)
        name, name_at = kind.get("zone")
        if not readable:
            return None
        if ("zone", number, name) in dump.seen:
            self.error(
                "parse.duplicate-line", f"a second line for zone {clip(name)}", line, name_at
            )
            return None
        dump.seen.add(("zone", number, name))
        text, at = kind.get("rest")
        fields: dict[str, int] = {}
        style: Style = {}
        flags: dict[str, bool] = {}
        _, ok = self.read_items(
            line, text, at, pointer + "/fields", t.ZONE_KEYS, fields, style, flags
        )
        zone: dict[str, Any] = {} if number is None else {"node": number}
        zone.update({"zone": name, "fields": fields, **flags})
        dump.data.setdefault("zones", []).append(zone)
        self.builder.map(pointer, line.number, line.column(0))
        self.builder.map(pointer + "/zone", line.number, line.column(name_at))
        self.builder.map(pointer + "/fields", line.number, line.column(at))
        if ok:
            self.layout(line, t.zone_line(zone, style))
        return zone
