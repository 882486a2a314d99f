"""balloon.js in a real JavaScript engine: jsdom (tests/js, installed with npm ci) and,
when it is on the PATH, headless Chromium. With the script the field lines carry the
schema's descriptions as their titles; a wrong or missing map entry breaks nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from bs4 import BeautifulSoup

from conformance import schemas
from conformance.schemadoc import describe
from sphinxext_balloon import settings

from .conftest import ROOTS, sphinx_path


def _title(schema: str, pointer: str) -> str:
    """What the schema says of the field: its description and unit, as the hover text."""
    doc = describe(schemas.registry(()), settings.schema_uri(schema, ()), pointer)
    assert doc is not None, pointer
    unit = f" [{doc.unit}]" if doc.unit else ""
    return doc.description.rstrip(".") + unit


def _built(
    make_app: Callable[..., Any], tmp_path: Path, edit: Callable[[Path], None] | None = None
) -> Path:
    srcdir = tmp_path / "basic"
    shutil.copytree(ROOTS / "test-balloon-basic", srcdir)
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    out = Path(app.outdir)
    if edit is not None:
        edit(out / "index.html")
    return out


def _jsdom(out: Path) -> list[dict[str, Any]]:
    # the npm install of tests/js is shared with the schema consumers' tests, whose module
    # needs `referencing` (not on the distributions' floors: jsdom is skipped there)
    consumers = pytest.importorskip("tests.test_schema_consumers", reason="needs referencing")
    target: Path = consumers.node_tools()
    js_dir: Path = consumers.JS_DIR
    script = target / "describe.mjs"
    if not script.is_file() or script.read_bytes() != (js_dir / script.name).read_bytes():
        consumers._replace(js_dir / script.name, script)
    done = subprocess.run(
        ["node", str(script), str(out / "index.html"), str(out / "_static")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["errors"] == []
    return result["samples"]  # type: ignore[no-any-return]


def _chromium(out: Path) -> list[dict[str, Any]]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not on the PATH")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            (out / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-500:]
    soup = BeautifulSoup(done.stdout, "html.parser")
    return [
        {
            "text": box.select_one("pre").get_text(),
            "fields": [[s.get_text(), s["title"]] for s in box.select("span.balloon-field")],
        }
        for box in soup.select("div.balloon-sample")
    ]


ENGINES = {"jsdom": _jsdom, "chromium": _chromium}
RFC, UPSTREAM = 0, 1
"""The test root's first two samples: the RFC's example (with notes), and upstream's."""


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_the_script_titles_each_field_line_with_its_description(
    make_app: Callable[..., Any], tmp_path: Path, engine: str
) -> None:
    out = _built(make_app, tmp_path)
    plain = BeautifulSoup((out / "index.html").read_text("utf-8"), "html.parser")
    samples = ENGINES[engine](out)
    # the script changes no text: each block reads as the page without it
    boxes = plain.select("div.balloon-sample")
    assert [s["text"] for s in samples] == [box.select_one("pre").get_text() for box in boxes]
    fields = dict(samples[UPSTREAM]["fields"])
    assert len(fields) == 9
    schema = "hv-balloon.6.0.schema.json"
    assert fields["page_size             : 4096"] == _title(schema, "/page_size")
    assert fields["host_version          : 2.0"] == _title(schema, "/host_version")
    assert (
        fields["page_size             : 4096"] == "Hyper-V page size in bytes, always 4096 [bytes]"
    )
    # the RFC sample's notes stay outside the field they follow
    rfc = dict(samples[RFC]["fields"])
    assert all("//" not in text for text in rfc)
    assert rfc["pages_ballooned_out : 0"] == _title(
        "hv-balloon.rfc.schema.json", "/pages_ballooned_out"
    )


def _spoil(page: Path) -> None:
    """A map entry that names no field, one that cannot be decoded, and one sample's
    map gone: those lines stay plain, the others keep their titles."""
    html = page.read_text("utf-8")
    start = html.index('data-balloon-fields="hv-balloon.6.0 ')
    end = html.index('"', start + len('data-balloon-fields="'))
    entries = html[start:end].split(" ")
    entries[1:3] = ["0:no_such_field", "%E0%A4%A"]  # host_version, capabilities
    html = html[:start] + " ".join(entries) + html[end:]
    first = html.index("data-balloon-fields=")
    html = html[:first] + "data-x=" + html[first + len("data-balloon-fields=") :]
    page.write_text(html, "utf-8")


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_wrong_or_missing_map_entry_breaks_nothing(
    make_app: Callable[..., Any], tmp_path: Path, engine: str
) -> None:
    out = _built(make_app, tmp_path, _spoil)
    samples = ENGINES[engine](out)
    upstream = dict(samples[UPSTREAM]["fields"])
    assert "host_version          : 2.0" not in upstream
    assert "capabilities          : enabled hot_add" not in upstream
    assert (
        upstream["page_size             : 4096"]
        == "Hyper-V page size in bytes, always 4096 [bytes]"
    )
    assert samples[RFC]["fields"] == []  # its map is gone
