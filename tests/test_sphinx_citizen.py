"""The extension as a good Sphinx citizen: configuration left alone, strict builds fail,
a schema table defined twice is one warning."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest
from bs4 import BeautifulSoup

from .conftest import ROOTS, sphinx_path


def _plain(stream: Any) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())


def _copy_root(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOTS / f"test-{name}", target)
    return target


def _sphinx_build(srcdir: Path, outdir: Path) -> str:
    # a new process, as a writer's second `make htmldocs` is: the test application of
    # sphinx.testing shares state between applications of one process
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout + done.stderr


def test_an_incremental_build_finds_the_configuration_unchanged(tmp_path: Path) -> None:
    srcdir = _copy_root("balloon-basic", tmp_path)
    outdir = tmp_path / "out"
    first = _sphinx_build(srcdir, outdir)
    assert "index" in first and (outdir / "_static" / "balloon.css").is_file()
    second = _sphinx_build(srcdir, outdir)
    assert "html_static_path" not in second
    assert "configuration has changed" not in second and "config changed" not in second
    assert "0 source files that are out of date" in second
    assert (outdir / "_static" / "balloon.css").is_file()


def test_strict_fails_the_build_without_warnings_as_errors(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = _copy_root("balloon-strict", tmp_path)
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    assert app.statuscode == 1
    # nothing to reread: the sample still does not conform, the build still fails
    again = make_app("html", srcdir=sphinx_path(srcdir))
    again.build()
    assert again.statuscode == 1


def test_without_strict_findings_leave_the_exit_status_alone(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = _copy_root("balloon-strict", tmp_path)
    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text().replace("balloon_strict = True", "balloon_strict = False"))
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    assert app.statuscode == 0


@pytest.mark.sphinx("html", testroot="balloon-tables")
def test_a_table_on_two_pages_is_one_warning(app: Any, warning: Any) -> None:
    app.build()
    text = _plain(warning)
    assert text.count("WARNING") == 1, text
    assert "balloon-schema: the table of hv-balloon is on 2 pages: index.rst, other.rst" in text
    assert f"{Path(app.srcdir) / 'other.rst'}:4: WARNING" in text  # at the table
    assert "vmmemctl" not in text  # two dialects' tables are two tables


@pytest.mark.sphinx("html", testroot="balloon-tables")
def test_a_field_of_a_dialect_whose_id_holds_dots(app: Any, warning: Any) -> None:
    app.build()
    soup = BeautifulSoup(Path(app.outdir, "index.html").read_text("utf-8"), "html.parser")
    links = {a.get_text(): a["href"] for a in soup.select("a.reference.internal")}
    assert links["vmmemctl:4.20.target"] == "#balloon-field-vmmemctl-4-20-target"
    assert links["vmmemctl:4.4.target"] == "other.html#balloon-field-vmmemctl-4-4-target"
    assert "reference target not found" not in _plain(warning)


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        ("hv-balloon.host_version.major", ("hv-balloon", "", "host_version.major")),
        ("hv-balloon:rfc.pages_ballooned_out", ("hv-balloon", "rfc", "pages_ballooned_out")),
        ("hv-balloon:6.0.pages_ballooned", ("hv-balloon", "6.0", "pages_ballooned")),
        ("vmmemctl:4.20.target", ("vmmemctl", "4.20", "target")),
        ("vmmemctl:2.6.34.target", ("vmmemctl", "2.6.34", "target")),
        ("meminfo.a:b", ("meminfo", "", "a:b")),  # a colon after the first dot is the field's
        ("nosuch:1.2.x", ("nosuch", "1", "2.x")),  # nothing known: up to the first dot
    ],
)
def test_field_targets_split(target: str, parts: tuple[str, str, str]) -> None:
    from sphinxext_balloon.domain import split_field_target

    assert split_field_target(target) == parts


def test_an_epub_carries_the_stylesheet(make_app: Callable[..., Any], tmp_path: Path) -> None:
    srcdir = _copy_root("balloon-basic", tmp_path)
    app = make_app("epub", srcdir=sphinx_path(srcdir), confoverrides={"version": "1"})
    app.build()
    (book,) = Path(app.outdir).glob("*.epub")
    with zipfile.ZipFile(book) as archive:
        assert "_static/balloon.css" in archive.namelist()


def test_samples_are_not_messages_to_translate(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    """Kernel output is not prose: gettext, with literal blocks among its targets, must
    not offer a sample (nor the directive's source) for translation."""
    srcdir = _copy_root("balloon-misuse", tmp_path)  # checked and unchecked samples
    app = make_app(
        "gettext",
        srcdir=sphinx_path(srcdir),
        confoverrides={"gettext_additional_targets": ["literal-block"]},
    )
    app.build()
    catalog = Path(app.outdir, "index.pot").read_text("utf-8")
    assert "after the misuse." in catalog  # prose is offered
    assert "balloon-sample" not in catalog and "host_version" not in catalog, catalog


def test_a_link_without_a_table_skips_a_sample_this_builder_leaves_out(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = tmp_path / "src"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text('extensions = ["sphinxext_balloon"]\n')
    sample = (ROOTS / "test-balloon-files" / "samples" / "hv.txt").read_text()
    body = "".join(f"      {line}\n" for line in sample.splitlines())
    (srcdir / "index.rst").write_text(
        "Only\n====\n\n.. only:: latex\n\n"
        + "   .. balloon-sample:: hv-balloon\n      :name: in-pdf\n\n"
        + body.replace("      ", "         ")
        + "\n.. balloon-sample:: hv-balloon\n   :name: everywhere\n\n"
        + body.replace("      ", "   ")
        + "\nSee :balloon-field:`hv-balloon.pages_ballooned`.\n"
    )
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    soup = BeautifulSoup(Path(app.outdir, "index.html").read_text("utf-8"), "html.parser")
    (link,) = [a for a in soup.select("a") if a.get_text() == "hv-balloon.pages_ballooned"]
    assert link["href"] == "#everywhere"
    assert soup.find(id="everywhere") is not None
