"""Never green on nothing: a run that checked nothing fails, and nothing a fleet holds
is passed over without a word.

A selection of checks that cannot run on the captures given, checks between captures
without ``--series`` or without two captures of one boot, a capture whose only files are
another virtio device's: each is said, and none is a success. A file beside a fleet's
captures is a note; a tarball named in capitals is read; one in a compression the
reader does not take is an error on it; a capture's own file one level too high does
not turn the fleet into one capture.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from conformance.capture import is_capture
from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "examples" / "fleet"
VMWARE = FLEET / "vmware-5.8-ubuntu"
BROKEN = ROOT / "examples" / "broken" / "two-drivers-and-stale-vmstat"
SERIES = ROOT / "examples" / "series"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_checks_between_captures_need_series(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "check", "--select", "series.counters-monotonic", str(FLEET))
    assert status == 2 and out == ""
    assert "nothing was checked" in err and "series.counters-monotonic" in err
    assert "it runs with --series" in err
    # with other checks that ran, a success that says which checks did not
    status, out, _ = _run(capsys, "check", "-v", "--select", "virtio.", str(FLEET))
    assert status == 0
    assert "it runs with --series [virtio.memtotal-accounting]" in out


def test_a_selection_that_could_not_run_is_not_a_success(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = _run(capsys, "check", "--select", "hv-balloon", str(VMWARE))
    assert status == 2 and out == ""
    assert "nothing was checked: --select hv-balloon could not run here" in err
    assert "no hv-balloon file in the capture" in err
    # where one capture of the fleet has what the checks need, they ran: a success
    assert _run(capsys, "check", "--select", "hv-balloon", str(FLEET))[0] == 0
    # what reading a file checks counts when the selection keeps it
    assert _run(capsys, "check", "--select", "parse,schema", str(VMWARE))[0] == 0


def _reboots(tmp_path: Path) -> Path:
    series = tmp_path / "series"
    shutil.copytree(SERIES, series)
    for index, snapshot in enumerate(sorted(series.iterdir())):
        manifest = json.loads((snapshot / "capture.json").read_text())
        manifest["boot_id"] = f"{index}" * 8 + "-1111-2222-3333-444444444444"
        (snapshot / "capture.json").write_text(json.dumps(manifest))
    return series


def test_a_series_of_reboots_says_its_checks_did_not_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    series = _reboots(tmp_path)
    status, _, err = _run(capsys, "check", "--series", "--select", "series", str(series))
    assert status == 2 and "no two captures of one boot to compare" in err
    status, out, _ = _run(capsys, "check", "--series", "--output-format", "json", str(series))
    assert status == 0  # the captures' own checks ran
    report = json.loads(out)
    skipped = {s["rule"] for c in report["captures"] for s in c.get("skipped", ())}
    assert "series.counters-monotonic" in skipped


def test_another_virtio_device_is_no_balloon_capture(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    device = tmp_path / "net" / "sys" / "bus" / "virtio" / "devices" / "virtio0"
    device.mkdir(parents=True)
    (device / "device").write_text("0x0001\n")  # a network card
    (device / "features").write_text("0" * 33 + "1" + "0" * 30 + "\n")  # bit 33 set
    status, out, _ = _run(capsys, "check", "--output-format", "json", str(tmp_path / "net"))
    assert status == 1
    (capture,) = json.loads(out)["captures"]
    assert [d["id"] for d in capture["diagnostics"]] == ["capture.empty"]
    skipped = {s["rule"]: s["reason"] for s in capture["skipped"]}
    assert "is a balloon" in skipped["virtio.no-access-platform"]
    assert "virtio.no-access-platform" not in capture["rules"]  # it did not run, so no pass


def _fleet(tmp_path: Path) -> Path:
    fleet = tmp_path / "fleet"
    shutil.copytree(FLEET, fleet)
    shutil.copytree(BROKEN, fleet / "broken")
    return fleet


def test_a_capture_file_above_the_captures_keeps_the_fleet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = _fleet(tmp_path)
    before = _run(capsys, "check", str(fleet))
    shutil.copy(VMWARE / "proc" / "meminfo", fleet / "meminfo")
    assert not is_capture(fleet)
    status, out, _ = _run(capsys, "check", str(fleet))
    assert status == before[0] == 1  # the broken guest is still checked
    assert f"{fleet / 'meminfo'}: note: a file beside the captures" in out
    assert out.count("\n") == before[1].count("\n") + 1


def test_nothing_beside_the_captures_goes_unsaid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    shutil.copytree(VMWARE, fleet / "guest")
    (fleet / "README").write_text("what these are\n")
    os.mkfifo(fleet / "pipe")
    with tarfile.open(fleet / "OTHER.TAR", "w") as tar:  # a tarball named in capitals
        tar.add(BROKEN, arcname="broken")
    (fleet / "third.tar.xz").write_bytes(b"\xfd7zXZ\x00\x00")
    status, out, _ = _run(capsys, "check", "--output-format", "json", str(fleet))
    assert status == 1
    found = {
        Path(c["name"]).name: [(d["id"], d["severity"]) for d in c["diagnostics"]]
        for c in json.loads(out)["captures"]
    }
    assert found["README"] == found["pipe"] == [("capture.unknown-file", "note")]
    assert found["third.tar.xz"] == [("capture.unreadable", "error")]
    assert found["OTHER.TAR"] and ("capture.unreadable", "error") not in found["OTHER.TAR"]
    assert found["guest"] == []
