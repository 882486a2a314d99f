"""Every builder, parallel reading, incremental rebuilds, -W and balloon_capture_root."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from bs4 import BeautifulSoup

from .conftest import ERROR, ROOTS, sphinx_path


def _plain(warning: Any) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", warning.getvalue())


@pytest.mark.sphinx("html", testroot="balloon-parallel", parallel=2)
def test_parallel_build(app: Any, warning: Any) -> None:
    assert app.parallel == 2
    app.build()
    text = _plain(warning)
    page6 = Path(app.srcdir) / "page6.rst"
    assert f"{page6}:11: WARNING: balloon-sample (hv-balloon): " in text
    assert text.count("WARNING") == 1, text
    for number in range(1, 7):
        soup = BeautifulSoup(
            Path(app.outdir, f"page{number}.html").read_text("utf-8"), "html.parser"
        )
        link = soup.select_one("a.reference.internal[href*=balloon-field]")
        assert link is not None
        assert link["href"] == "index.html#balloon-field-hv-balloon-6-0-total-pages-committed"
        assert soup.select_one(f"#sample-{number}") is not None
    domain = app.env.get_domain("balloon")
    pages = [f"page{n}" for n in range(1, 7)]
    assert sorted(s.docname for s in domain.samples) == [*pages, "page7", "page7"]
    assert {s.fired for s in domain.samples if s.docname == "page6"} == {("hv-balloon.state-name",)}
    # a group is checked in the process that read its page; its finding reaches the domain
    fired = [s.fired for s in domain.samples if s.docname == "page7"]
    assert fired == [(), ("balloon.single-driver",)]
    page7 = BeautifulSoup(Path(app.outdir, "page7.html").read_text("utf-8"), "html.parser")
    link = page7.select_one("a.reference.internal[href*=balloon-rule]")
    assert link is not None
    assert link["href"] == "index.html#balloon-rule-balloon-single-driver"


def _descriptions(app: Any) -> dict[str, dict[str, str]]:
    text = Path(app.outdir, "_static", "balloon-fields.js").read_text("utf-8")
    return json.loads(text.partition(" = ")[2].rstrip(";\n"))  # type: ignore[no-any-return]


@pytest.mark.sphinx("html", testroot="balloon-parallel", parallel=2, freshenv=True)
def test_field_descriptions_of_every_reader_and_every_build(app: Any) -> None:
    app.build()
    # page7's vmmemctl sample was read in another process than hv-balloon's pages
    described = _descriptions(app)
    assert sorted(described) == ["hv-balloon.6.0", "vmmemctl.4.4"]
    assert described["vmmemctl.4.4"]["target"].startswith("Balloon size the host asked for")
    # an incremental build reads page1 again, and keeps what page7 needs
    seen: list[str] = []  # the names, in this process (source-read may be in a reader's)
    app.connect("env-before-read-docs", lambda _app, _env, names: seen.extend(names))
    page1 = Path(app.srcdir) / "page1.rst"
    page1.write_text(page1.read_text() + "\nOne more line.\n")
    future = page1.stat().st_mtime + 10
    os.utime(page1, (future, future))
    app.build()
    assert seen == ["page1"]
    assert _descriptions(app) == described


def _copy_root(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOTS / f"test-{name}", target)
    return target


def _reread(app: Any) -> list[str]:
    seen: list[str] = []
    app.connect("source-read", lambda _app, docname, _source: seen.append(docname))
    return seen


def test_editing_a_sample_file_rebuilds_its_page(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = _copy_root("balloon-files", tmp_path)
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    seen = _reread(app)
    sample = srcdir / "samples" / "bad.txt"
    sample.write_text(sample.read_text().replace("8192", "4096"))
    future = sample.stat().st_mtime + 10
    os.utime(sample, (future, future))
    app.build()
    assert seen == ["sub/page"]
    html = (Path(app.outdir) / "sub" / "page.html").read_text("utf-8")
    assert "8192" not in html and "page_size             : 4096" in html


def test_editing_a_schema_rebuilds_the_pages_that_used_it(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    from conformance import schemas

    srcdir = _copy_root("balloon-files", tmp_path)
    extra = srcdir / "vendor-schemas"
    extra.mkdir()
    common = extra / "common.schema.json"
    shutil.copy(schemas.schema_dir() / "common.schema.json", common)
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinxext_balloon"]\nballoon_schema_path = ["vendor-schemas"]\n'
    )
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    assert str(common) in {str(Path(app.srcdir, d)) for d in app.env.dependencies["index"]}
    seen = _reread(app)
    future = common.stat().st_mtime + 10
    os.utime(common, (future, future))
    app.build()
    assert sorted(seen) == ["index", "sub/page"]


def test_a_schema_added_to_a_folder_rereads_the_pages(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    """A new override of a bundled schema is nobody's dependency until it is read: the
    next build rereads the pages with samples all the same, and checks against it."""
    from conformance import schemas

    srcdir = _copy_root("balloon-files", tmp_path)
    extra = srcdir / "vendor-schemas"
    extra.mkdir()
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinxext_balloon"]\nballoon_schema_path = ["vendor-schemas"]\n'
    )
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    seen = _reread(app)
    app.build()
    assert seen == []  # nothing changed: nothing is read again
    name = "hv-balloon.6.0.schema.json"
    document = json.loads((schemas.schema_dir() / name).read_text())
    document["properties"]["page_size"] = {"type": "integer", "maximum": 1024}
    (extra / name).write_text(json.dumps(document))
    app.build()
    assert sorted(seen) == ["index", "sub/page"]
    assert "schema.maximum" in _plain(app._warning)  # the new file, read in this process


def test_capture_root_allows_files_outside_the_sources(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = _copy_root("balloon-files", tmp_path)
    captures = tmp_path / "captures"
    captures.mkdir()
    shutil.copy(srcdir / "samples" / "hv.txt", captures / "hv-balloon")
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinxext_balloon"]\nballoon_capture_root = "../captures"\n'
    )
    (srcdir / "index.rst").write_text(
        "Captures\n========\n\n.. toctree::\n\n   sub/page\n\n"
        ".. balloon-sample:: hv-balloon\n   :file: ../captures/hv-balloon\n\n"
        ".. balloon-sample:: hv-balloon\n   :file: ../elsewhere.txt\n"
    )
    (tmp_path / "elsewhere.txt").write_text("host_version : 2.0\n")
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    text = _plain(app._warning)
    assert "captures/hv-balloon" not in text
    assert re.search(rf"index\.rst:11: {ERROR}: .*'\.\./elsewhere\.txt' is outside", text), text
    html = (Path(app.outdir) / "index.html").read_text("utf-8")
    assert "max_dynamic_page_count: 268435456" in html


@pytest.mark.parametrize("builder", ["latex", "text", "man", "texinfo", "epub", "singlehtml"])
def test_every_builder_renders_the_samples(
    make_app: Callable[..., Any], tmp_path: Path, builder: str
) -> None:
    srcdir = _copy_root("balloon-basic", tmp_path)
    app = make_app(builder, srcdir=sphinx_path(srcdir))
    app.build()
    assert "balloon" not in _plain(app._warning)
    outputs = [p for p in Path(app.outdir).rglob("*") if p.is_file()]
    text = "\n".join(
        p.read_text("utf-8", errors="replace")
        for p in outputs
        if p.suffix in (".tex", ".txt", ".1", ".texi", ".xhtml", ".html")
    )
    escaped = r"pages\_ballooned\_out" if builder == "latex" else "pages_ballooned_out"
    assert escaped in text and "268435456" in text
    if builder in ("latex", "text", "man", "texinfo"):
        # plain builders print the sample, not the screen-reader text
        assert "(field page_size" not in text
        assert "state 2 is" in text  # the findings list of the counter-example


def test_text_rendering_keeps_the_sample_lines(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = _copy_root("balloon-basic", tmp_path)
    app = make_app("text", srcdir=sphinx_path(srcdir))
    app.build()
    lines = (Path(app.outdir) / "index.txt").read_text("utf-8").splitlines()
    stripped = [line.strip() for line in lines]
    assert "# cat /sys/kernel/debug/hv-balloon" in stripped
    assert "pages_added           : XXX" in stripped
    assert any(line.startswith("vm_pages_commited : 795365") for line in stripped)


def test_warning_is_error_fails_the_build(make_app: Callable[..., Any], tmp_path: Path) -> None:
    from sphinx.errors import SphinxError

    srcdir = _copy_root("balloon-files", tmp_path)
    try:
        app = make_app("html", srcdir=sphinx_path(srcdir), warningiserror=True)
    except TypeError:  # Sphinx 3's test application takes no such argument
        app = make_app("html", srcdir=sphinx_path(srcdir))
        app.warningiserror = True
    try:
        app.build()
    except SphinxError as exc:  # Sphinx before 8.1 stops at the first warning
        assert "schema.const" in str(exc)
    else:  # later ones finish the build and fail it
        assert app.statuscode == 1
        assert "schema.const" in _plain(app._warning)


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The schema files this process gathers for a sample's checks from now on (a
    reader process records in its own copy of the list)."""
    from sphinxext_balloon import settings

    seen: list[str] = []
    original = settings.schema_files

    def record(name: str, extra: tuple[str, ...]) -> tuple[Path, ...]:
        seen.append(name)
        return original(name, extra)

    monkeypatch.setattr(settings, "schema_files", record)
    return seen


