"""Assembling ``show_mem()`` dumps from a kernel log, one classified line at a time.

A dump opens at ``Mem-Info:`` (or, for the RFC document's example, at a lone
``Balloon InflatedTotal:`` line) and takes the lines that follow in the kernel's order
(global block, nodes, zones, free lists, hugepages, page cache, swap, RAM summary, RFC
line). Other log lines may be interleaved anywhere and are skipped. A dump ends at the
next ``Mem-Info:``, at the end of the log, or when a line of an earlier section follows
its RAM summary. Lines are classified by :mod:`.show_mem_lines`; the global block and
the zones' lowmem_reserve[] lines, which span several lines, are read here, the other
lines by :mod:`.show_mem_fields` and :mod:`.show_mem_summary`.
"""

from __future__ import annotations

from typing import Any

from ..text import ParseBuilder, clip
from . import show_mem_lines as g
from . import show_mem_render as t
from .show_mem_fields import Dump
from .show_mem_summary import SummaryReader

FORMAT_ID = "show-mem"
RAM_RANK = g.KIND_RANK["ram"]
DUMP_ORDER = (
    "global",
    "nodes",
    "zones",
    "free_areas",
    "hugepages",
    "pagecache_pages",
    "swap_cache_pages",
    "swap_cache_stats",
    "free_swap_kb",
    "total_swap_kb",
    "ram",
    "balloon",
)
REQUIRED = (
    ("global", "the global counters ('active_anon:...')"),
    ("zones", "a zone line ('<Zone> free:...kB ...')"),
    ("free_areas", "a free-list line ('<Zone>: <n>*<size>kB ... = <total>kB')"),
    ("pagecache_pages", "the line '<n> total pagecache pages'"),
    ("ram", "the line '<n> pages RAM'"),
    ("ram/reserved", "the line '<n> pages reserved'"),
)


