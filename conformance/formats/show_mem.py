"""``show_mem()`` dumps (the ``Mem-Info:`` block) in a kernel log.

The kernel prints the block on OOM, on SysRq-m and in some allocation-failure reports
(``__show_mem()`` in ``mm/show_mem.c``, earlier ``lib/show_mem.c``). The input is a log:
dmesg with or without timestamps and caller ids, ``<4>`` level prefixes, or syslog and
journal lines; it may hold several dumps between unrelated messages. The instance is
``{"dumps": [...]}`` in log order.

Two dialects:

* ``2.6``: the upstream layout. Its members changed over the years (``writeback_tmp``,
  ``boost`` and ``Swap cache stats`` in older kernels; `` Balloon:<n>kB`` at the end of
  each node line since 6.15); all are optional fields of this one dialect.
* ``rfc``: the 2022 RFC v4/v5 (Atanasov, never merged) added the line
  ``Balloon InflatedTotal:<n>kB InflatedFree:<n>kB`` after the RAM summary. The RFC
  document shows that line alone, so a log holding only it is one rfc dump.

The work is split: :mod:`.show_mem_lines` is the per-line grammar (log prefixes, line
kinds, items), :mod:`.show_mem_render` the kernel's templates, :mod:`.show_mem_fields`
and :mod:`.show_mem_summary` read one line's values, :mod:`.show_mem_reader` groups
lines into dumps. This module is the format's public face.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import JSON, DialectSpec, FormatSpec, Layout, ParseResult
from ..text import ParseBuilder, Source, split_lines
from . import GUEST_PATHS
from . import show_mem_lines as g
from . import show_mem_render as t
from .show_mem_reader import FORMAT_ID, DumpReader

DIALECTS = (
    DialectSpec(
        "2.6",
        "upstream show_mem() layout",
        "show-mem.2.6.schema.json",
        "2.6",
        "Mem-Info:, the global counters in pages, per-node and per-zone lines in kB, free "
        "lists, hugepages, page cache, swap and RAM summary; Balloon:<n>kB per node since 6.15.",
    ),
    DialectSpec(
        "rfc",
        "RFC v4/v5 Balloon line",
        "show-mem.rfc.schema.json",
        "RFC",
        "The upstream dump plus 'Balloon InflatedTotal:<n>kB InflatedFree:<n>kB' after the RAM "
        "summary, as the never-merged 2022 RFC printed it.",
    ),
)
_DIALECT_IDS = tuple(d.id for d in DIALECTS)


def detect(text: str) -> str | None:
    """``rfc`` when the RFC Balloon line appears, ``2.6`` for a ``Mem-Info:`` line, else None."""
    meminfo = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if "Mem-Info:" not in raw and "Inflated" not in raw:
            continue
        kind = g.classify(g.split_prefix(number, raw).content, in_global=False).name
        if kind == "rfc":
            return "rfc"
        meminfo = meminfo or kind == "meminfo"
    return "2.6" if meminfo else None


def parse(
    data: Source,
    dialect: str | None = None,
    layout: Layout = Layout.LENIENT,
    context: dict[str, str] | None = None,
) -> ParseResult:
    """Parse a kernel log; never raises on bad input."""
    builder = ParseBuilder(FORMAT_ID, layout)
    lines = [g.split_prefix(line.number, line.text) for line in split_lines(data, builder, False)]
    if dialect not in _DIALECT_IDS:
        dialect = detect("\n".join(line.text for line in lines)) or "2.6"
    reader = DumpReader(builder, dialect)
    for line in lines:
        reader.feed(line)
    dumps = reader.finish()
    if lines and not dumps:
        builder.error(
            "show-mem.no-dump",
            "no 'Mem-Info:' line: the log holds no show_mem() dump",
            1,
            1,
            hint="show_mem() runs on OOM, on SysRq-m and in some allocation-failure reports",
            pointer="/dumps",
        )
    return builder.result(dialect, {"dumps": dumps})


def _dump_lines(dump: Mapping[str, Any]) -> list[str]:
    """One dump as __show_mem() prints it, without log prefixes."""
    if set(dump) == {"balloon"}:
        return [t.render_rfc(dump["balloon"])]
    out = ["Mem-Info:"]
    values = dump.get("global", {})
    for index, keys in enumerate(t.global_groups(list(values))):
        out.append(t.render_global_line(values, keys, index == 0, {}))
    out += [t.node_line(node, {}) for node in dump.get("nodes", [])]
    for zone in dump.get("zones", []):
        out += [t.zone_line(zone, {}), t.render_lowmem(zone.get("lowmem_reserve", []))]
    out += [t.render_free_area(area) for area in dump.get("free_areas", [])]
    out += [t.render_hugepages(entry) for entry in dump.get("hugepages", [])]
    for kind, key in (
        ("pagecache", "pagecache_pages"),
        ("swapcache", "swap_cache_pages"),
        ("swapstats", "swap_cache_stats"),
        ("freeswap", "free_swap_kb"),
        ("totalswap", "total_swap_kb"),
    ):
        if key in dump:
            out.append(t.render_simple(kind, dump[key]))
    out += [t.render_simple("ram", item) for item in dump.get("ram", {}).items()]
    if "balloon" in dump:
        out.append(t.render_rfc(dump["balloon"]))
    return out


def render(instance: JSON, dialect: str) -> str:
    """The dumps as the kernel prints them (exact layout, no log prefixes)."""
    return "".join(line + "\n" for dump in instance["dumps"] for line in _dump_lines(dump))


SPEC = FormatSpec(
    id=FORMAT_ID,
    title="show_mem() dump in a kernel log",
    description="The 'Mem-Info:' block that OOM reports, SysRq-m and allocation failures "
    "print to the kernel log: global, per-node and per-zone memory counters, free lists, "
    "swap and RAM summary; per-node Balloon since 6.15.",
    paths=GUEST_PATHS[FORMAT_ID],
    dialects=DIALECTS,
    schema="show-mem.schema.json",
    parse=parse,
    detect=detect,
    render=render,
)
