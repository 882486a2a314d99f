"""The kernel's printf templates for each ``show_mem()`` line, and what it prints per key.

One render function per kind of line: ``render()`` prints a dump with them, and in exact
mode every input line is compared with the same function's output for the values read
from it (``Style`` carries what the input showed where kernels differ: the unit of a key
no known kernel prints, and the old ``shmem_thp: 0kB`` spelling). The key sets say which
members some mainline kernel printed; others are kept and noted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GLOBAL_KEYS = frozenset(
    {
        "active_anon", "inactive_anon", "isolated_anon", "active_file", "inactive_file",
        "isolated_file", "unevictable", "dirty", "writeback", "unstable", "slab_reclaimable",
        "slab_unreclaimable", "mapped", "shmem", "pagetables", "sec_pagetables", "bounce",
        "kernel_misc_reclaimable", "free", "free_pcp", "free_cma", "anon_thp", "shmem_thp",
        "shmem_pmdmapped",
    }
)  # fmt: skip
"""Members of the global block (pages) in some mainline kernel from 2.6.32 on."""
NODE_KEYS = frozenset(
    {
        "active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable",
        "isolated(anon)", "isolated(file)", "mapped", "dirty", "writeback", "shmem",
        "shmem_thp", "shmem_pmdmapped", "file_thp", "file_pmdmapped", "anon_thp",
        "writeback_tmp", "unstable", "pages_scanned", "kernel_stack", "shadow_call_stack",
        "pagetables", "sec_pagetables", "Balloon", "gpu_active", "gpu_reclaim",
    }
)  # fmt: skip
"""Fields of the per-node line (kB) since it appeared in 4.8."""
ZONE_KEYS = frozenset(
    {
        "free", "boost", "min", "low", "high", "reserved_highatomic", "free_highatomic",
        "active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable",
        "isolated(anon)", "isolated(file)", "writepending", "zspages", "present", "managed",
        "mlocked", "dirty", "writeback", "mapped", "shmem", "shmem_thp", "shmem_pmdmapped",
        "anon_thp", "slab_reclaimable", "slab_unreclaimable", "kernel_stack", "pagetables",
        "unstable", "bounce", "free_pcp", "local_pcp", "free_cma", "writeback_tmp",
        "pages_scanned",
    }
)  # fmt: skip
"""Fields of the per-zone line (kB); before 4.8 it also held the per-node counters."""
BITS_32 = frozenset({"local_pcp"})
"""Fields printed with ``%u`` (unsigned int); the others are ``%lu``."""

SPACED_KEYS = frozenset({"shmem_thp", "shmem_pmdmapped", "anon_thp", "file_thp", "file_pmdmapped"})
"""Printed as ``key: value`` (a space after the colon) before about 6.4, ``key:value``
after; both are the kernel's layout, so the check follows the input for these keys."""
KB_KEYS = frozenset({"reserved_highatomic", "free_highatomic"})
"""Zone fields printed with a capital ``KB`` (``%luKB`` in every kernel that has them)."""
UNITLESS_KEYS = frozenset({"pages_scanned"})
"""Page counts printed without a unit in node and zone lines of old kernels."""
AFTER_UNRECLAIMABLE = ("Balloon", "gpu_active", "gpu_reclaim")
"""Node fields the kernel prints after ``all_unreclaimable?`` (6.15+, mm tree)."""

Style = Mapping[str, tuple[str, bool]]
"""Unit and spacing of each item as read from the input (empty when rendering)."""


def item_text(key: str, value: int, unit: str, spaced: bool = False) -> str:
    """One ``key:valueunit`` item (``key: value`` for the old THP spelling)."""
    return f"{key}:{' ' if spaced else ''}{value}{unit}"


def field_unit(key: str, known: frozenset[str], style: Style, default: str = "kB") -> str:
    """The unit the kernel prints after ``key``; for a key it does not know, the input's."""
    if key in KB_KEYS:
        return "KB"
    if key in UNITLESS_KEYS:
        return ""
    if key in known:
        return default
    return style[key][0] if key in style else default


def _spaced(key: str, style: Style) -> bool:
    return key in SPACED_KEYS and key in style and style[key][1]


def render_fields(
    fields: Mapping[str, int], unreclaimable: bool | None, known: frozenset[str], style: Style
) -> str:
    """`` key:valuekB`` items with `` all_unreclaimable? yes|no`` at the kernel's place."""
    out = []
    placed = unreclaimable is None
    for key, value in fields.items():
        if not placed and key in AFTER_UNRECLAIMABLE:
            out.append(f" all_unreclaimable? {'yes' if unreclaimable else 'no'}")
            placed = True
        out.append(" " + item_text(key, value, field_unit(key, known, style), _spaced(key, style)))
    if not placed:
        out.append(f" all_unreclaimable? {'yes' if unreclaimable else 'no'}")
    return "".join(out)


