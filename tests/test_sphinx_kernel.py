"""docs/mm/balloon.rst as a kernel maintainer uses it: the only page of a project whose
conf.py adds nothing but the extension, and the documented fallback for builders
without the package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _kernel_tree(tmp_path: Path, conf: str) -> Path:
    """A fresh project: the page as its index, its samples, and ``conf``."""
    src = tmp_path / "src"
    src.mkdir(parents=True)
    shutil.copy(DOCS / "mm" / "balloon.rst", src / "index.rst")
    shutil.copytree(DOCS / "mm" / "samples", src / "samples")
    (src / "conf.py").write_text(conf)
    return src


def _build(src: Path, *options: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    # a process per build: the fallback registers directives of the same names
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", *options, "-b", "html", str(src), str(src / "_out")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=src.parent,  # `python -m` puts the working folder first on the path
    )
    return done.returncode, re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)


def _soup(src: Path) -> BeautifulSoup:
    return BeautifulSoup((src / "_out" / "index.html").read_text("utf-8"), "html.parser")


def test_the_page_builds_alone_with_warnings_as_errors_and_nitpicky(tmp_path: Path) -> None:
    src = _kernel_tree(tmp_path, 'extensions = ["sphinxext_balloon"]\n')
    assert _build(src, "-W", "-n") == (0, "")
    soup = _soup(src)
    # with no schema table, a field link goes to the first sample that shows the field
    links = {a.get_text(): a for a in soup.select("a.reference.internal")}
    pages = links["hv-balloon.pages_ballooned"]
    sample = soup.find(id=pages["href"].lstrip("#"))
    assert sample is not None and "balloon-sample" in sample["class"]
    assert "pages_ballooned" in sample.select_one("pre").get_text()
    assert pages["title"].startswith("hv-balloon.pages_ballooned: Pages currently given")
    balloon = links["meminfo.Balloon"]
    assert "Balloon:" in soup.find(id=balloon["href"].lstrip("#")).select_one("pre").get_text()
    # a rule no sample on the page breaks: its name, with its title on hover
    abbr = [a for a in soup.select("abbr") if a.get_text() == "balloon.vmstat-agrees"]
    assert abbr and abbr[0]["title"] == "meminfo Balloon equals nr_balloon_pages x page size"
    # 26 layout.whitespace findings of one counter-example: two in full, then the lines
    items = [li.get_text() for li in soup.select("ul.balloon-findings li")]
    assert "and 24 more on lines 3\u201326 [layout.whitespace]" in items
    assert "and 7 more on lines 3\u20136, 8\u201310 [layout.whitespace]" in items
    # no link leaves the page for a document the kernel does not have
    assert not [a for a in soup.select("a.reference.internal") if a["href"].split("#")[0]]


def test_an_unknown_field_still_warns(tmp_path: Path) -> None:
    src = _kernel_tree(tmp_path, 'extensions = ["sphinxext_balloon"]\n')
    page = src / "index.rst"
    page.write_text(page.read_text() + "\nSee :balloon-field:`hv-balloon.no_such_field`.\n")
    status, warnings = _build(src, "-n")
    assert status == 0
    assert "reference target not found: hv-balloon.no_such_field" in warnings
    assert warnings.count("WARNING") == 1, warnings


def test_the_documented_fallback_without_the_package(tmp_path: Path) -> None:
    # the file the maintainers' page shows
    assert ".. literalinclude:: kernel/conf_fallback.py" in (DOCS / "kernel.rst").read_text()
    fallback = (DOCS / "kernel" / "conf_fallback.py").read_text()
    src = _kernel_tree(tmp_path, "extensions = []\n\n" + fallback)
    hide = tmp_path / "hide"
    hide.mkdir()  # first on the path: importing the extension fails, as without it
    (hide / "sphinxext_balloon.py").write_text('raise ImportError("not installed")\n')
    env = {**os.environ, "PYTHONPATH": str(hide)}
    status, warnings = _build(src, "-n", env=env)
    assert status == 0
    assert warnings.count("WARNING") == 1, warnings
    assert "sphinxext_balloon is not installed: the balloon-sample examples are not" in warnings
    soup = _soup(src)
    assert not soup.select(".balloon-sample, .balloon-field, table")
    blocks = [pre.get_text() for pre in soup.select("pre")]
    page = (DOCS / "mm" / "balloon.rst").read_text()
    # and the page's other literal blocks (`::` and code-block)
    literal = re.findall(r"(?m)^(?!\.\. ).*::$|^\.\. code-block::", page)
    assert len(blocks) == page.count(".. balloon-sample::") + len(literal)
    # content samples and :file: samples alike, as plain text
    assert any(b.startswith("# cat /sys/kernel/debug/hv-balloon\nhost_version") for b in blocks)
    vmstat = (DOCS / "mm" / "samples" / "vmstat-6.18.44.txt").read_text().rstrip("\n")
    assert vmstat in [b.rstrip("\n") for b in blocks]
    codes = {code.get_text() for code in soup.select("code")}
    assert {"hv-balloon.pages_ballooned", "rfc.accounting"} <= codes


WEIGHT_BOUNDS = {"": 1.5, 'highlight_language = "none"\n': 1.5}
"""The page with checked samples against the same page with plain literal blocks (the
fallback's), in bytes of HTML, per setting: issue #11 asks for at most 1.5x. Measured
(Sphinx 9.0.4): 46.4 KB against 62.6 KB (0.74x) with Sphinx's default highlighting, and
45.7 KB against 31.0 KB (1.48x) with the kernel's highlight_language = "none", where
plain blocks carry no markup at all. Before the field descriptions moved into
_static/balloon-fields.js (a map per sample, titles set by balloon.js), the findings
were grouped per rule and the violation marks and status line slimmed, the same pages
were 1.42x and 2.84x (88 KB)."""


@pytest.mark.parametrize("setting", sorted(WEIGHT_BOUNDS))
def test_the_page_weighs_a_bounded_multiple_of_plain_literal_blocks(
    tmp_path: Path, setting: str
) -> None:
    conf = setting + 'extensions = ["sphinxext_balloon"]\n'
    checked = _kernel_tree(tmp_path / "checked", conf)
    assert _build(checked)[0] == 0
    fallback = (DOCS / "kernel" / "conf_fallback.py").read_text()
    plain = _kernel_tree(tmp_path / "plain", setting + "extensions = []\n\n" + fallback)
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sphinxext_balloon.py").write_text('raise ImportError("not installed")\n')
    assert _build(plain, env={**os.environ, "PYTHONPATH": str(hide)})[0] == 0
    heavy = (checked / "_out" / "index.html").stat().st_size
    light = (plain / "_out" / "index.html").stat().st_size
    assert len(_soup(plain).select("pre")) == len(_soup(checked).select("pre"))
    assert heavy <= WEIGHT_BOUNDS[setting] * light, (heavy, light, heavy / light)


def test_the_fallback_takes_every_option_and_any_file(tmp_path: Path) -> None:
    """Every option of the real directives (the fallback must not fall behind them), and
    a ``:file:`` that cannot be read: a warning at the directive, never a traceback."""
    from sphinxext_balloon.directives import SampleDirective
    from sphinxext_balloon.rules_list import RulesDirective

    src = tmp_path / "src"
    src.mkdir()
    fallback = (DOCS / "kernel" / "conf_fallback.py").read_text()
    (src / "conf.py").write_text("extensions = []\n\n" + fallback)
    (src / "folder").mkdir()
    sample = [f"   :{name}: x" for name in SampleDirective.option_spec if name != "file"]
    rules = [f"   :{name}: x" for name in RulesDirective.option_spec]
    lines = ["T", "=", "", ".. balloon-sample:: hv-balloon", *sample, "", "   host_version : 2.0"]
    lines += ["", ".. balloon-rules:: rfc.accounting", *rules, ""]
    where = {}
    for name in ("missing.txt", "folder", "x" * 300):  # the last: a name too long
        where[name] = len(lines) + 1
        lines += [".. balloon-sample:: hv-balloon", f"   :file: {name}", ""]
    (src / "index.rst").write_text("\n".join(lines))
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sphinxext_balloon.py").write_text('raise ImportError("not installed")\n')
    status, warnings = _build(src, env={**os.environ, "PYTHONPATH": str(hide)})
    assert status == 0, warnings
    assert "Traceback" not in warnings and "unknown option" not in warnings, warnings
    for name, line in where.items():
        assert f"index.rst:{line}: WARNING: balloon-sample: cannot read {name!r}" in warnings
    assert [pre.get_text().strip() for pre in _soup(src).select("pre")] == ["host_version : 2.0"]
