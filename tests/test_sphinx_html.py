"""HTML output of balloon-sample, balloon-schema and :balloon-field: (test-balloon-basic)."""

from __future__ import annotations

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


def test_fields_carry_description_and_unit(app: Any) -> None:
    soup = _soup(app)
    upstream = _samples(soup)[1]
    fields = {
        span.get_text().split(":")[0].strip(): span
        for span in upstream.select("span.balloon-field")
    }
    assert len(fields) == 9
    page_size = fields["page_size"]
    # the hover text, and the span's accessible description for screen readers
    assert page_size["title"] == "Hyper-V page size in bytes, always 4096 [bytes]"
    assert not page_size.has_attr("aria-describedby")  # no second copy of the words


def test_descriptions_are_never_inline_nor_hidden_text(app: Any) -> None:
    soup = _soup(app)
    source = (Path(app.srcdir) / "index.rst").read_text("utf-8")
    for sample in _samples(soup):
        # everything inside the block is the sample's own text
        for line in sample.select_one("pre").get_text().splitlines():
            assert line.strip() in source, line
        # and nothing hidden beside it that a reader without CSS would meet
        assert not sample.select("[hidden]") and not sample.select("[aria-hidden]")
    for span in soup.select("span[aria-describedby]"):  # broken lines: their findings
        assert soup.find(id=span["aria-describedby"]).name == "ul"


def test_prompt_and_annotations_are_apart_from_output(app: Any) -> None:
    rfc = _samples(_soup(app))[0]
    prompt = rfc.select("span.balloon-prompt")
    assert [p.get_text() for p in prompt] == ["# cat /sys/kernel/debug/hv-balloon"]
    notes = [n.get_text().strip() for n in rfc.select("span.balloon-annotation")]
    assert "// pages the Host have taken back" in notes
    assert len(notes) == 9
    # no annotation text inside a field, no prompt counted as a field
    for field in rfc.select("span.balloon-field"):
        assert "//" not in field.get_text() and "cat " not in field.get_text()
    # the reader still sees the sample exactly as written
    block = rfc.select_one("pre")
    assert block is not None
    visible = block.get_text()
    assert visible.splitlines()[2] == "capabilities : enabled hot_add"
    assert visible.splitlines()[7].strip() == "// as available/used"


def test_status_line_and_captions(app: Any) -> None:
    samples = _samples(_soup(app))
    statuses = [s.select_one("p.balloon-status").get_text() for s in samples]
    assert statuses[0] == (
        "hv-balloon · dialect rfc · lenient layout · checked: parser, schema "
        "hv-balloon.rfc.schema.json, file rules · conforms"
    )
    assert "dialect 6.0 · exact layout" in statuses[1]
    assert statuses[2].endswith("counter-example: violates hv-balloon.state-name")
    assert "(template: structure only)" in statuses[3] and statuses[3].endswith("conforms")
    captions = [s.select_one("p.balloon-caption") for s in samples]
    assert captions[0] is not None and captions[0].get_text() == "The RFC Hyper-V example"
    assert captions[1] is None


def test_counter_example_marks_the_breaking_line(app: Any) -> None:
    bad = _samples(_soup(app))[2]
    assert "balloon-counterexample" in bad["class"]
    marked = bad.select("span.balloon-violation")
    assert len(marked) == 1
    assert marked[0].get_text().startswith("state                 : 2 (Initialized)")
    assert marked[0]["title"] == "breaks hv-balloon.state-name"
    listed = bad.select_one("ul.balloon-findings")
    assert marked[0]["aria-describedby"] == listed["id"]
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
    assert not list(Path(app.outdir, "_static").glob("balloon*.js"))


def test_conforming_samples_give_no_warnings(app: Any, warning: Any) -> None:
    app.build()
    assert "balloon" not in warning.getvalue()