class DumpReader(SummaryReader):
    """Feeds log lines into dumps; :meth:`finish` returns them."""

    def __init__(self, builder: ParseBuilder, dialect: str) -> None:
        super().__init__(builder)
        self.dialect = dialect
        self.dumps: list[dict[str, Any]] = []
        self.current: Dump | None = None

    # -- dump boundaries ------------------------------------------------------------
    def feed(self, line: g.LogLine) -> None:
        """Take one log line: part of a dump, the start of one, or unrelated."""
        dump = self.current
        kind = g.classify(line.content, dump is not None and dump.global_open)
        if kind.name == "other":
            return
        if kind.name == "meminfo":
            self._open(line, meminfo=True)
            self.layout(line, "Mem-Info:")
            return
        if kind.name == "rfc" and self.dialect != "rfc":
            self.error(
                "show-mem.rfc-line",
                "'Balloon InflatedTotal:... InflatedFree:...' comes from the never-merged RFC;"
                " no mainline kernel prints it",
                line,
                0,
            )
            return
        if kind.name == "rfc" and (dump is None or not dump.meminfo or "balloon" in dump.data):
            self._open(line, meminfo=False)
        elif dump is None:
            return
        elif dump.rank >= RAM_RANK and g.KIND_RANK[kind.name] < RAM_RANK:
            self._close()
            return
        self._take(line, kind)

    def _open(self, line: g.LogLine, meminfo: bool) -> None:
        self._close()
        self.current = Dump(len(self.dumps), line.number, meminfo, last=line.number)
        self.dumps.append(self.current.data)
        self.builder.map(self.current.pointer, line.number, line.column(0))

    def _close(self) -> None:
        dump = self.current
        if dump is None:
            return
        self.current = None
        self._finish_global(dump)
        self._close_zone(dump)
        if dump.meminfo:
            self._check_required(dump)
        ordered = {key: dump.data[key] for key in DUMP_ORDER if key in dump.data}
        dump.data.clear()
        dump.data.update(ordered)

    def finish(self) -> list[dict[str, Any]]:
        """Close the last dump and return all of them in log order."""
        self._close()
        return self.dumps

    def _check_required(self, dump: Dump) -> None:
        for path, what in REQUIRED:
            head, _, tail = path.partition("/")
            part = dump.data.get(head)
            if part is None or (tail and tail not in part):
                self.builder.error(
                    "parse.missing-line",
                    f"the show_mem() dump that starts on line {dump.start} lacks {what}",
                    dump.last + 1,
                    1,
                    pointer=f"{dump.pointer}/{path}",
                )

    # -- one line of a dump ---------------------------------------------------------
    def _take(self, line: g.LogLine, kind: g.Kind) -> None:
        dump = self.current
        assert dump is not None
        rank = g.KIND_RANK[kind.name]
        if rank < dump.rank:
            self.error(
                "parse.order",
                f"this {kind.name} line is out of order: show_mem() prints it earlier",
                line,
                0,
            )
        if kind.name not in ("global", "global-cont"):
            dump.global_open = False
        if rank > g.KIND_RANK["lowmem"]:
            self._close_zone(dump)
        dump.rank = max(dump.rank, rank)
        dump.last = line.number
        self.dispatch(dump, line, kind)

    def dispatch(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        """Read one line of ``kind`` into ``dump``."""
        name = kind.name
        if name in ("global", "global-cont"):
            self._global(dump, line, kind)
        elif name == "node":
            self.read_node(dump, line, kind)
        elif name in ("zone", "zone-nameless"):
            self._zone(dump, line, kind)
        elif name == "lowmem":
            self._lowmem(dump, line, kind)
        elif name == "free-area":
            self.read_free_area(dump, line, kind)
        elif name == "hugepages":
            self.read_hugepages(dump, line, kind)
        elif name == "rfc":
            self.read_rfc(dump, line, kind)
        else:
            self.read_simple(dump, line, kind)

    # -- the global block -----------------------------------------------------------
    def _global(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        if kind.name == "global" and dump.global_lines:
            self.error("parse.duplicate-line", "a second global block in one dump", line, 0)
            return
        text, at = kind.get("rest")
        dump.global_lines.append((line, text, at))
        dump.global_open = True

    def _finish_global(self, dump: Dump) -> None:
        if not dump.global_lines:
            return
        pointer = dump.pointer + "/global"
        values: dict[str, int] = {}
        style: dict[str, tuple[str, bool]] = {}
        per_line: list[list[str]] = []
        ok = True
        for line, text, at in dump.global_lines:
            keys, line_ok = self.read_items(line, text, at, pointer, t.GLOBAL_KEYS, values, style)
            per_line.append(keys)
            ok = ok and line_ok
        first = dump.global_lines[0][0]
        self.builder.map(pointer, first.number, first.column(0))
        dump.data["global"] = values
        if ok and self.builder.exact:
            groups = t.global_groups(list(values))
            where = {key: index for index, group in enumerate(groups) for key in group}
            begun: set[int] = set()
            for (line, _, _), keys in zip(dump.global_lines, per_line):
                if not keys:
                    continue
                index = where[keys[0]]
                if index in begun:
                    # the rest of a kernel line an earlier input line began: said, without
                    # comparing it with that whole line again (a dump of thousands of such
                    # lines would cost their number times the line's length)
                    self.builder.warning(
                        "layout.text",
                        f"the kernel prints {clip(keys[0])} on the line above, as one line",
                        line.number,
                        line.column(0),
                    )
                    continue
                begun.add(index)
                self.layout(line, t.render_global_line(values, groups[index], index == 0, style))

    # -- zones and their lowmem_reserve[] -------------------------------------------
    def _close_zone(self, dump: Dump) -> None:
        if dump.zone is not None and "lowmem_reserve" not in dump.zone[0]:
            index = dump.zone[2]
            self.builder.error(
                "parse.missing-line",
                f"the zone line on line {dump.zone[1]} lacks its lowmem_reserve[] line",
                dump.zone[1] + 1,
                1,
                pointer=f"{dump.pointer}/zones/{index}/lowmem_reserve",
            )
        dump.zone = None

    def _zone(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        self._close_zone(dump)
        if kind.name == "zone-nameless":
            self.error(
                "show-mem.zone-name-missing",
                "a zone line starts with the zone's name ('DMA', 'Normal' ...) before 'free:'",
                line,
                0,
            )
            zone = None
        else:
            zone = self.read_zone(dump, line, kind)
        # a lowmem_reserve[] line after an unusable zone line belongs to nothing
        dump.skip_lowmem = zone is None
        if zone is not None:
            dump.zone = (zone, line.number, len(dump.data["zones"]) - 1)

    def _lowmem(self, dump: Dump, line: g.LogLine, kind: g.Kind) -> None:
        if dump.skip_lowmem:
            dump.skip_lowmem = False
            return
        if dump.zone is None:
            self.error("parse.order", "lowmem_reserve[] follows no zone line", line, 0)
            return
        zone = dump.zone[0]
        if "lowmem_reserve" in zone:
            self.error(
                "parse.duplicate-line", "a second lowmem_reserve[] line for one zone", line, 0
            )
            return
        index = len(dump.data["zones"]) - 1
        pointer = f"{dump.pointer}/zones/{index}/lowmem_reserve"
        text, at = kind.get("rest")
        values = self.read_numbers(line, text, at, pointer)
        self.builder.map(pointer, line.number, line.column(0))
        if values is not None:
            zone["lowmem_reserve"] = values
            self.layout(line, t.render_lowmem(values))
        else:
            zone["lowmem_reserve"] = []
