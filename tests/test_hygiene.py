"""What a capture holds never reaches a terminal or a report raw, and names stay apart.

End to end through the console script: file names and contents with escape sequences,
BEL, NUL, C1 controls, a right-to-left override and a line separator go through
``parse`` and every ``--output-format``; none of those characters may appear in what the
command writes, while the findings about them still do (escaped). Long capture names are
shortened so that they stay distinct, and a file name that is not UTF-8 still gives JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.report import REPORTERS

from .test_pipeline import HV

RAW = ("\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066", "\u2028", "\u2029")
"""ESC (and so every CSI sequence), BEL, NUL, DEL, the C1 CSI, bidi controls, separators."""
HOSTILE = "\x1b[31m\x1b]0;owned\x07\u202etxt.exe\u2028\x9b2J\x7f"


def _console_script() -> str:
    found = shutil.which("balloon-conform", path=str(Path(sys.executable).parent))
    assert found, "the balloon-conform console script is not installed beside python"
    return found


def _run(*argv: str | bytes, cwd: Path | None = None) -> tuple[int, bytes, bytes]:
    done = subprocess.run(
        [_console_script(), *argv], capture_output=True, timeout=120, cwd=cwd, check=False
    )
    return done.returncode, done.stdout, done.stderr


def _assert_clean(data: bytes, where: str) -> None:
    text = data.decode("utf-8")  # also: every byte written is UTF-8
    found = [repr(char) for char in RAW if char in text]
    assert not found, (where, found)


def _hostile_capture(root: Path) -> Path:
    device = root / "sys/bus/virtio/devices" / f"virtio0{HOSTILE}"
    device.mkdir(parents=True)
    (device / "features").write_text("1" * 20 + "\n")
    (device / "device").write_text("0x0005\n")
    debug = root / "sys/kernel/debug"
    debug.mkdir(parents=True)
    lines = HV.splitlines()
    lines[1] = lines[1] + HOSTILE  # a value with a tail of control characters
    lines.append(f"{HOSTILE} : 1")  # an unknown key made of them
    lines.append("state : \x00\x00\x1b[2K")
    (debug / "hv-balloon").write_text("\n".join(lines) + "\n")
    manifest = {"kernel_release": f"6.15.0{HOSTILE}", "hypervisor": HOSTILE}
    (root / "capture.json").write_text(json.dumps(manifest))
    return root


@pytest.mark.parametrize("format", sorted(REPORTERS))
def test_no_raw_control_character_reaches_any_report(format: str, tmp_path: Path) -> None:
    capture = _hostile_capture(tmp_path / f"cap{HOSTILE}")
    report = tmp_path / "report.out"
    status, out, err = _run("check", "--output-format", format, str(capture))
    assert status == 1, err
    _assert_clean(out, "stdout")
    _assert_clean(err, "stderr")
    assert b"x1b" in out  # the findings are there, escaped (percent-encoded in SARIF URIs)
    status, _, err = _run("check", "--output-format", format, "--output", str(report), str(capture))
    assert status == 1, err
    _assert_clean(report.read_bytes(), f"--output {format}")
    _assert_clean(err, "stderr")
    if format in ("json", "sarif"):
        json.loads(report.read_text("utf-8"))
    if format == "junit":
        ET.fromstring(report.read_bytes())


def test_parse_escapes_the_instance_and_the_diagnostics(tmp_path: Path) -> None:
    sample = tmp_path / f"hv{HOSTILE}.txt"
    sample.write_text(HV + f"{HOSTILE} : 1\nstate : \x1b[2J\n")
    for meta in ((), ("--meta",)):
        status, out, err = _run("parse", "--format", "hv-balloon", *meta, str(sample))
        assert status == 1, err
        _assert_clean(out, "stdout")
        _assert_clean(err, "stderr")
        json.loads(out)
        assert b"x1b" in err


def test_a_file_name_that_is_not_utf8_gives_valid_json(tmp_path: Path) -> None:
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    name = os.fsencode(str(tmp_path)) + b"/\xff\xfe-meminfo.txt"
    with open(name, "wb") as stream:
        stream.write(b"MemTotal:        1000 kB\nMemFree:         5000 kB\nBogus: 1 kB\n")
    status, out, err = _run("parse", "--meta", "--format", "meminfo", name)
    assert status in (0, 1), err
    document = json.loads(out.decode("utf-8"))
    files = {d["file"] for d in document["diagnostics"]}
    assert files == {str(tmp_path) + "/\\xff\\xfe-meminfo.txt"}
    _assert_clean(err, "stderr")


def test_long_capture_names_stay_distinct(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    for index in range(5):
        guest = deep / f"guest-{index}"
        guest.mkdir(parents=True)
        (guest / "hv-balloon").write_text(HV.replace("2.0", "9.9"))  # one finding each
    status, out, err = _run("check", "--output-format", "json", str(deep))
    assert status == 1, err
    names = [capture["name"] for capture in json.loads(out)["captures"]]
    assert len(names) == 5 and len(set(names)) == 5
    assert all(len(name) <= 300 for name in names)
    assert [name[-7:] for name in names] == [f"guest-{index}" for index in range(5)]


@pytest.mark.parametrize("char", [*RAW, "\ud800", "\udcff", "\U000e0001", "\x85", "\t", "\n", "\r"])
def test_escape_leaves_nothing_raw(char: str) -> None:
    from conformance.escape import escape, json_text

    escaped = escape(f"a{char}b")
    assert escaped.isprintable() and escaped.startswith("a\\") and escaped.endswith("b")
    assert escape(escaped) == escaped
    dumped = json_text(json.dumps(f"a{char}b", ensure_ascii=False))
    assert dumped.isprintable() and json.loads(dumped) == f"a{char}b"
    # a raw control character outside a string (json.dumps writes none, but the function
    # promises printable text whatever it is given) is escaped on the ASCII path too
    if char != "\n":
        assert json_text(f"[1,{char}2]").replace("\n", "").isprintable()


def test_escape_keeps_printable_text_and_spaces() -> None:
    from conformance.escape import escape, json_text

    text = "MemTotal \u2260 1\u202f024 kB, caf\u00e9 \u4e2d\u6587"
    assert escape(text) == text
    assert json_text(json.dumps(text, ensure_ascii=False)) == json.dumps(text, ensure_ascii=False)


def test_safe_text_shortens_in_the_middle_keeping_the_ends() -> None:
    from conformance.escape import safe_text

    names = [f"/{'x' * 400}/guest-{index}" for index in range(3)]
    short = [safe_text(name) for name in names]
    assert len(set(short)) == 3 and all(len(s) <= 300 for s in short)
    assert all(s.startswith("/xxx") and s.endswith(f"guest-{i}") for i, s in enumerate(short))
    assert safe_text("short") == "short"


@pytest.mark.parametrize("command", ["parse", "check"])
def test_a_name_the_file_system_refuses_is_an_error_not_an_internal_error(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from conformance.cli import main

    status = main([command, str(tmp_path / ("x" * 300))])  # ENAMETOOLONG
    err = capsys.readouterr().err
    assert status == 2 and "internal error" not in err
    assert "File name too long" in err and len(err) < 400
