"""balloon-conform parse / schema: output, exit statuses, no tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import __version__, format_ids, get_format, schemas
from conformance.cli import main

from .test_pipeline import HV


@pytest.fixture
def hv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hv-balloon"
    path.write_text(HV)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_parse_prints_the_instance(capsys: pytest.CaptureFixture[str], hv_file: Path) -> None:
    status, out, err = run(capsys, "parse", str(hv_file))
    assert (status, err) == (0, "")
    assert json.loads(out)["state"] == {"code": 1, "name": "Initialized"}
    assert out.startswith('{\n  "host_version": {\n    "major": 2,')


def test_parse_meta(capsys: pytest.CaptureFixture[str], hv_file: Path) -> None:
    status, out, _ = run(capsys, "parse", "--meta", str(hv_file))
    meta = json.loads(out)
    assert list(meta) == ["format", "dialect", "schema", "instance", "diagnostics"]
    assert meta["schema"] == schemas.BASE_URI + "hv-balloon.6.0.schema.json"
    assert (status, meta["diagnostics"]) == (0, [])


def test_errors_go_to_stderr_and_exit_1(capsys: pytest.CaptureFixture[str], hv_file: Path) -> None:
    hv_file.write_text(HV.replace("1 (Initialized)", "1 (Hot Add)"))
    status, out, err = run(capsys, "parse", str(hv_file))
    assert status == 1
    assert err == (
        f"{hv_file}:3:28: error: state 1 is 'Initialized' in the driver, not 'Hot Add' "
        "[hv-balloon.state-name]\n"
    )
    assert json.loads(out)["state"]["name"] == "Hot Add"


def test_layout_warnings_do_not_fail(capsys: pytest.CaptureFixture[str], hv_file: Path) -> None:
    hv_file.write_text(HV.replace("page_size             :", "page_size :"))
    status, _, err = run(capsys, "parse", "--layout", "exact", str(hv_file))
    assert status == 0
    assert err.startswith(f"{hv_file}:4:11: warning: differs from the kernel's layout at column 11")


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(HV.encode())))
    status, out, _ = run(capsys, "parse", "--format", "hv-balloon", "-")
    assert status == 0 and json.loads(out)["page_size"] == 4096


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["parse", "/nonexistent/file"], "/nonexistent/file: not a readable file"),
        (["parse", "--format", "nope", "{file}"], "unknown format 'nope'"),
        (["parse", "--dialect", "9.9", "{file}"], "has no dialect '9.9'"),
        (["schema", "show", "nope"], "unknown format 'nope'"),
        (["parse", "{dir}"], "not a readable file"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], hv_file: Path, argv: list[str], message: str
) -> None:
    argv = [a.format(file=hv_file, dir=hv_file.parent) for a in argv]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("balloon-conform: error: ") and message in err
    assert "Traceback" not in err


def test_undetectable_content(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("nothing to see\n")
    status, _, err = run(capsys, "parse", str(path))
    assert status == 2 and "cannot tell the format" in err


def test_schema_list_names_every_format_and_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "schema", "list")
    assert status == 0
    idents = {line.split()[0] for line in out.splitlines()}
    for format_id in format_ids():
        spec = get_format(format_id)
        assert format_id in idents
        assert {f"{format_id}/{d}" for d in spec.dialect_ids} <= idents
    assert schemas.BASE_URI + "hv-balloon.6.0.schema.json" in out


def test_schema_show(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "schema", "show", "hv-balloon/rfc")
    assert status == 0
    assert json.loads(out) == schemas.document("hv-balloon.rfc.schema.json")


def test_schema_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "schema", "export", str(tmp_path / "out"))
    assert status == 0 and "schema files" in err
    assert (tmp_path / "out" / "schemas" / "hv-balloon.schema.json").is_file()
    assert (tmp_path / "out" / "bundled" / "hv-balloon.schema.json").is_file()
    catalog = json.loads((tmp_path / "out" / "catalog.json").read_text())
    for entry in catalog["schemas"]:
        assert (tmp_path / "out" / entry["path"]).is_file()
        assert json.loads((tmp_path / "out" / entry["path"]).read_text())["$id"] == entry["url"]


def test_console_script() -> None:
    script = Path(sys.executable).with_name("balloon-conform")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"balloon-conform {__version__}"


@pytest.mark.parametrize("columns", ["50", "132", "", "wide", "0", None])
@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["schema", "export", "--help"]])
def test_help_is_as_wide_as_argparse_would_make_it(
    columns: str | None,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the command's formatter reads the width itself (argparse's imports shutil for it)
    import argparse
    import shutil

    from conformance import cli

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli._columns() == shutil.get_terminal_size().columns
    helps = []
    for formatter in (cli._Formatter, argparse.HelpFormatter):
        monkeypatch.setattr(cli, "_Formatter", formatter)
        with pytest.raises(SystemExit):
            main(argv)
        helps.append(capsys.readouterr().out)
    assert helps[0] == helps[1]
    assert "usage: balloon-conform" in helps[0]