@pytest.mark.sphinx("html", testroot="balloon-parallel", parallel=2, freshenv=True)
def test_a_parallel_build_loads_its_formats_before_forking_its_readers(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance import get_format

    seen = _recorded(monkeypatch)
    frozen: list[int] = []  # connected after the extension: runs after it
    app.connect("env-before-read-docs", lambda *_: frozen.append(gc.get_freeze_count()))
    app.build()
    # the main process loaded both formats the pages name, every dialect, once
    dialects = [d.schema for f in ("hv-balloon", "vmmemctl") for d in get_format(f).dialects]
    assert seen == dialects
    # and froze its objects for the readers and writers it forks, until the build ended
    assert frozen[0] > 0 and gc.get_freeze_count() == 0


def test_a_serial_build_or_one_document_loads_nothing_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from sphinxext_balloon import warm

    seen = _recorded(monkeypatch)
    page = tmp_path / "page.rst"
    page.write_text(".. balloon-sample:: hv-balloon\n\n   page_size : 4096\n")
    env = SimpleNamespace(doc2path=lambda name: str(tmp_path / f"{name}.rst"))
    config = SimpleNamespace(balloon_schema_path=[])
    for parallel, docnames in ((1, ["page", "page"]), (2, ["page"])):
        app = SimpleNamespace(parallel=parallel, config=config)
        warm.warm_readers(app, env, docnames)  # type: ignore[arg-type]
        assert seen == [] and gc.get_freeze_count() == 0
    app = SimpleNamespace(parallel=2, config=config)
    warm.warm_readers(app, env, ["page", "page"])  # type: ignore[arg-type]
    assert seen == ["hv-balloon.6.0.schema.json", "hv-balloon.rfc.schema.json"]
    assert gc.get_freeze_count() > 0
    warm.thaw(app, None)  # type: ignore[arg-type]
    assert gc.get_freeze_count() == 0
    assert warm.named_formats([page]) == {"hv-balloon"}
    assert warm.named_formats([tmp_path / "none.rst"]) is None
    (tmp_path / "told.rst").write_text("Text.\n\n.. balloon-sample::\n   :file: x.txt\n")
    assert warm.named_formats([tmp_path / "told.rst"]) == set()


@pytest.mark.sphinx("html", testroot="balloon-parallel", freshenv=True)
def test_the_environment_holds_each_description_and_field_name_once(app: Any) -> None:
    import pickle

    app.build()
    domain = app.env.get_domain("balloon")
    pages = {s.docname for s in domain.samples if s.format == "hv-balloon"}
    assert len(pages) == 7  # seven pages show hv-balloon's fields
    data = pickle.dumps(domain.data, pickle.HIGHEST_PROTOCOL)
    assert data.count(b"Hyper-V page size in bytes, always 4096 [bytes]") == 1
    # the field's name: in the schema table's row, and once for every sample's record
    assert data.count(b"total_pages_committed") == 2
