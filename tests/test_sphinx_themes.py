"""A sample sits in the same wrapper as a plain literal block of the same build, so
every theme gives it its shaded box; its field descriptions never show up inline."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from bs4 import BeautifulSoup, Tag

from .conftest import ROOTS, sphinx_path

THEMES = ("alabaster", "sphinx_rtd_theme", "furo")


def _chain(pre: Tag) -> list[tuple[str, tuple[str, ...]]]:
    """The wrappers of a ``pre``, innermost first, up to the section or sample holding
    the block: tag and classes (less the extension's own, and the language's)."""
    chain = []
    node: Any = pre
    while node is not None and not _holder(node):
        classes = tuple(
            c for c in node.get("class", []) if not c.startswith(("balloon-", "highlight-"))
        )
        chain.append((node.name, classes))
        node = node.parent
    return chain


def _holder(node: Tag) -> bool:
    classes = node.get("class", [])
    return node.name == "section" or "section" in classes or "balloon-sample" in classes


@pytest.mark.parametrize("theme", THEMES)
def test_a_sample_has_the_wrapper_of_a_plain_literal_block(
    theme: str, make_app: Callable[..., Any], tmp_path: Path
) -> None:
    try:
        importlib.import_module(theme)
    except ImportError:
        pytest.skip(f"theme {theme} is not installed here")
    srcdir = tmp_path / "themes"
    shutil.copytree(ROOTS / "test-balloon-themes", srcdir)
    try:
        app = make_app("html", srcdir=sphinx_path(srcdir), confoverrides={"html_theme": theme})
    except Exception as exc:  # furo and the newest rtd refuse an old Sphinx
        pytest.skip(f"theme {theme} does not load with this Sphinx: {exc}")
    app.build()
    soup = BeautifulSoup((Path(app.outdir) / "index.html").read_text("utf-8"), "html.parser")
    plain, sample = soup.select("pre")[:2]
    assert plain.get_text().strip() == "host_version          : 2.0"
    assert sample.find_parent(attrs={"data-balloon-fields": True}) is not None
    assert _chain(sample) == _chain(plain)
    assert ("div", ("highlight",)) in _chain(sample)
    # the sample's box is the theme's: its own class on the outermost wrapper
    outer = sample.find_parent(class_="balloon-block")
    assert outer is not None and outer.parent.get("class") == [
        "balloon-sample",
        "docutils",
        "container",
    ]


def test_the_text_builder_and_text_browsers_show_the_lines_alone(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = _built(make_app, tmp_path, "text")
    text = (Path(app.outdir) / "index.txt").read_text("utf-8")
    assert "   host_version          : 2.0\n   capabilities          : enabled hot_add\n" in text
    assert "Negotiated" not in text and "field host_version" not in text


def test_the_marked_text_is_the_sample_text_escaped(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = _built(make_app, tmp_path, "html")
    soup = BeautifulSoup((Path(app.outdir) / "index.html").read_text("utf-8"), "html.parser")
    pre = soup.select("div.balloon-sample pre")[1]
    assert pre.find("b") is None
    first = pre.get_text().splitlines()[0]
    assert first == 'host_version          : 2.0         // <b>not bold</b> & "quoted"'
    box = pre.find_parent(attrs={"data-balloon-fields": True})
    assert box["data-balloon-fields"].split(" ")[1] == "*"  # line 0: host_version, by its label
    assert pre.select_one("span.balloon-annotation").get_text().strip().startswith("// <b>")


def _built(make_app: Callable[..., Any], tmp_path: Path, builder: str) -> Any:
    """The themes test root, copied and built with ``builder`` and the default theme."""
    srcdir = tmp_path / "themes"
    shutil.copytree(ROOTS / "test-balloon-themes", srcdir)
    app = make_app(builder, srcdir=sphinx_path(srcdir))
    app.build()
    return app
