"""Reading the rest of a ``show_mem()`` dump: free lists, hugepages, page cache, swap,
the RAM summary and the RFC ``Balloon`` line.

Same contract as :class:`~.show_mem_fields.FieldReader`: values with their source map
and C-type checks, findings at their column in the original log line, and the exact
comparison with the line as :mod:`.show_mem_render` prints it.
"""

from __future__ import annotations

import re
from typing import Any

from ..text import clip
from . import show_mem_lines as g
from . import show_mem_render as t
from .show_mem_fields import Dump, FieldReader, key_pointer

_BLOCK = re.compile(
    r"(?P<count>[^\s*()=]+)\s*\*\s*(?P<size>[^\s*()=]*?)kB"
    r"|\((?P<types>[^()\s]*)\)"
    r"|=\s*(?P<total>\S*?)(?:kB)?$"
)
# A value that may be empty sits between two runs of spaces in the next two patterns; a
# lookbehind for a non-space after it keeps the engine from trying every split of those
# spaces between the two runs (quadratic on a line of spaces). The matches are the same:
# an empty value now stands right after its '=' or ','.
_HUGE = re.compile(
    r"^hugepages_total\s*=\s*(?P<total>\S*?)(?<=\S)\s+hugepages_free\s*=\s*(?P<free>\S*?)(?<=\S)"
    r"\s+hugepages_surp\s*=\s*(?P<surp>\S*?)(?<=\S)\s+hugepages_size\s*=\s*(?P<size_kb>\S*?)(?:kB)?$"
)
_STATS = re.compile(
    r"^add\s+(?P<add>[^\s,]*)(?:(?<=\S)\s*)?,\s*delete\s+(?P<delete>[^\s,]*)(?:(?<=\S)\s*)?,"
    r"\s*find\s+(?P<find_success>[^\s/]*)(?:(?<=\S)\s*)?/\s*(?P<find_total>\S*)$"
)
_SIMPLE = {
    "pagecache": ("pagecache_pages", True),
    "swapcache": ("swap_cache_pages", False),
    "freeswap": ("free_swap_kb", True),
    "totalswap": ("total_swap_kb", False),
}
"""Single-number lines: instance key and whether the kernel prints a signed ``%ld``."""
RFC_KEYS = ("InflatedTotal", "InflatedFree")