def node_head(node: int | None) -> str:
    """``Node n `` before a zone or free-list line; nothing without CONFIG_NUMA."""
    return "" if node is None else f"Node {node} "


_GLOBAL_BREAKS = frozenset(
    {
        "active_file",
        "unevictable",
        "mapped",
        "sec_pagetables",
        "kernel_misc_reclaimable",
        "free",
        "anon_thp",
    }
)


def node_line(node: Mapping[str, Any], style: Style) -> str:
    """``Node n key:valuekB ... all_unreclaimable? no[ Balloon:...]``."""
    fields = render_fields(node["fields"], node.get("all_unreclaimable"), NODE_KEYS, style)
    return f"Node {node['node']}{fields}"


def zone_line(zone: Mapping[str, Any], style: Style) -> str:
    """``[Node n ]Zone free:...kB ... free_cma:...kB``."""
    fields = render_fields(zone["fields"], zone.get("all_unreclaimable"), ZONE_KEYS, style)
    return f"{node_head(zone.get('node'))}{zone['zone']}{fields}"


def _starts_global_line(key: str, previous: str) -> bool:
    """Whether the kernel starts a continuation line with ``key`` (after ``previous``).

    The breaks have moved over the years: up to 4.0 ``free:`` led the slab line and
    ``free_cma:`` stood alone after ``bounce:``; since 4.1 the slab counters lead their
    own line and ``free_cma:`` follows ``free_pcp:``.
    """
    if key in _GLOBAL_BREAKS:
        return True
    if key == "slab_reclaimable":
        return previous != "free"
    return key == "free_cma" and previous == "bounce"


def global_groups(keys: Sequence[str]) -> list[list[str]]:
    """The keys of the global block split into the kernel's lines."""
    groups: list[list[str]] = []
    previous = ""
    for key in keys:
        if not groups or _starts_global_line(key, previous):
            groups.append([])
        groups[-1].append(key)
        previous = key
    return groups


def render_global_line(
    values: Mapping[str, int], keys: Sequence[str], first: bool, style: Style
) -> str:
    """One line of the global block: continuation lines start with one space."""
    text = " ".join(
        item_text(k, values[k], field_unit(k, GLOBAL_KEYS, style, ""), _spaced(k, style))
        for k in keys
    )
    return text if first else " " + text


def render_lowmem(values: Sequence[int]) -> str:
    """``lowmem_reserve[]: a b c ...``."""
    return "lowmem_reserve[]:" + "".join(f" {value}" for value in values)


def render_free_area(area: Mapping[str, Any]) -> str:
    """``[Node n ]Zone: c*sizekB [(types) ]... = totalkB``."""
    parts = [f"{node_head(area.get('node'))}{area['zone']}: "]
    for block in area["blocks"]:
        parts.append(f"{block['count']}*{block['size_kb']}kB ")
        if "types" in block:
            parts.append(f"({block['types']}) ")
    parts.append(f"= {area['total_kb']}kB")
    return "".join(parts)


def render_hugepages(h: Mapping[str, int]) -> str:
    """``Node n hugepages_total=.. hugepages_free=.. hugepages_surp=.. hugepages_size=..kB``."""
    return (
        f"Node {h['node']} hugepages_total={h['total']} hugepages_free={h['free']}"
        f" hugepages_surp={h['surp']} hugepages_size={h['size_kb']}kB"
    )


RAM_LABELS: dict[str, str] = {
    "RAM": "ram",
    "HighMem/MovableOnly": "highmem_movableonly",
    "reserved": "reserved",
    "cma reserved": "cma_reserved",
    "hwpoisoned": "hwpoisoned",
}
RAM_KEYS = {key: label for label, key in RAM_LABELS.items()}


def render_simple(kind: str, value: Any) -> str:
    """Lines that carry one number (or the swap-cache statistics)."""
    if kind == "pagecache":
        return f"{value} total pagecache pages"
    if kind == "swapcache":
        return f"{value} pages in swap cache"
    if kind == "freeswap":
        return f"Free swap  = {value}kB"
    if kind == "totalswap":
        return f"Total swap = {value}kB"
    if kind == "swapstats":
        return (
            f"Swap cache stats: add {value['add']}, delete {value['delete']},"
            f" find {value['find_success']}/{value['find_total']}"
        )
    key, number = value
    return f"{number} pages {RAM_KEYS.get(key, key)}"


def render_rfc(balloon: Mapping[str, int]) -> str:
    """The RFC v4/v5 line ``Balloon InflatedTotal:<n>kB InflatedFree:<n>kB``."""
    return (
        f"Balloon InflatedTotal:{balloon['InflatedTotal']}kB"
        f" InflatedFree:{balloon['InflatedFree']}kB"
    )
