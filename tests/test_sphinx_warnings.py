"""Warnings at the sample's own line, strict mode, and directive misuse."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from .conftest import ERROR


def _plain(warning: Any) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", warning.getvalue())


def _rule_tags(text: str) -> list[str]:
    """The rule ids the warnings name in brackets: ``[schema.const]`` in the message
    before Sphinx 8, Sphinx's own ``[balloon.schema.const]`` type suffix since."""
    return [m.group(2) for m in re.finditer(r"\[(balloon\.)?([a-z][\w-]*\.[\w.-]+)\]", text)]


@pytest.mark.sphinx("html", testroot="balloon-files")
def test_file_samples_warn_at_the_file_line(app: Any, warning: Any) -> None:
    app.build()
    text = _plain(warning)
    bad = Path(app.srcdir) / "samples" / "bad.txt"
    # line 5 of the file holds "page_size : 8192" (line 1 is the prompt)
    assert f"{bad}:5: WARNING: balloon-sample (hv-balloon): " in text
    assert "/page_size: 4096 was expected" in text
    assert _rule_tags(text) == ["schema.const"], text
    assert f"(sample at {Path(app.srcdir) / 'sub' / 'page.rst'}:4)" in text
    assert text.count("WARNING") == 1, text
    html = (Path(app.outdir) / "sub" / "page.html").read_text("utf-8")
    assert "page_size             : 8192" in html


@pytest.mark.sphinx("html", testroot="balloon-files")
def test_file_samples_are_dependencies(app: Any) -> None:
    app.build()
    deps = {str(Path(app.srcdir, dep).resolve()) for dep in app.env.dependencies["sub/page"]}
    assert str((Path(app.srcdir) / "samples" / "bad.txt").resolve()) in deps
    assert str((Path(app.srcdir) / "samples" / "hv.txt").resolve()) in deps
    schema_files = {Path(dep).name for dep in deps if dep.endswith(".schema.json")}
    assert schema_files == {
        "hv-balloon.6.0.schema.json",
        "hv-balloon.schema.json",
        "hv-balloon.rfc.schema.json",
        "common.schema.json",
    }


@pytest.mark.sphinx("html", testroot="balloon-strict")
def test_strict_makes_findings_errors_and_suppress_warnings_works(
    app: Any, warning: Any, balloon_records: list[logging.LogRecord]
) -> None:
    records = balloon_records
    app.build()
    text = _plain(warning)
    source = Path(app.srcdir) / "index.rst"
    assert f"{source}:15: {ERROR}: balloon-sample (hv-balloon): " in text
    assert "has no line 'pages_whatever'" in text
    assert _rule_tags(text) == ["parse.unknown-label"], text
    # the exact-layout finding on line 19 is suppressed by its subtype
    assert "layout.whitespace" not in text
    assert text.count(f"{ERROR}:") == 1, text
    levels = {r.levelname for r in records if getattr(r, "type", "") == "balloon"}
    assert levels == {"ERROR"}


@pytest.mark.sphinx("html", testroot="balloon-misuse")
def test_misuse_is_an_error_at_the_directive(app: Any, warning: Any) -> None:
    app.build()
    text = _plain(warning)
    source = Path(app.srcdir) / "index.rst"
    expected = [
        (4, "unknown format 'no-such-format'"),
        (8, "has no dialect '9.9'"),
        (13, 'Error in "balloon-sample" directive:'),
        (18, "no file 'missing.txt'"),
        (21, "'../../outside.txt' is outside the source folder"),
        (24, ":violates: names the checks a counter-example breaks"),
        (30, "give the sample as content or with :file:"),
        (32, "cannot tell the format of this text; name the format: .. balloon-sample:: FORMAT"),
        (36, "balloon-schema: unknown format 'no-such-format'"),
    ]
    for line, message in expected:
        pattern = re.escape(f"{source}:{line}: {ERROR}: ") + ".*" + re.escape(message)
        assert re.search(pattern, text), (line, message, text)
    assert "invalid option value" in text and "sloppy" in text
    assert "Traceback" not in text
    html = (Path(app.outdir) / "index.html").read_text("utf-8")
    assert "after the misuse." in html
    # a misused sample still shows its text, unchecked: unknown format, unknown dialect,
    # :violates: with :expect: valid, a text of no known format
    blocks = [pre.get_text().strip() for pre in BeautifulSoup(html, "html.parser").select("pre")]
    assert blocks == ["host_version : 2.0"] * 3 + ["just some words"], blocks
