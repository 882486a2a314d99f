"""``:group:`` (capture rules across a page's samples), ``:kernel:`` and ``:excerpt:``
in a build (test-balloon-groups)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

pytestmark = pytest.mark.sphinx("html", testroot="balloon-groups", freshenv=True)


def _warnings(app: Any, records: list[logging.LogRecord]) -> list[tuple[int, str, str]]:
    """``(line, subtype, message)`` of every balloon warning, all in index.rst (from the
    log records: the warning stream of Sphinx 3.4 does not show the subtype)."""
    app.build()
    source = str(Path(app.srcdir) / "index.rst")
    found = []
    for record in records:
        if getattr(record, "type", "") != "balloon":
            continue
        assert record.levelname == "WARNING", record.getMessage()
        path, number = str(getattr(record, "location", "")).rsplit(":", 1)
        assert path == source, record.getMessage()
        found.append((int(number), str(getattr(record, "subtype", "")), record.getMessage()))
    return found


def _samples(app: Any) -> list[Tag]:
    soup = BeautifulSoup((Path(app.outdir) / "index.html").read_text("utf-8"), "html.parser")
    return soup.select("div.balloon-sample")


def test_every_warning_is_at_its_line(app: Any, balloon_records: list[logging.LogRecord]) -> None:
    found = _warnings(app, balloon_records)
    counts = Counter((line, rule) for line, rule, _ in found)
    assert counts == {
        # the group 'wrong': features with DEFLATE_ON_OOM, the balloon in InflatedTotal,
        # at the meminfo line that holds it
        (47, "rfc.accounting"): 1,
        # a counter-example whose group keeps the rule it names: at its directive
        (74, "expect"): 1,
        # two drivers, unexpected: about the capture as a whole, at the group's first sample
        (94, "balloon.single-driver"): 1,
        # two kernels in one guest
        (118, "group"): 1,
        # an excerpt reports a bad value on a line it shows
        (131, "parse.bad-number"): 1,
        # without :excerpt:, every member the two lines leave out is a finding
        (138, "schema.required"): 19,
    }


def test_capture_findings_name_the_samples(
    app: Any, balloon_records: list[logging.LogRecord]
) -> None:
    messages = {rule: message for _, rule, message in _warnings(app, balloon_records)}
    # the capture names each sample by its document and line
    # a :file: sample by its file, with its directive's line
    expected = (
        "2 balloon drivers are active: samples/hv-balloon.txt (index.rst:94), "
        "samples/vmmemctl.txt (index.rst:98)"
    )
    assert expected in messages["balloon.single-driver"]
    assert "balloon-sample (hv-balloon): 2 balloon" in messages["balloon.single-driver"]
    assert "virtio negotiated DEFLATE_ON_OOM (bit 2)" in messages["rfc.accounting"]
    assert "group 'kernels' is one guest, running kernel 6.1" in messages["group"]


def test_many_findings_of_one_rule_are_listed_once_grouped(
    app: Any, balloon_records: list[logging.LogRecord]
) -> None:
    # the build log names each of the 19 (test_every_warning_is_at_its_line); the page
    # shows two in full, then one item for the rest, each rule id as plain text
    found = _warnings(app, balloon_records)
    assert sum(1 for _, rule, _ in found if rule == "schema.required") == 19
    findings = _samples(app)[-1].select_one("ul.balloon-findings")
    items = [li.get_text() for li in findings.select("li")]
    assert (
        items[0] == "line 1: /Active: \u2018Active\u2019 is a required property [schema.required]"
    )
    assert items[2:] == ["and 17 more on line 1 [schema.required]"]
    assert len(items) == 3
    assert not findings.select("code, span")


def test_group_findings_are_rendered_and_recorded(app: Any) -> None:
    app.build()
    samples = _samples(app)
    status = [s.select_one("p.balloon-status").get_text() for s in samples]
    assert "kernel 6.1 · " in status[0]
    assert " · group consistent · " in status[1]
    assert " · excerpt: missing lines allowed · " in status[1]
    assert status[1].endswith("· conforms")
    # the counter-example shows the line its group breaks
    counter = samples[7]
    assert counter.select_one("p.balloon-caption, .balloon-caption") is not None
    assert status[7].endswith("counter-example: violates rfc.accounting")
    broken = counter.select_one("span.balloon-violation")
    assert broken is not None and broken.get_text().startswith("InflatedTotal:   2097152 kB")
    domain = app.env.get_domain("balloon")
    fired = [s.fired for s in domain.samples]
    assert fired.count(("rfc.accounting",)) == 2
    assert ("meminfo.balloon-line",) in fired  # :kernel: 6.15.0 reached the capture rules
    assert ("balloon.single-driver",) in fired


def test_no_capture_rules_without_a_group(app: Any) -> None:
    app.build()
    samples = _samples(app)
    # samples 3 and 4 are the 'wrong' pair without :group:
    for sample in samples[2:4]:
        status = sample.select_one("p.balloon-status").get_text()
        assert " · group " not in status and status.endswith("· conforms")


@pytest.mark.sphinx("html", testroot="balloon-group-files")
def test_group_findings_in_files_name_the_file_line(app: Any, warning: Any) -> None:
    app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", warning.getvalue())
    srcdir = Path(app.srcdir)
    # the finding stands at line 45 of the meminfo file (its Balloon: line); the message
    # names the vmstat file it compares with and the directive that shows the sample
    assert f"{srcdir / 'samples' / 'meminfo.txt'}:45: WARNING: balloon-sample (meminfo): " in text
    assert "(samples/vmstat.txt (index.rst:10): nr_balloon_pages 5)" in text
    assert f"(sample at {srcdir / 'index.rst'}:6)" in text
    assert text.count("WARNING") == 1, text


def test_a_second_kernel_in_a_group_counts_as_a_problem_of_its_sample(app: Any) -> None:
    """What ``balloon_strict`` fails on: the sample that names another kernel."""
    app.build()
    lines = {s.line: s.problems for s in app.env.get_domain("balloon").samples}
    assert lines[118] == 1
