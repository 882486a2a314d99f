"""HTML output of balloon-sample, balloon-schema and :balloon-field: (test-balloon-basic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

pytestmark = pytest.mark.sphinx("html", testroot="balloon-basic")


def _soup(app: Any) -> BeautifulSoup:
    app.build()
    return BeautifulSoup((Path(app.outdir) / "index.html").read_text("utf-8"), "html.parser")


def _samples(soup: BeautifulSoup) -> list[Tag]:
    return soup.select("div.balloon-sample")


def _descriptions(app: Any) -> dict[str, dict[str, str]]:
    """_static/balloon-fields.js: the descriptions, per schema and field key."""
    text = (Path(app.outdir) / "_static" / "balloon-fields.js").read_text("utf-8")
    prefix = "window.BALLOON_FIELDS = "
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])  # type: ignore[no-any-return]


def test_fields_are_a_map_and_their_descriptions_one_file(app: Any) -> None:
    soup = _soup(app)
    upstream = _samples(soup)[1]
    # no field markup in the block: a map on the box, line by line (the prompt is line 0)
    assert not upstream.select("pre span[class]")
    schema, *entries = upstream["data-balloon-fields"].split(" ")
    assert schema == "hv-balloon.6.0"
    assert entries == ["*"] * 9  # lines 0 to 8; each line's label is its field's key
    descriptions = _descriptions(app)
    # the hover text, and the accessible description, once per build
    assert descriptions[schema]["page_size"] == "Hyper-V page size in bytes, always 4096 [bytes]"
    assert len(descriptions[schema]) == 9
    assert "pages_ballooned_out" in descriptions["hv-balloon.rfc"]
    # the page itself holds the words only in the schema table, never as a title
    assert "always 4096 [bytes]" not in (Path(app.outdir) / "index.html").read_text("utf-8")


def test_descriptions_are_never_inline_nor_hidden_text(app: Any) -> None:
    soup = _soup(app)
    source = (Path(app.srcdir) / "index.rst").read_text("utf-8")
    for sample in _samples(soup):
        # everything inside the block is the sample's own text
        for line in sample.select_one("pre").get_text().splitlines():
            assert line.strip() in source, line
        # and nothing hidden beside it that a reader without CSS would meet
        assert not sample.select("[hidden]") and not sample.select("[aria-hidden]")
    described = soup.select("[aria-describedby]")  # a sample that breaks rules: its findings
    assert [box.name for box in described] == ["div"]
    for box in described:
        assert soup.find(id=box["aria-describedby"]).name == "ul"


def test_prompt_and_annotations_are_apart_from_output(app: Any) -> None:
    rfc = _samples(_soup(app))[0]
    prompt = rfc.select("span.balloon-prompt")
    assert [p.get_text() for p in prompt] == ["# cat /sys/kernel/debug/hv-balloon"]
    notes = [n.get_text().strip() for n in rfc.select("span.balloon-annotation")]
    assert "// pages the Host have taken back" in notes
    assert len(notes) == 9
    # the prompt is no field: the map starts at the first output line
    assert rfc["data-balloon-fields"].split(" ")[1].startswith("1:")
    # the reader still sees the sample exactly as written
    block = rfc.select_one("pre")
    assert block is not None
    visible = block.get_text()
    assert visible.splitlines()[2] == "capabilities : enabled hot_add"
    assert visible.splitlines()[7].strip() == "// as available/used"


def test_status_line_and_captions(app: Any) -> None:
    samples = _samples(_soup(app))
    statuses = [s.select_one("p.balloon-status").get_text() for s in samples]
    # format and dialect (so the schema), layout, verdict
    assert statuses[0] == "hv-balloon rfc · lenient layout · conforms"
    assert statuses[1].startswith("hv-balloon 6.0 · exact layout · ")
    assert statuses[2].endswith("counter-example: violates hv-balloon.state-name")
    assert " · template: structure only · " in statuses[3] and statuses[3].endswith("conforms")
    captions = [s.select_one("p.balloon-caption") for s in samples]
    assert captions[0] is not None and captions[0].get_text() == "The RFC Hyper-V example"
    assert captions[1] is None


def test_counter_example_marks_the_breaking_line(app: Any) -> None:
    bad = _samples(_soup(app))[2]
    assert "balloon-counterexample" in bad["class"]
    marked = bad.select("span.balloon-violation")
    assert len(marked) == 1
    assert marked[0].get_text().startswith("state                 : 2 (Initialized)")
    assert marked[0].attrs == {"class": ["balloon-violation"]}  # a light mark, no more
    listed = bad.select_one("ul.balloon-findings")
    assert bad["aria-describedby"] == listed["id"]  # the block as a whole
    findings = [li.get_text() for li in bad.select("ul.balloon-findings li")]
    assert findings == [
        "line 3: state 2 is \u2018Balloon Up\u2019 in the driver, not \u2018Initialized\u2019 "
        "[hv-balloon.state-name]"
    ]


def test_references_and_field_anchors(app: Any) -> None:
    soup = _soup(app)
    links = {a.get_text(): a["href"] for a in soup.select("a.reference.internal")}
    assert links["The RFC Hyper-V example"] == "#rfc-example"
    assert links["the upstream sample"] == "#upstream-plain"
    assert links["hv-balloon.pages_ballooned"] == "#balloon-field-hv-balloon-pages-ballooned"
    assert (
        links["hv-balloon:rfc.pages_ballooned_out"]
        == "#balloon-field-hv-balloon-rfc-pages-ballooned-out"
    )
    for href in links.values():
        assert soup.find(id=href[1:]) is not None, href


def test_schema_tables(app: Any) -> None:
    tables = _soup(app).select("table.balloon-schema")
    assert len(tables) == 2
    headings = [th.get_text() for th in tables[0].select("thead th")]
    assert headings == ["Field", "Type", "Unit", "Description", "First kernel"]
    rows = {
        tr.select("td")[0].get_text(): [td.get_text() for td in tr.select("td")]
        for tr in tables[0].select("tbody tr")
    }
    assert rows["pages_ballooned"][1:3] == ["integer", "4KiB-pages"]
    assert rows["pages_ballooned"][4] == "6.0"
    assert rows["host_version"][4] == "6.0, RFC"
    assert rows["host_version.major"][2] == "version"
    assert "pages_ballooned_out" in rows  # the whole format: both dialects
    rfc_rows = [tr.select("td")[0].get_text() for tr in tables[1].select("tbody tr")]
    assert "pages_ballooned" not in rfc_rows and "vm_pages_commited" in rfc_rows


def test_css_ships_with_the_extension(app: Any) -> None:
    soup = _soup(app)
    hrefs = [link["href"] for link in soup.select("link[rel=stylesheet]")]
    assert any(h.split("?")[0] == "_static/balloon.css" for h in hrefs)
    css = (Path(app.outdir) / "_static" / "balloon.css").read_text("utf-8")
    assert ".balloon-field" in css and ".balloon-violation" in css
    # the descriptions before the script that reads them
    scripts = [s["src"].split("?")[0] for s in soup.select("script[src]")]
    ours = [s for s in scripts if s.startswith("_static/balloon")]
    assert ours == ["_static/balloon-fields.js", "_static/balloon.js"]
    script = (Path(app.outdir) / "_static" / "balloon.js").read_text("utf-8")
    assert "data-balloon-fields" in script and "BALLOON_FIELDS" in script


def test_conforming_samples_give_no_warnings(app: Any, warning: Any) -> None:
    app.build()
    assert "balloon" not in warning.getvalue()
