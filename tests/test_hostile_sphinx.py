"""``balloon-sample :file:`` paths that try to leave the source folder, or to block.

The extension resolves the path (links included) and refuses what lands outside the
source folder; a FIFO or device inside it is not a file. Each case is an error at the
directive's line, the build goes on, and nothing of the outside file reaches the output.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from .conftest import ERROR, ROOTS, sphinx_path

SECRET = "host_version : 2.0  # outside-marker"
OUTSIDE = "is outside the source folder"
CASES = [
    # (:file: value, the error it gets; None: allowed)
    ("../outside.txt", OUTSIDE),
    ("/../outside.txt", OUTSIDE),  # '/' is the source folder, and '..' leaves it
    ("samples/../../outside.txt", OUTSIDE),
    ("link-out.txt", OUTSIDE),  # a link to the file outside
    ("linked-dir/hv.txt", OUTSIDE),  # a link to a folder outside
    ("zero.txt", OUTSIDE),  # a link to /dev/zero: reading would never end
    ("/etc/passwd", "no file"),  # absolute means the source folder's etc/
    ("fifo.txt", "no file"),  # a FIFO: opening it would block
    ("link-in.txt", None),  # a link that stays inside is fine
    ("big.txt", "is larger than"),  # inside, but no kernel file is that large
]


@pytest.fixture
def no_blocking() -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("the build blocked on a :file: path")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _srcdir(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-balloon-files", srcdir)
    (tmp_path / "outside.txt").write_text(SECRET + "\n")
    (tmp_path / "outside-dir").mkdir()
    (tmp_path / "outside-dir/hv.txt").write_text(SECRET + "\n")
    os.symlink(tmp_path / "outside.txt", srcdir / "link-out.txt")
    os.symlink(tmp_path / "outside-dir", srcdir / "linked-dir")
    os.symlink("/dev/zero", srcdir / "zero.txt")
    os.symlink("samples/hv.txt", srcdir / "link-in.txt")
    os.mkfifo(srcdir / "fifo.txt")
    (srcdir / "big.txt").write_bytes(b"host_version : 2.0\n" * 60_000)
    lines = ["Hostile paths", "=============", ""]
    where = {}
    for name, _ in CASES:
        where[name] = len(lines) + 1
        lines += [".. balloon-sample:: hv-balloon", f"   :file: {name}", ""]
    (srcdir / "index.rst").write_text("\n".join(lines))
    return srcdir, where


def test_file_paths_that_leave_the_source_folder(
    make_app: Callable[..., Any], tmp_path: Path, no_blocking: None
) -> None:
    srcdir, where = _srcdir(tmp_path)
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", app._warning.getvalue())
    source = srcdir / "index.rst"
    for name, expected in CASES:
        line = where[name]
        said = [w for w in text.splitlines() if w.startswith(f"{source}:{line}:")]
        if expected is None:
            assert not said, said
        else:
            assert said and f"{ERROR}:" in said[0] and expected in said[0], (name, said, text)
    assert "Traceback" not in text
    assert "outside-marker" not in Path(app.outdir, "index.html").read_text("utf-8")


# (the directive's options and content, the error it gets at the directive's line)
TROUBLE = [
    ([":file: " + "x" * 300 + ".txt"], "File name too long"),  # ENAMETOOLONG, one name
    ([":file: " + "a/" * 2100 + "hv.txt"], "cannot read"),  # ENAMETOOLONG, the whole path
    ([":file: loop-a.txt"], "cannot read 'loop-a.txt'"),  # ELOOP: two links to each other
    ([":file: samples/hv.txt/more.txt"], "no file"),  # ENOTDIR
    ([":file: samples"], "no file"),  # a folder
    ([":kernel: 6." + "9" * 5000, "", "host_version : 2.0"], "not a kernel release"),
    ([":kernel: 6." + "9" * 5000, ":group: g", "", "host_version : 2.0"], "not a kernel release"),
    ([":kernel: linux", "", "host_version : 2.0"], "not a kernel release"),
    (["", *["host_version : 2.0"] * 60_000], "is larger than 1048576 bytes"),
]


def test_file_system_failures_and_bad_options_are_directive_errors(
    make_app: Callable[..., Any], tmp_path: Path, no_blocking: None
) -> None:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-balloon-files", srcdir)
    os.symlink("loop-b.txt", srcdir / "loop-a.txt")
    os.symlink("loop-a.txt", srcdir / "loop-b.txt")
    lines = ["Troublesome samples", "===================", ""]
    where = []
    for body, _ in TROUBLE:
        where.append(len(lines) + 1)
        lines += [".. balloon-sample:: hv-balloon", *("   " + b if b else "" for b in body), ""]
    # a fine sample after them all: the build went on and checked it
    lines += [
        ".. balloon-sample:: hv-balloon",
        "   :kernel: 6.18.44-fc-v669",
        "   :file: samples/hv.txt",
    ]
    (srcdir / "index.rst").write_text("\n".join(lines) + "\n")
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", app._warning.getvalue())
    source = srcdir / "index.rst"
    for (body, expected), line in zip(TROUBLE, where):
        said = [w for w in text.splitlines() if w.startswith(f"{source}:{line}:")]
        assert said and f"{ERROR}:" in said[0], (body[0][:40], text[-2000:])
        # the message may follow docutils' echo of the directive, up to the next warning
        message = text.split(f"{source}:{line}:", 1)[1].split(f"{source}:", 1)[0]
        assert expected in message, (body[0][:40], said)
    assert "Traceback" not in text and "Exception occurred" not in text
    assert "kernel 6.18.44-fc-v669" in Path(app.outdir, "index.html").read_text("utf-8")


def test_control_characters_from_samples_and_names_never_reach_the_warnings(
    make_app: Callable[..., Any], tmp_path: Path
) -> None:
    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-balloon-files", srcdir)
    # (no U+2028 here: reST, as str.splitlines, takes it for a line break)
    evil = "\x1b[2J\x1b]0;owned\x07\u202e\x9b"
    (srcdir / f"m{evil}.txt").write_text(f"MemTotal: 1 kB\n{evil}Bad: 1 kB\n")
    (srcdir / "index.rst").write_text(
        "Hostile text\n============\n\n"
        f".. balloon-sample:: hv-balloon\n\n   host_version : 2.0{evil}\n   bogus{evil} : 1\n\n"
        f".. balloon-sample:: meminfo\n   :file: m{evil}.txt\n"
    )
    app = make_app("html", srcdir=sphinx_path(srcdir))
    app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", app._warning.getvalue())  # Sphinx's own colours
    assert "parse.unreadable-line" in text and "parse.unknown-label" in text
    assert "m\\x1b[2J" in text  # the :file: name, escaped, locates the finding
    assert not [c for c in ("\x1b", "\x07", "\u202e", "\u2028", "\x9b") if c in text]
