"""The Sphinx-free parts of the extension: sample text, templates, expectations, fields."""

from __future__ import annotations

from conformance import Diagnostic, Location, Severity
from sphinxext_balloon.checking import Expect, SampleRequest, check_sample
from sphinxext_balloon.render import choose_fields
from sphinxext_balloon.sample import (
    Placeholders,
    fill_placeholders,
    split_annotation,
    split_sample,
    structural,
)

UPSTREAM = [
    "host_version          : 2.0",
    "capabilities          : enabled hot_add",
    "state                 : 1 (Initialized)",
    "page_size             : 4096",
    "pages_added           : 0",
    "pages_onlined         : 0",
    "pages_ballooned       : 0",
    "total_pages_committed : 977790",
    "max_dynamic_page_count: 268435456",
]


def test_console_form() -> None:
    text = split_sample(["root@guest:~# cat /sys/kernel/debug/hv-balloon", *UPSTREAM])
    assert text.prompt.startswith("root@guest")
    assert text.guest_path == "/sys/kernel/debug/hv-balloon"
    assert text.output[0] == UPSTREAM[0] and text.line_index(1) == 1
    plain = split_sample(UPSTREAM)
    assert plain.prompt == "" and plain.line_index(1) == 0


def test_placeholders_keep_columns() -> None:
    filled, holes = fill_placeholders(
        ["Balloon InflatedTotal:XXXkB InflatedFree:YYYkB", "a : <n> // XXX stays"]
    )
    assert filled == "Balloon InflatedTotal:000kB InflatedFree:000kB\na : 000 // XXX stays\n"
    assert holes == Placeholders(((1, 23, 25), (1, 42, 44), (2, 5, 7)))
    keep = Diagnostic("parse.order", Severity.ERROR, "m", Location(line=1, column=1))
    drop = Diagnostic("schema.const", Severity.ERROR, "m", Location(line=1, column=24))
    assert structural([keep, drop], holes) == [keep]


def test_annotation_split() -> None:
    assert split_annotation("a : 1   // note") == ("a : 1", "   // note")
    assert split_annotation("a : 1") == ("a : 1", "")


def test_template_checks_structure_only() -> None:
    lines = [*UPSTREAM]
    lines[4] = "pages_added           : XXX"
    template = check_sample(SampleRequest(split_sample(lines), format="hv-balloon", template=True))
    assert template.fired == () and template.problems == ()
    plain = check_sample(SampleRequest(split_sample(lines), format="hv-balloon"))
    assert plain.fired_ids == ("parse.bad-number",)
    assert [p.line for p in plain.problems] == [5]
    # a missing line is structure: a template still reports it
    missing = check_sample(
        SampleRequest(split_sample(lines[:-1]), format="hv-balloon", template=True)
    )
    assert "parse.missing-line" in missing.fired_ids


def test_expectations() -> None:
    lines = [*UPSTREAM]
    lines[2] = "state                 : 2 (Initialized)"
    sample = split_sample(lines)
    named = check_sample(
        SampleRequest(sample, expect=Expect.INVALID, violates=("hv-balloon.state-name",))
    )
    assert named.problems == ()
    other = check_sample(SampleRequest(sample, expect=Expect.INVALID, violates=("schema.const",)))
    assert [(p.subtype, p.line) for p in other.problems] == [
        ("hv-balloon.state-name", 3),
        ("expect", 0),
    ]
    conforming = check_sample(SampleRequest(split_sample(UPSTREAM), expect=Expect.INVALID))
    assert [p.subtype for p in conforming.problems] == ["expect"]


def test_rule_hook_findings_count_like_any_other() -> None:
    def rule(result: object) -> list[Diagnostic]:
        return [Diagnostic("hv.rule", Severity.WARNING, "r", Location(line=2, column=1))]

    check = check_sample(SampleRequest(split_sample(UPSTREAM)), rules=rule)
    assert check.fired_ids == ("hv.rule",)


def test_fields_split_only_at_labels() -> None:
    show_mem = [(1, "/d/0"), (1, "/d/0/b"), (23, "/d/0/b/T"), (42, "/d/0/b/F")]
    code = "Balloon InflatedTotal:XXXkB InflatedFree:YYYkB"
    assert choose_fields(code, show_mem) == [(23, "/d/0/b/T"), (42, "/d/0/b/F")]
    capabilities = [(16, "/c"), (16, "/c/0"), (24, "/c/1")]
    assert choose_fields("capabilities : enabled hot_add", capabilities) == [(16, "/c")]


RFC_MEMINFO = ["InflatedTotal:   2097152 kB", "InflatedFree:          0 kB"]


def test_excerpt_spares_only_the_lines_left_out() -> None:
    whole = check_sample(SampleRequest(split_sample(RFC_MEMINFO), "meminfo", "rfc"))
    assert set(whole.fired_ids) == {"schema.required"}
    excerpt = check_sample(SampleRequest(split_sample(RFC_MEMINFO), "meminfo", "rfc", excerpt=True))
    assert excerpt.fired == () and excerpt.problems == ()
    # what is wrong with the lines it shows is still a finding
    bad = [RFC_MEMINFO[0], "InflatedFree:    1048576 kB"]
    both = check_sample(SampleRequest(split_sample(bad), "meminfo", "rfc", excerpt=True))
    assert both.fired_ids == ("rfc.inflated-exclusive",)
    # a missing line of a format that has a fixed set of lines: spared too
    cut = check_sample(SampleRequest(split_sample(UPSTREAM[:-1]), "hv-balloon", excerpt=True))
    assert cut.fired == ()
    assert (
        "parse.missing-line"
        in check_sample(SampleRequest(split_sample(UPSTREAM[:-1]), "hv-balloon")).fired_ids
    )


def test_file_rules_run_by_default() -> None:
    lines = [*UPSTREAM]
    lines[5] = "pages_onlined         : 5"
    sample = SampleRequest(split_sample(lines), "hv-balloon")
    assert check_sample(sample).fired_ids == ("hv-balloon.onlined-within-added",)
    assert check_sample(sample, rules=None).fired == ()


def test_a_note_counts_only_when_a_counter_example_names_it() -> None:
    # bit 7 of the features: no name in any version known here, a note
    features = split_sample(["0" * 7 + "1" + "0" * 56])
    check = check_sample(SampleRequest(features, format="virtio-features"))
    assert check.problems == () and check.fired_ids == ()
    assert "virtio-features.unknown-bit" in {d.id for d in check.result.diagnostics}
    named = ("virtio-features.unknown-bit",)
    counter = check_sample(
        SampleRequest(features, format="virtio-features", expect=Expect.INVALID, violates=named)
    )
    assert counter.problems == () and counter.fired_ids == named
