"""The project's own site (docs/) builds with -W, and -W fails it when an example breaks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx.cmd.build import build_main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _build(
    capsys: pytest.CaptureFixture[str], source: Path, out: Path, builder: str = "html"
) -> tuple[int, str]:
    """``sphinx-build -W -q -b BUILDER source out``: the exit status and standard error
    (warnings, and the one that stopped the build)."""
    capsys.readouterr()
    status = build_main(["-W", "-q", "-b", builder, str(source), str(out)])
    return status, re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().err)


def test_docs_build_with_warnings_as_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, warnings = _build(capsys, DOCS, tmp_path / "html")
    assert (status, warnings) == (0, "")
    page = tmp_path / "html" / "mm" / "balloon.html"
    soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
    samples = soup.select("div.balloon-sample")
    assert len(samples) >= 15
    verdicts = [s.select_one("p.balloon-status").get_text().rsplit(" · ", 1)[1] for s in samples]
    assert all(v == "conforms" or v.startswith("counter-example: violates ") for v in verdicts)
    assert sum(v.startswith("counter-example") for v in verdicts) >= 5
    grouped = [s for s in samples if "group firecracker-guest" in s.get_text()]
    assert len(grouped) == 3
    rules = BeautifulSoup((tmp_path / "html" / "rules.html").read_text("utf-8"), "html.parser")
    assert rules.select_one("dt#balloon-rule-rfc-accounting") is not None
    # every helpUri a SARIF report can hold lands on an entry of this page
    from conformance.report.sarif import help_uri
    from conformance.rules import FAMILIES, describe, known_ids

    anchors = {dt["id"] for dt in rules.select("dt[id]")}
    ids = [*known_ids(), *(f"{family}.not-explained" for family in FAMILIES)]
    uris = {rule: help_uri(rule, describe(rule)) for rule in ids}
    assert {r: u for r, u in uris.items() if u.split("#", 1)[-1] not in anchors} == {}
    assert "series.reboot" in known_ids() and "virtio-features.unknown-bit" in known_ids()


def test_a_broken_example_fails_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build"))
    document = source / "mm" / "balloon.rst"
    text = document.read_text("utf-8")
    line = "   state                 : 4 (Hot Add)\n"
    assert text.count(line) == 1
    document.write_text(text.replace(line, "   state                 : 4 (Initialized)\n"), "utf-8")
    number = text[: text.index(line)].count("\n") + 1
    status, warnings = _build(capsys, source, tmp_path / "html")
    assert status != 0
    # Sphinx 3.4 writes "Warning, treated as error:" and the location without " WARNING: "
    where = re.escape(f"{document}:{number}:") + r" ?(WARNING: )?"
    assert re.search(where + re.escape("balloon-sample (hv-balloon): state 4"), warnings)
    assert re.search(r"\[(balloon\.)?hv-balloon\.state-name\]", warnings)  # named once


def test_docs_text_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, warnings = _build(capsys, DOCS, tmp_path / "text", "text")
    assert (status, warnings) == (0, "")
    text = (tmp_path / "text" / "mm" / "balloon.txt").read_text("utf-8")
    assert "counter-example: violates" in text
