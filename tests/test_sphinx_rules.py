"""``balloon-rules`` lists, ``:balloon-rule:`` links and the links of a sample's findings
(test-balloon-rules)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from conformance.rules import FAMILIES, RULES, Scope

from .conftest import ERROR

pytestmark = pytest.mark.sphinx("html", testroot="balloon-rules", freshenv=True)


def _soup(app: Any, page: str) -> BeautifulSoup:
    return BeautifulSoup((Path(app.outdir) / f"{page}.html").read_text("utf-8"), "html.parser")


def _terms(soup: BeautifulSoup) -> list[list[str]]:
    """Per ``balloon-rules`` list, the ids of its entries."""
    return [
        [term.select_one("code").get_text() for term in listing.select(":scope > dt")]
        for listing in soup.select("dl.balloon-rules")
    ]


def test_the_full_list_has_every_rule_and_family_with_anchors(app: Any) -> None:
    app.build()
    soup = _soup(app, "index")
    (ids,) = _terms(soup)
    assert ids == [rule.id for rule in RULES] + [f"{family}.*" for family in FAMILIES]
    entry = soup.select_one("dt#balloon-rule-rfc-accounting")
    assert entry is not None
    assert entry.get_text() == "rfc.accounting (error, capture scope)"
    body = entry.find_next_sibling("dd")
    assert (
        body.select_one("p").get_text()
        == "each driver feeds the RFC counter of its accounting mode"
    )
    fields = [dt.get_text().rstrip(":") for dt in body.select("dl.field-list > dt")]
    assert fields == ["Rests on", "Violation"]
    drift = soup.select_one("dt#balloon-rule-balloon-driver-agrees").find_next_sibling("dd")
    assert "Tolerates" in drift.get_text() and "4 MiB" in drift.get_text()
    assert soup.select_one("dt#balloon-rule-parse-family") is not None


def test_filters_and_named_ids(app: Any) -> None:
    app.build()
    lists = _terms(_soup(app, "capture"))
    expected = [r.id for r in RULES if r.scope is Scope.CAPTURE and r.id.startswith("balloon.")]
    assert lists == [expected, ["parse.missing-line", "rfc.accounting"]]


def test_roles_link_rules_and_families(app: Any) -> None:
    app.build()
    links = {
        a.get_text(): a["href"] for a in _soup(app, "index").select("p > a.reference.internal")
    }
    assert links["virtio.no-access-platform"] == "#balloon-rule-virtio-no-access-platform"
    assert links["parse.bad-number"] == "#balloon-rule-parse-family"
    # a rule listed on both pages: the entry on the linking page
    assert links["the RFC accounting"] == "#balloon-rule-rfc-accounting"
    capture = {a.get_text(): a["href"] for a in _soup(app, "capture").select("a.reference")}
    assert "no.such-rule" not in capture


def test_findings_link_their_rule(app: Any) -> None:
    app.build()
    findings = _soup(app, "index").select_one("ul.balloon-findings")
    link = findings.select_one("a.reference.internal")
    assert link["href"] == "#balloon-rule-virtio-no-access-platform"
    assert link.get_text() == "virtio.no-access-platform"


def test_warnings_and_misuse(app: Any, warning: Any) -> None:
    app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", warning.getvalue())
    source = Path(app.srcdir) / "capture.rst"
    assert f"{source}:10: WARNING: balloon:rule reference target not found: no.such-rule" in text
    assert f'{source}:12: {ERROR}: Error in "balloon-rules" directive:' in text
    assert "'sideways' is not a scope (one of file, capture, series)" in text
    assert f"{source}:15: {ERROR}: balloon-rules: no rule matches" in text
    # an id no report can hold is refused, as balloon-conform explain refuses it
    assert f"{source}:18: {ERROR}: balloon-rules: unknown id 'rfc.acounting'; did you mean" in text
    assert "Traceback" not in text
    assert len(re.findall(rf"(WARNING|{ERROR}):", text)) == 4, text


@pytest.mark.sphinx("text", testroot="balloon-rules", freshenv=True)
def test_text_builder_prints_the_list(app: Any) -> None:
    app.build()
    text = (Path(app.outdir) / "capture.txt").read_text("utf-8")
    assert '"balloon.single-driver" (error, capture scope)' in text
    assert "Rests on:" in text
