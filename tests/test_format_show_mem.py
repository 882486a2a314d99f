"""show-mem: dumps are found in any kind of log, every kind of bad input is located at
its column in the original log line, and generated dumps of both dialects render and
parse back unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import Layout, format_ids, parse
from conformance.formats import show_mem
from conformance.formats import show_mem_render as t

DATA = Path(__file__).parent / "data"

PREFIX = "[  568.892507][   T77] "
DUMP = """\
Mem-Info:
active_anon:0 inactive_anon:0 isolated_anon:0
 active_file:0 inactive_file:0 isolated_file:0
 unevictable:81237 dirty:0 writeback:0
 slab_reclaimable:4892 slab_unreclaimable:990
 mapped:0 shmem:0 pagetables:37
 sec_pagetables:0 bounce:0
 kernel_misc_reclaimable:0
 free:642768 free_pcp:7866 free_cma:0
Node 0 active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:324948kB \
isolated(anon):0kB isolated(file):0kB mapped:0kB dirty:0kB writeback:0kB shmem:0kB \
kernel_stack:344kB pagetables:148kB sec_pagetables:0kB all_unreclaimable? no Balloon:4096kB
DMA free:15360kB min:76kB low:92kB high:108kB reserved_highatomic:0KB free_highatomic:0KB \
active_anon:0kB present:15992kB managed:15360kB local_pcp:0kB free_cma:0kB
lowmem_reserve[]: 0 664 2988 2988
DMA: 0*4kB 0*8kB 1*1024kB (U) 1*2048kB (U) 3*4096kB (M) = 15360kB
Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=4096kB
81256 total pagecache pages
0 pages in swap cache
Free swap  = 0kB
Total swap = 0kB
786302 pages RAM
594914 pages HighMem/MovableOnly
17527 pages reserved
"""
RFC_LINE = "Balloon InflatedTotal:0kB InflatedFree:262144kB\n"


def at(start: str) -> int:
    """Line number in DUMP of the first line that starts with ``start``."""
    return next(n for n, text in enumerate(DUMP.splitlines(), 1) if text.startswith(start))


def text_at(start: str) -> str:
    return DUMP.splitlines()[at(start) - 1]


def logged(text: str, prefix: str = PREFIX) -> str:
    return "".join(prefix + line + "\n" for line in text.splitlines())


def found(text: str, layout: str = "lenient", **kw: Any) -> list[tuple[str, int, int]]:
    result = parse(text, format="show-mem", layout=layout, **kw)
    return [(d.id, d.location.line, d.location.column) for d in result.diagnostics]


def ids(text: str, layout: str = "lenient", **kw: Any) -> list[str]:
    return [d[0] for d in found(text, layout, **kw)]


# -- good input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prefix",
    [
        "",
        PREFIX,
        "[    4.000001] ",
        "<4>",
        "<4>[   12.500000] ",
        "Mar  4 10:15:02 guest01 kernel: ",
        "2024-03-04T10:15:02.123456+01:00 guest01 kernel: ",
        "Mar 04 10:15:02 guest01 kernel: [   12.500000] ",
        "kern  :warn  : [   12.500000] ",
        "[Mon Mar  4 10:15:02 2024] ",
    ],
)
def test_every_log_prefix_gives_the_same_clean_instance(prefix: str) -> None:
    bare = parse(DUMP, format="show-mem", layout="exact")
    result = parse(logged(DUMP, prefix), format="show-mem", layout="exact")
    assert result.diagnostics == ()
    assert result.instance == bare.instance
    assert result.instance["dumps"][0]["nodes"][0]["fields"]["Balloon"] == 4096


def test_collapsed_and_extra_spaces_are_lenient_only() -> None:
    squashed = DUMP.replace("\n ", "\n").replace("Free swap  =", "Free swap =")
    squashed = squashed.replace(" dirty:0kB", "  dirty: 0kB")
    lenient = parse(logged(squashed), format="show-mem")
    assert lenient.diagnostics == ()
    assert lenient.instance == parse(DUMP, format="show-mem").instance
    exact = found(logged(squashed), "exact")
    assert ("layout.whitespace", at(" active_file"), len(PREFIX) + 1) in exact
    assert ("layout.whitespace", at("Free swap"), len(PREFIX) + 11) in exact
    column = len(PREFIX) + text_at("Node 0 active").index(" dirty") + 2
    assert ("layout.whitespace", at("Node 0 active"), column) in exact


def test_old_kernels_thp_spacing_and_unit_quirks_are_kernel_layout() -> None:
    old = DUMP.replace("shmem:0kB", "shmem:0kB shmem_thp: 0kB anon_thp: 2048kB writeback_tmp:0kB")
    old = old.replace(" kernel_stack", " pages_scanned:0 kernel_stack")
    old = old.replace("DMA free:15360kB", "DMA free:15360kB boost:0kB")
    old = old.replace("Total swap = 0kB\n", "Total swap = 0kB\n").replace(
        "0 pages in swap cache\n",
        "0 pages in swap cache\nSwap cache stats: add 7, delete 5, find 3/9\n",
    )
    result = parse(logged(old), format="show-mem", layout="exact")
    assert result.diagnostics == ()
    dump = result.instance["dumps"][0]
    assert dump["nodes"][0]["fields"]["anon_thp"] == 2048
    assert dump["swap_cache_stats"] == {"add": 7, "delete": 5, "find_success": 3, "find_total": 9}
    # a space after the colon of any other key is not what a kernel prints
    assert ids(logged(old.replace("dirty:0kB", "dirty: 0kB")), "exact") == ["layout.whitespace"]
    # the highatomic fields are always KB
    assert ids(logged(old.replace("free_highatomic:0KB", "free_highatomic:0kB")), "exact") == [
        "layout.text"
    ]


def test_interleaved_messages_and_several_dumps() -> None:
    text = "e1000e: eth0 NIC Link is Up\n" + DUMP.replace(
        "lowmem_reserve", "virtio_net virtio0 eth0: hello\nlowmem_reserve"
    )
    text += "Out of memory: Killed process 42 (stress)\n" + DUMP
    result = parse(text, format="show-mem", layout="exact")
    assert result.diagnostics == ()
    assert len(result.instance["dumps"]) == 2
    assert result.source_map["/dumps/1"] == (3 + at("Mem-Info") + len(DUMP.splitlines()), 1)


def test_unknown_members_are_kept_with_a_note() -> None:
    text = DUMP.replace(" free_cma:0\n", " free_cma:0 free_mirror:12\n").replace(
        "17527 pages reserved", "17527 pages reserved\n12 pages shared"
    )
    result = parse(text, format="show-mem", layout="exact")
    assert [d.id for d in result.diagnostics] == ["show-mem.unknown-field"] * 2
    assert result.instance["dumps"][0]["global"]["free_mirror"] == 12
    assert result.instance["dumps"][0]["ram"]["shared"] == 12


def test_source_map_points_into_the_original_line() -> None:
    result = parse(logged(DUMP), format="show-mem")
    node = text_at("Node 0 active")
    column = len(PREFIX) + node.index("Balloon:") + len("Balloon:") + 1
    assert result.source_map["/dumps/0/nodes/0/fields/Balloon"] == (at("Node 0 active"), column)
    assert result.source_map["/dumps/0/ram/reserved"] == (at("17527"), len(PREFIX) + 1)


# -- bad input -------------------------------------------------------------------------
def test_truncated_dump_lacks_its_last_sections() -> None:
    lines = logged(DUMP).splitlines(keepends=True)
    cut = at("DMA:")
    text = "".join(lines[:cut])
    assert sorted(found(text)) == [
        ("parse.missing-line", cut + 1, 1),
        ("parse.missing-line", cut + 1, 1),
        ("parse.missing-line", cut + 1, 1),
    ]
    result = parse(text, format="show-mem")
    assert {d.pointer for d in result.diagnostics} == {
        "/dumps/0/pagecache_pages",
        "/dumps/0/ram",
        "/dumps/0/ram/reserved",
    }


def test_bad_number_in_a_node_line_is_located_in_the_original_line() -> None:
    text = logged(DUMP.replace("unevictable:324948kB", "unevictable:32x948kB"))
    node = text_at("Node 0 active")
    column = len(PREFIX) + node.index("unevictable:") + len("unevictable:") + 1
    assert found(text) == [("parse.bad-number", at("Node 0 active"), column)]
    assert found(text, "exact") == [("parse.bad-number", at("Node 0 active"), column)]


def test_zone_line_without_its_name() -> None:
    text = logged(DUMP.replace("DMA free:", "free:"))
    # the only zone line is unusable, so the dump also lacks a zone line
    assert found(text) == [
        ("show-mem.zone-name-missing", at("DMA free"), len(PREFIX) + 1),
        ("parse.missing-line", len(DUMP.splitlines()) + 1, 1),
    ]


def test_rfc_line_with_a_value_missing() -> None:
    line = "<4>Balloon InflatedTotal:1048576kB\n"
    assert found(line) == [("show-mem.rfc-incomplete", 1, len(line))]
    assert found("<4>Balloon InflatedTotal:kB InflatedFree:0kB\n") == [
        ("parse.bad-number", 1, len("<4>Balloon InflatedTotal:") + 1)
    ]


def test_rfc_values_are_never_both_non_zero() -> None:
    result = parse("Balloon InflatedTotal:4kB InflatedFree:8kB\n", format="show-mem")
    assert [d.id for d in result.diagnostics] == ["rfc.inflated-exclusive"]
    assert "never both non-zero" in result.diagnostics[0].message


def test_rfc_line_is_an_error_in_the_upstream_dialect() -> None:
    text = DUMP + RFC_LINE
    assert found(text, dialect="2.6") == [("show-mem.rfc-line", len(DUMP.splitlines()) + 1, 1)]
    assert found(text, dialect="rfc") == []


def test_free_list_total_must_be_the_sum_of_its_blocks() -> None:
    text = DUMP.replace("(M) = 15360kB", "(M) = 15364kB")
    line = text_at("DMA:")
    assert found(text) == [("show-mem.free-area-total", at("DMA:"), line.index("=") + 2)]


def test_missing_lowmem_reserve_duplicates_and_order() -> None:
    no_lowmem = DUMP.replace("lowmem_reserve[]: 0 664 2988 2988\n", "")
    assert found(no_lowmem) == [("parse.missing-line", at("DMA free") + 1, 1)]
    node = text_at("Node 0 active")
    twice = DUMP.replace(node, node + "\n" + node)
    assert found(twice) == [("parse.duplicate-line", at("Node 0 active") + 1, 1)]
    swapped = DUMP.replace("81256 total pagecache pages\n", "").replace(
        "Free swap", "81256 total pagecache pages\nFree swap"
    )
    assert found(swapped) == [("parse.order", at("Free swap") - 1, 1)]


def test_unreadable_items_and_flags() -> None:
    assert ids(DUMP.replace("all_unreclaimable? no", "all_unreclaimable? maybe")) == [
        "parse.bad-value"
    ]
    assert ids(DUMP.replace(" bounce:0\n", " bounce:0 junk\n")) == ["parse.unreadable-line"]
    # an unreadable free list is dropped, and the dump then lacks one
    assert ids(DUMP.replace("(U) 1*2048kB", "(U) x 1*2048kB")) == [
        "parse.unreadable-line",
        "parse.missing-line",
    ]


def test_a_log_without_a_dump() -> None:
    result = parse("[    1.0] Linux version 6.15.0\n", format="show-mem")
    assert [(d.id, d.pointer) for d in result.diagnostics] == [("show-mem.no-dump", "/dumps")]


# -- detection -------------------------------------------------------------------------
def test_detection() -> None:
    assert show_mem.detect(logged(DUMP)) == "2.6"
    assert show_mem.detect(logged(DUMP + RFC_LINE)) == "rfc"
    assert show_mem.detect(RFC_LINE) == "rfc"
    assert show_mem.detect("Mem-Info: is a word in this sentence\n") is None
    assert show_mem.detect("MemTotal:       16384 kB\nInflatedTotal:      0 kB\n") is None


@pytest.mark.parametrize("format_id", [f for f in format_ids() if f != "show-mem"])
def test_other_formats_samples_are_not_claimed(format_id: str) -> None:
    for sample in sorted((DATA / format_id).glob("*.txt")):
        assert show_mem.detect(sample.read_text(errors="replace")) is None, sample.name


# -- generated dumps -------------------------------------------------------------------
def words(text: str) -> list[str]:
    return text.split()


GLOBAL_ORDER = words(
    "inactive_anon isolated_anon active_file inactive_file isolated_file unevictable dirty "
    "writeback unstable slab_reclaimable slab_unreclaimable mapped shmem pagetables "
    "sec_pagetables bounce kernel_misc_reclaimable free free_pcp free_cma"
)
NODE_BEFORE = words(
    "active_anon inactive_anon active_file inactive_file unevictable isolated(anon) "
    "isolated(file) mapped dirty writeback shmem shmem_thp shmem_pmdmapped anon_thp "
    "writeback_tmp pages_scanned kernel_stack shadow_call_stack pagetables sec_pagetables"
)
ZONE_ORDER = words(
    "boost min low high reserved_highatomic free_highatomic active_anon inactive_anon "
    "active_file inactive_file unevictable writepending zspages present managed mlocked "
    "bounce free_pcp local_pcp free_cma pages_scanned"
)
U64 = st.integers(0, 2**64 - 1)
SMALL = st.integers(0, 10**7)
S64 = st.integers(-(2**63), 2**63 - 1)


def ordered(keys: list[str], values: st.SearchStrategy[int]) -> st.SearchStrategy[dict[str, int]]:
    return (
        st.lists(st.sampled_from(keys), unique=True)
        .map(lambda chosen: [k for k in keys if k in chosen])
        .flatmap(lambda chosen: st.fixed_dictionaries({k: values for k in chosen}))
    )


@st.composite
def dumps(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    numa = draw(st.booleans())
    nodes = sorted(draw(st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=3)))
    dump: dict[str, Any] = {
        "global": {"active_anon": draw(U64), **draw(ordered(GLOBAL_ORDER, U64))}
    }
    dump["nodes"] = [draw(node_lines(n)) for n in nodes]
    # without CONFIG_NUMA zone lines name no node, so each zone name appears once
    zone_names = st.sampled_from(["DMA", "DMA32", "Normal", "HighMem"])
    places = draw(
        st.lists(
            st.tuples(st.sampled_from(nodes), zone_names),
            min_size=1,
            max_size=4,
            unique_by=(lambda p: p) if numa else (lambda p: p[1]),
        )
    )
    dump["zones"] = [draw(zone_lines(n if numa else None, z)) for n, z in places]
    dump["free_areas"] = [draw(free_areas(n if numa else None, z)) for n, z in places]
    huge = draw(st.lists(st.tuples(st.sampled_from(nodes), SMALL), unique=True, max_size=3))
    if huge:
        u32 = st.integers(0, 2**32 - 1)
        dump["hugepages"] = [
            {"node": n, "total": draw(u32), "free": draw(u32), "surp": draw(u32), "size_kb": size}
            for n, size in huge
        ]
    dump["pagecache_pages"] = draw(S64)
    if draw(st.booleans()):
        dump["swap_cache_pages"] = draw(U64)
        if draw(st.booleans()):
            dump["swap_cache_stats"] = draw(
                st.fixed_dictionaries(
                    {k: U64 for k in ("add", "delete", "find_success", "find_total")}
                )
            )
        dump["free_swap_kb"] = draw(S64)
        dump["total_swap_kb"] = draw(U64)
    dump["ram"] = draw(ram())
    if dialect == "rfc":
        dump["balloon"] = draw(balloons())
    return dump


@st.composite
def node_lines(draw: st.DrawFn, node: int) -> dict[str, Any]:
    fields = {"active_anon": draw(U64), **draw(ordered(NODE_BEFORE[1:], U64))}
    fields.update(draw(ordered(list(t.AFTER_UNRECLAIMABLE), U64)))
    return {"node": node, "fields": fields, "all_unreclaimable": draw(st.booleans())}


@st.composite
def zone_lines(draw: st.DrawFn, node: int | None, zone: str) -> dict[str, Any]:
    fields = {"free": draw(U64), **draw(ordered(ZONE_ORDER, st.integers(0, 2**32 - 1)))}
    entry: dict[str, Any] = {} if node is None else {"node": node}
    entry.update({"zone": zone, "fields": fields})
    if draw(st.booleans()):
        entry["all_unreclaimable"] = draw(st.booleans())
    entry["lowmem_reserve"] = draw(st.lists(S64, max_size=5))
    return entry


@st.composite
def free_areas(draw: st.DrawFn, node: int | None, zone: str) -> dict[str, Any]:
    blocks = []
    for order in range(draw(st.integers(1, 11))):
        block: dict[str, Any] = {"count": draw(SMALL), "size_kb": 4 << order}
        if block["count"]:
            block["types"] = "".join(draw(st.lists(st.sampled_from("UMEHCI"), unique=True)))
        blocks.append(block)
    area: dict[str, Any] = {} if node is None else {"node": node}
    area.update({"zone": zone, "blocks": blocks})
    area["total_kb"] = sum(b["count"] * b["size_kb"] for b in blocks)
    return area


@st.composite
def ram(draw: st.DrawFn) -> dict[str, int]:
    entry = {"ram": draw(U64)}
    if draw(st.booleans()):
        entry["highmem_movableonly"] = draw(U64)
    entry["reserved"] = draw(U64)
    entry.update(draw(ordered(["cma_reserved", "hwpoisoned"], U64)))
    return entry


def balloons() -> st.SearchStrategy[dict[str, int]]:
    kb = st.integers(0, 2**63 - 1)
    return st.one_of(
        st.builds(lambda v: {"InflatedTotal": v, "InflatedFree": 0}, kb),
        st.builds(lambda v: {"InflatedTotal": 0, "InflatedFree": v}, kb),
    )


@st.composite
def instances(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    dialect = draw(st.sampled_from(["2.6", "rfc"]))
    items = draw(st.lists(dumps(dialect), min_size=1, max_size=2))
    if dialect == "rfc" and draw(st.booleans()):
        items.append({"balloon": draw(balloons())})  # the RFC document's line alone
    return dialect, {"dumps": items}


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(instances(), st.sampled_from(["", PREFIX, "<4>", "Mar  4 10:15:02 h kernel: "]))
def test_render_parse_round_trip(case: tuple[str, dict[str, Any]], prefix: str) -> None:
    dialect, instance = case
    text = logged(show_mem.render(instance, dialect), prefix)
    result = show_mem.parse(text, layout=Layout.EXACT)
    assert result.dialect == dialect
    assert result.diagnostics == ()
    assert result.instance == instance


@settings(max_examples=300)
@given(
    st.one_of(st.text(), st.binary(), st.text(alphabet=" \n:?*()=[]<>0123456789kKBNodeMmInfo-_")),
    st.booleans(),
)
def test_random_input_never_raises(data: str | bytes, exact: bool) -> None:
    result = show_mem.parse(data, layout=Layout.EXACT if exact else Layout.LENIENT)
    assert isinstance(result.instance["dumps"], list)
    if isinstance(data, str):
        show_mem.detect(data)


@settings(max_examples=200)
@given(st.data())
def test_mutated_dumps_never_raise(data: st.DataObject) -> None:
    text = list(logged(DUMP + RFC_LINE))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text) - 1))
        text[at : at + data.draw(st.integers(0, 20))] = data.draw(st.text(max_size=5))
    show_mem.parse("".join(text), layout=Layout.EXACT)
