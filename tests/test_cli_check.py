"""balloon-conform check / rules / explain, end to end through main()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import schemas
from conformance.cli import main
from conformance.rules import RULES

from .test_capture import make_root
from .test_pipeline import HV


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_clean_capture_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = make_root(tmp_path / "cap")
    (root / "sys/bus/virtio/devices/virtio0").rename(root / "sys/bus/virtio/devices/gone")
    status, out, _ = run(capsys, "check", str(root))
    assert status == 0
    assert out.strip().startswith("1 capture, 1 file: 0 errors, 0 warnings, 0 notes; ")


def test_errors_exit_1_and_json_validates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make_root(tmp_path / "fleet" / "a")  # hv-balloon and a virtio balloon: two drivers
    make_root(tmp_path / "fleet" / "b")
    status, out, _ = run(capsys, "check", "--output-format", "json", str(tmp_path / "fleet"))
    assert status == 1
    report = json.loads(out)
    assert list(schemas.iter_errors("report.schema.json", report)) == []
    assert [c["name"] for c in report["captures"]] == [str(tmp_path / "fleet" / n) for n in "ab"]
    ids = {d["id"] for c in report["captures"] for d in c["diagnostics"]}
    assert ids == {"balloon.single-driver"}


def test_series(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name, added in (("t0", 1024), ("t1", 0)):
        (tmp_path / name).mkdir()
        text = HV.replace("pages_added           : 0", f"pages_added           : {added}")
        (tmp_path / name / "hv-balloon").write_text(text)
    status, out, _ = run(capsys, "check", "--series", str(tmp_path / "t0"), str(tmp_path / "t1"))
    assert status == 1
    assert f"{tmp_path}/t1/hv-balloon:5:25: error: pages_added went back" in out


def test_output_file_and_select(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    make_root(tmp_path / "cap")
    target = tmp_path / "report.xml"
    status, out, _ = run(
        capsys,
        "check",
        "--ignore",
        "balloon",
        "--output-format",
        "junit",
        "--output",
        str(target),
        str(tmp_path / "cap"),
    )
    assert (status, out) == (0, "")
    assert target.read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "/nonexistent"], "no such capture"),
        (["check", "--series", "{tmp}"], "with --series, give the captures of one series"),
        (["explain", "nope"], "unknown id 'nope'"),
        (["explain", "virtio.no-acess-platform"], "did you mean virtio.no-access-platform?"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    status, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert status == 2 and message in err and "Traceback" not in err


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "rules")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == [rule.id for rule in RULES]
    status, out, _ = run(capsys, "explain", "virtio.no-access-platform")
    assert (
        status == 0
        and "rests on: virtballoon_validate()" in out
        and "example of a violation" in out
    )


def test_a_fleet_is_listed_twice_and_its_members_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telling a fleet's members costs two listings of the fleet (is it a capture, which
    members), whatever its size; a member that holds proc/ is a capture without one."""
    import os

    from conformance import cli_check

    fleet = tmp_path / "fleet"
    for index in range(5):
        (fleet / f"guest-{index}" / "proc").mkdir(parents=True)
    listed: list[str] = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: listed.append(str(path)) or scandir(path))
    found = cli_check._members(fleet)
    assert [p.name for p in found] == [f"guest-{index}" for index in range(5)]
    assert listed == [str(fleet), str(fleet)]