class SummaryReader(FieldReader):
    """Reads free-list, hugepages, page-cache, swap, RAM-summary and RFC lines."""

    # -- free lists and hugepages ---------------------------------------------------
    def read_free_area(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """``[Node n ]Zone: c*sizekB (UME) ... = totalkB``."""
        areas = dump.data.get("free_areas", [])
        pointer = f"{dump.pointer}/free_areas/{len(areas)}"
        readable, number = self._node_number(kind, line, pointer)
        name, name_at = kind.get("zone")
        if not readable:
            return
        if ("area", number, name) in dump.seen:
            self.error(
                "parse.duplicate-line",
                f"a second free-list line for zone {clip(name)}",
                line,
                name_at,
            )
            return
        area: dict[str, Any] = {} if number is None else {"node": number}
        area.update({"zone": name, "blocks": []})
        text, at = kind.get("rest")
        if not self._blocks(line, text, at, pointer, area):
            return
        dump.data.setdefault("free_areas", []).append(area)
        dump.seen.add(("area", number, name))
        self.builder.map(pointer, line.number, line.column(0))
        self.builder.map(pointer + "/zone", line.number, line.column(name_at))
        self.layout(line, t.render_free_area(area))

    def _blocks(
        self, line: g.LogLine, text: str, at: int, pointer: str, area: dict[str, Any]
    ) -> bool:
        blocks: list[dict[str, Any]] = area["blocks"]
        pos = 0
        while pos < len(text) and "total_kb" not in area:
            if text[pos].isspace():
                pos += 1
                continue
            match = _BLOCK.match(text, pos)
            if not match or (match.group("types") is not None and not blocks):
                found = text[pos : pos + 24]
                self.error(
                    "parse.unreadable-line", f"cannot read {found!r} in a free list", line, at + pos
                )
                return False
            if not self._block(line, match, at, pointer, area):
                return False
            pos = match.end()
        if "total_kb" not in area:
            self.error(
                "parse.bad-value", "the free list lacks '= <total>kB'", line, len(line.content)
            )
            return False
        total = sum(block["count"] * block["size_kb"] for block in blocks)
        if total != area["total_kb"]:
            self.error(
                "show-mem.free-area-total",
                f"the blocks add up to {total}kB, not {area['total_kb']}kB; the kernel sums "
                "the same counts under the zone lock",
                line,
                at + text.rindex("=") + 1,
                pointer=pointer + "/total_kb",
            )
        return True

    def _block(
        self, line: g.LogLine, match: re.Match[str], at: int, pointer: str, area: dict[str, Any]
    ) -> bool:
        blocks: list[dict[str, Any]] = area["blocks"]
        if match.group("types") is not None:
            blocks[-1]["types"] = match.group("types")
            self.builder.map(
                f"{pointer}/blocks/{len(blocks) - 1}/types",
                line.number,
                line.column(at + match.start()),
            )
            return True
        if match.group("total") is not None:
            total = self.number(
                match.group("total"), line, at + match.start("total"), pointer + "/total_kb"
            )
            area["total_kb"] = total
            return total is not None
        base = f"{pointer}/blocks/{len(blocks)}"
        count = self.number(match.group("count"), line, at + match.start("count"), base + "/count")
        size = self.number(match.group("size"), line, at + match.start("size"), base + "/size_kb")
        if count is None or size is None:
            return False
        self.builder.map(base, line.number, line.column(at + match.start()))
        blocks.append({"count": count, "size_kb": size})
        return True

    def read_hugepages(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """``Node n hugepages_total=.. hugepages_free=.. hugepages_surp=.. hugepages_size=..kB``."""
        pages = dump.data.get("hugepages", [])
        pointer = f"{dump.pointer}/hugepages/{len(pages)}"
        text, at = kind.get("rest")
        match = _HUGE.match(text)
        if not match:
            self.error("parse.unreadable-line", "cannot read this hugepages line", line, at)
            return
        readable, number = self._node_number(kind, line, pointer)
        entry: dict[str, Any] = {"node": number}
        for key in ("total", "free", "surp", "size_kb"):
            bits = 64 if key == "size_kb" else 32
            value = self.number(
                match.group(key), line, at + match.start(key), f"{pointer}/{key}", bits
            )
            readable = readable and value is not None
            entry[key] = value
        if not readable:
            return
        if ("huge", number, entry["size_kb"]) in dump.seen:
            self.error("parse.duplicate-line", "a second line for this node and size", line, 0)
            return
        dump.data.setdefault("hugepages", []).append(entry)
        dump.seen.add(("huge", number, entry["size_kb"]))
        self.builder.map(pointer, line.number, line.column(0))
        self.layout(line, t.render_hugepages(entry))

    # -- one-number lines, RAM summary, RFC line -------------------------------------
    def read_simple(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """Page cache, swap and RAM-summary lines."""
        if kind.name == "ram":
            self._ram(dump, line, kind)
            return
        if kind.name == "swapstats":
            self._swap_stats(dump, line, kind)
            return
        key, signed = _SIMPLE[kind.name]
        if key in dump.data:
            self.error("parse.duplicate-line", f"a second '{kind.name}' line in one dump", line, 0)
            return
        digits, at = kind.get("n")
        value = self.number(digits, line, at, f"{dump.pointer}/{key}", signed=signed)
        if value is not None:
            dump.data[key] = value
            self.layout(line, t.render_simple(kind.name, value))

    def _ram(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        what, what_at = kind.get("what")
        label = " ".join(what.split())
        key = t.RAM_LABELS.get(label, label)
        ram = dump.data.get("ram", {})
        if key in ram:
            self.error("parse.duplicate-line", f"a second '<n> pages {clip(label)}' line", line, 0)
            return
        if label not in t.RAM_LABELS:
            self.unknown(line, what_at, f"'pages {clip(label)}' is not in the RAM summary")
        digits, at = kind.get("n")
        value = self.number(digits, line, at, key_pointer(f"{dump.pointer}/ram", key))
        if value is not None:
            dump.data.setdefault("ram", {})[key] = value
            self.builder.map(f"{dump.pointer}/ram", line.number, line.column(0))
            self.layout(line, t.render_simple("ram", (key, value)))

    def _swap_stats(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        pointer = f"{dump.pointer}/swap_cache_stats"
        if "swap_cache_stats" in dump.data:
            self.error("parse.duplicate-line", "a second 'Swap cache stats' line", line, 0)
            return
        text, at = kind.get("rest")
        match = _STATS.match(text)
        if not match:
            self.error("parse.unreadable-line", "cannot read 'add N, delete N, find N/N'", line, at)
            return
        stats: dict[str, Any] = {}
        for key in ("add", "delete", "find_success", "find_total"):
            stats[key] = self.number(
                match.group(key), line, at + match.start(key), f"{pointer}/{key}"
            )
        if None not in stats.values():
            dump.data["swap_cache_stats"] = stats
            self.builder.map(pointer, line.number, line.column(0))
            self.layout(line, t.render_simple("swapstats", stats))

    def read_rfc(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """``Balloon InflatedTotal:<n>kB InflatedFree:<n>kB`` (RFC v4/v5)."""
        pointer = f"{dump.pointer}/balloon"
        text, at = kind.get("rest")
        items, stop = g.scan_items(text, at)
        ok = stop < 0
        if not ok:
            self.error("parse.unreadable-line", "cannot read the RFC Balloon line", line, stop)
        balloon: dict[str, int] = {}
        for item in items:
            if item.key not in RFC_KEYS or item.flag is not None or item.key in balloon:
                self.error(
                    "parse.unknown-label",
                    f"the RFC Balloon line has no {clip(item.key)!r}",
                    line,
                    item.key_at,
                )
                ok = False
                continue
            value = self.number(
                item.number, line, item.value_at, f"{pointer}/{item.key}", signed=True
            )
            if value is None:
                ok = False
                continue
            balloon[item.key] = value
        missing = [key for key in RFC_KEYS if key not in balloon]
        if missing and ok:
            self.error(
                "show-mem.rfc-incomplete",
                f"the RFC Balloon line lacks {', '.join(missing)}",
                line,
                len(line.content),
                pointer=pointer,
            )
        dump.data["balloon"] = balloon
        self.builder.map(pointer, line.number, line.column(0))
        if ok and not missing:
            self.layout(line, t.render_rfc(balloon))
