"""Warnings at the sample's own line, strict mode, and directive misuse."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from .conftest import ERROR, ROOTS, sphinx_path


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
        (13, "invalid option value :layout: 'sloppy'"),
        (18, "no file 'missing.txt'"),
        (21, "'../../outside.txt' is outside the source folder"),
        (24, ":violates: names the checks a counter-example breaks"),
        (30, "give the sample as content or with :file:"),
        (32, "cannot tell the format of this text; name the format: .. balloon-sample:: FORMAT"),
        (36, "balloon-schema: unknown format 'no-such-format'"),
        (40, "unknown option :layuot: (known: :caption:, :dialect:"),
        (45, "one argument, the format, not 'hv-balloon meminfo'"),
    ]
    for line, message in expected:
        pattern = re.escape(f"{source}:{line}: {ERROR}: ") + ".*" + re.escape(message)
        assert re.search(pattern, text), (line, message, text)
    assert "Traceback" not in text
    html = (Path(app.outdir) / "index.html").read_text("utf-8")
    assert "after the misuse." in html
    # a misused sample still shows its text, unchecked: unknown format, unknown dialect,
    # a bad option value, :violates: with :expect: valid, a text of no known format, an
    # unknown option, two arguments
    blocks = [pre.get_text().strip() for pre in BeautifulSoup(html, "html.parser").select("pre")]
    assert blocks == ["host_version : 2.0"] * 4 + ["just some words"] + ["host_version : 2.0"] * 2


def test_strict_fails_on_a_sample_it_could_not_check(make_app: Any, tmp_path: Path) -> None:
    """Misuse leaves a sample unchecked: a strict build must not pass on it (Sphinx does
    not fail on an error without -W)."""
    app = make_app(
        "html",
        srcdir=sphinx_path(_copy(ROOTS / "test-balloon-misuse", tmp_path)),
        confoverrides={"balloon_strict": True},
    )
    app.build()
    assert app.statuscode == 1
    unchecked = [u.line for u in app.env.get_domain("balloon").unchecked]
    assert unchecked == [4, 8, 13, 18, 21, 24, 30, 32, 40, 45]  # every sample of the page


def test_strict_passes_when_every_problem_is_suppressed(make_app: Any, tmp_path: Path) -> None:
    srcdir = _copy(ROOTS / "test-balloon-strict", tmp_path)
    index = srcdir / "index.rst"
    index.write_text(index.read_text().replace("   pages_whatever        : 1\n", ""))
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    assert app.statuscode == 0  # the exact-layout finding is suppressed: shown nowhere
    samples = app.env.get_domain("balloon").samples
    assert [s.fired for s in samples] == [(), ("layout.whitespace",)]
    index.write_text(index.read_text() + "\n.. balloon-sample:: hv-balloon\n\n   nonsense\n")
    app = make_app("html", srcdir=sphinx_path(srcdir), freshenv=True)
    app.build()
    assert app.statuscode == 1


def _copy(root: Path, tmp_path: Path) -> Path:
    srcdir = tmp_path / root.name
    shutil.copytree(root, srcdir)
    return srcdir


HV_LINES = (ROOTS / "test-balloon-files" / "samples" / "hv.txt").read_bytes().split(b"\n")[:-1]
"""A conforming hv-balloon file, in lines without their newlines."""

FILE_BYTES = {
    "crlf.txt": b"\r\n".join(HV_LINES) + b"\r\n",
    "no-final-newline.txt": b"\n".join(HV_LINES),
    "form-feed.txt": b"\n".join([HV_LINES[0] + b"\x0c", *HV_LINES[1:3], HV_LINES[3] + b"x"])
    + b"\n",
    "separators.txt": b"\n".join(
        [
            HV_LINES[0] + "\u2028".encode(),
            HV_LINES[1] + b"\x1c\x0b",
            HV_LINES[2] + b"\r",
            *HV_LINES[3:6],
            HV_LINES[6].replace(b"0", b"z"),
        ]
    )
    + b"\n",
    "not-utf-8.txt": b"\n".join([*HV_LINES[:4], HV_LINES[4] + b"\xff\xfe", *HV_LINES[5:]]) + b"\n",
    "nul.txt": b"\n".join([*HV_LINES[:2], b"\x00" + HV_LINES[2], *HV_LINES[3:]]) + b"\n",
    "prompt-crlf.txt": b"# cat /sys/kernel/debug/hv-balloon\r\n" + b"\r\n".join(HV_LINES[:5]),
}


@pytest.mark.parametrize("layout", ["exact", "lenient"])
def test_a_file_sample_is_read_as_the_command_line_reads_the_file(
    make_app: Any, tmp_path: Path, layout: str
) -> None:
    """Every finding of ``balloon-conform parse`` on a sample file, at the same line, and
    no other: the same bytes reach the same parser (line ends, separators other than
    ``\\n``, a missing last newline, bytes that are not UTF-8)."""
    srcdir = tmp_path / "src"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text('extensions = ["sphinxext_balloon"]\n')
    page = ["Files", "=====", ""]
    for name, data in FILE_BYTES.items():
        (srcdir / name).write_bytes(data)
        page += [".. balloon-sample:: hv-balloon", f"   :file: {name}", f"   :layout: {layout}", ""]
    (srcdir / "index.rst").write_text("\n".join(page))
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    text = _plain(app._warning)
    for name, data in FILE_BYTES.items():
        file = srcdir / name
        prompt = 1 if data.startswith(b"#") else 0
        body = data.split(b"\n", 1)[1] if prompt else data
        (tmp_path / "body").write_bytes(body)
        command = ["parse", "--format", "hv-balloon", "--layout", layout, str(tmp_path / "body")]
        cli = subprocess.run(
            [sys.executable, "-m", "conformance", *command],
            capture_output=True,
            text=True,
        )
        expected = set()
        for line in cli.stderr.splitlines():
            where, _, rest = line.partition(": ")
            # a line past the end (a missing line) is shown at the last one
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            number = min(int(where.split(":")[1]) + prompt, lines)
            expected.add((number, rest.rsplit("[", 1)[1].rstrip("]")))
        said = {
            (int(w.split(":")[1]), _rule_tags(w)[-1])
            for w in text.splitlines()
            if w.startswith(f"{file}:")
        }
        assert said == expected, (name, text, cli.stderr)
    assert "Traceback" not in text


def test_a_template_file_keeps_its_line_ends(make_app: Any, tmp_path: Path) -> None:
    """A ``:template:`` file's placeholders are filled, and its line ends still reach the
    parser as they are: the last line's missing newline is a finding in exact layout."""
    srcdir = tmp_path / "src"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text('extensions = ["sphinxext_balloon"]\n')
    lines = [line.replace(b": 0", b": XXX") for line in HV_LINES]
    (srcdir / "t.txt").write_bytes(b"\n".join(lines))
    (srcdir / "index.rst").write_text(
        "T\n=\n\n.. balloon-sample:: hv-balloon\n   :file: t.txt\n   :template:\n"
        "   :layout: exact\n"
    )
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    said = [w for w in _plain(app._warning).splitlines() if "WARNING" in w]
    assert len(said) == 1, said
    assert said[0].startswith(f"{srcdir / 't.txt'}:{len(lines)}: WARNING")
    assert _rule_tags(said[0]) == ["layout.trailing-newline"]
