"""Capturing a live guest: this machine, a made-up root, the kernel log, and the command."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from conformance import schemas
from conformance.capture import Limits, capture_from_files, read_capture
from conformance.check import check_capture
from conformance.cli import main
from conformance.cli_capture import write_directory, write_tar
from conformance.errors import UsageError
from conformance.kmsg import dmesg_lines, read_kernel_log
from conformance.live import _Root, snapshot
from conformance.live_facts import hypervisor

from .test_pipeline import HV

DATA = Path(__file__).parent / "data"
MEMINFO = DATA / "meminfo/capture-6.18.44-firecracker-virtio-balloon-guest.txt"
VMSTAT = DATA / "vmstat/capture-6.18.44-firecracker-virtio-balloon-guest.txt"
DUMP = DATA / "show-mem/template-2.6-6.15-x86_64-two-nodes-balloon.txt"
FEATURES = "01100101" + "0" * 24 + "1" + "0" * 95 + "\n"  # 6.17+ prints 128 bits
LIVE = Path("/proc/meminfo").is_file()
needs_live = pytest.mark.skipif(not LIVE, reason="no /proc/meminfo: not a Linux guest")


def kmsg_records(dmesg: str) -> bytes:
    """The ``/dev/kmsg`` records a ``dmesg`` text was printed from (with a dict line)."""
    out = []
    for seq, line in enumerate(dmesg.splitlines()):
        match = re.fullmatch(r"\[ *(\d+)\.(\d{6})\] (.*)", line)
        assert match, line
        micros = int(match[1]) * 1_000_000 + int(match[2])
        out.append(f"6,{seq},{micros},-;{match[3]}\n SUBSYSTEM=memory\n")
    return "".join(out).encode()


def make_root(root: Path, dump: bool = True) -> Path:
    """A guest root as sysfs lays it out: the virtio device is a link into sys/devices."""
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/meminfo").write_bytes(MEMINFO.read_bytes())
    (root / "proc/vmstat").write_bytes(VMSTAT.read_bytes())
    (root / "proc/sys/kernel/osrelease").write_text("6.18.44-fc-v669\n")
    (root / "proc/sys/kernel/arch").write_text("x86_64\n")
    (root / "proc/cpuinfo").write_text("processor : 0\nflags : fpu hypervisor sse\n")
    (root / "sys/kernel/debug").mkdir(parents=True)
    device = root / "sys/devices/pci0000:00/0000:00:01.0/virtio0"
    device.mkdir(parents=True)
    (device / "features").write_text(FEATURES)
    (device / "device").write_text("0x0005\n")
    (root / "sys/bus/virtio/devices").mkdir(parents=True)
    os.symlink(
        "../../../devices/pci0000:00/0000:00:01.0/virtio0", root / "sys/bus/virtio/devices/virtio0"
    )
    (root / "kmsg").write_bytes(kmsg_records(DUMP.read_text()) if dump else b"")
    return root


def test_a_root_is_captured_with_its_manifest(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    taken = snapshot(root, kernel_log=root / "kmsg", series_index=3)
    assert sorted(taken.files) == [
        "dmesg",
        "proc/meminfo",
        "proc/vmstat",
        "sys/bus/virtio/devices/virtio0/device",
        "sys/bus/virtio/devices/virtio0/features",
    ]
    assert taken.files["dmesg"] == DUMP.read_bytes()  # kmsg records back to dmesg lines
    manifest = taken.manifest
    assert list(schemas.iter_errors("capture.schema.json", manifest)) == []
    assert manifest["kernel_release"] == "6.18.44-fc-v669"
    assert manifest["architecture"] == "x86_64"
    assert manifest["series_index"] == 3
    assert manifest["hypervisor"] == "unknown"  # only the CPU flag says there is one
    statuses = {path: entry["status"] for path, entry in manifest["files"].items()}
    assert statuses == {
        "dmesg": "read",
        "proc/meminfo": "read",
        "proc/vmstat": "read",
        "sys/bus/virtio/devices/virtio0/device": "read",
        "sys/bus/virtio/devices/virtio0/features": "read",
        # a plain directory is no mount point: debugfs is "not mounted" here
        "sys/kernel/debug/hv-balloon": "not-mounted",
        "sys/kernel/debug/virtio-balloon": "not-mounted",
        "sys/kernel/debug/vmmemctl": "not-mounted",
    }
    assert manifest["files"]["proc/meminfo"]["bytes"] == MEMINFO.stat().st_size


def test_written_capture_reads_back_and_checks_like_the_one_in_memory(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    taken = snapshot(root, kernel_log=root / "kmsg")
    write_directory(tmp_path / "out", taken.capture_files())
    write_tar(tmp_path / "out.tar.gz", taken.capture_files())
    results = [
        check_capture(read_capture(tmp_path / "out", name="c")),
        check_capture(read_capture(tmp_path / "out.tar.gz", name="c")),
        check_capture(capture_from_files(taken.capture_files(), name="c")),
    ]
    assert results[0] == results[1] == results[2]
    assert "show-mem" in {f.format for f in read_capture(tmp_path / "out").files}
    with pytest.raises(UsageError):
        write_tar(tmp_path / "out.tar.gz", taken.capture_files())  # never over a file


def test_links_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", dump=False)
    (tmp_path / "secret").write_text("MemTotal: 1 kB\n")
    devices = root / "sys/bus/virtio/devices"
    os.symlink("/etc", devices / "virtio1")
    os.symlink("../../../../../secret", devices / "virtio2")
    (root / "proc/vmstat").unlink()
    os.symlink(tmp_path / "secret", root / "proc/vmstat")
    taken = snapshot(root, kernel_log=root / "kmsg")
    files = taken.manifest["files"]
    assert files["sys/bus/virtio/devices/virtio1/features"]["status"] == "unreadable"
    assert files["sys/bus/virtio/devices/virtio2/features"]["status"] == "unreadable"
    assert files["proc/vmstat"] == {
        "format": "vmstat",
        "status": "unreadable",
        "reason": "a symbolic link on the way; not followed",
    }
    assert b"MemTotal: 1 kB" not in b"".join(taken.files.values())
    assert files["dmesg"]["status"] == "not-kept"  # no show_mem dump in an empty log


def test_fifo_in_the_root_does_not_block(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    (root / "proc/meminfo").unlink()
    os.mkfifo(root / "proc/meminfo")  # no writer: a blocking open would hang
    taken = snapshot(root, kernel_log=root / "proc/meminfo")
    assert taken.manifest["files"]["proc/meminfo"]["status"] == "unreadable"
    assert taken.manifest["files"]["dmesg"]["status"] == "unreadable"


def test_reasons_a_file_was_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path / "root")
    (root / "sys/kernel/debug/vmmemctl").mkdir()  # not a file
    (root / "sys/kernel/debug/hv-balloon").write_text(HV)
    (root / "sys/bus/virtio/drivers/virtio_balloon").mkdir(parents=True)
    monkeypatch.setattr(_Root, "mounted", lambda self, relative: True)
    files = snapshot(root, Limits(file_bytes=2000)).manifest["files"]
    assert files["sys/kernel/debug/hv-balloon"]["status"] == "read"
    assert files["sys/kernel/debug/vmmemctl"]["status"] == "unreadable"
    assert files["proc/vmstat"]["status"] == "too-large"
    assert files["sys/kernel/debug/virtio-balloon"]["status"] == "absent"  # driver, no file
    (root / "sys/bus/virtio/drivers/virtio_balloon").rmdir()
    files = snapshot(root).manifest["files"]
    assert files["sys/kernel/debug/virtio-balloon"]["status"] == "driver-not-loaded"
    assert files["dmesg"]["status"] == "absent"  # another root: not this kernel's log

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("conformance.live.open_beneath", refuse)
    files = snapshot(root).manifest["files"]
    assert files["sys/kernel/debug/vmmemctl"]["status"] == "permission-denied"


def test_kernel_log_records_and_limits(tmp_path: Path) -> None:
    assert dmesg_lines([b"6,1,1500000,-;hello", b" DEVICE=+x", b"junk"]) == [
        b"[    1.500000] hello\n"
    ]
    log = tmp_path / "kmsg"
    log.write_bytes(b"".join(b"6,%d,%d,-;line %d\n" % (i, i, i) for i in range(1000)))
    kept = read_kernel_log(log, limit=300)
    assert kept.text.endswith(b"line 999\n") and len(kept.text) <= 300 and kept.dropped > 900
    assert read_kernel_log(tmp_path / "none").status == "absent"


def test_hypervisor_is_told_from_the_strongest_evidence(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    reader = _Root(root, 4096)
    assert hypervisor(reader, b"[0.0] Hypervisor detected: KVM\n")["hypervisor"] == "kvm"
    dmi = root / "sys/devices/virtual/dmi/id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Microsoft Corporation\n")
    assert hypervisor(reader, b"")["hypervisor"] == "hyperv"
    (root / "sys/hypervisor").mkdir()
    (root / "sys/hypervisor/type").write_text("xen\n")
    assert hypervisor(reader, b"") == {
        "hypervisor": "xen",
        "hypervisor_source": "sys/hypervisor/type",
    }
    (root / "proc/cpuinfo").write_text("Processor : AArch64\n")
    assert hypervisor(_Root(tmp_path / "empty", 4096), b"") == {}


def test_capture_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path / "root")
    out = tmp_path / "out"
    assert main(["capture", "--root", str(root), str(out)]) == 0
    assert "sys/kernel/debug/vmmemctl: not-mounted" in capsys.readouterr().err
    assert (
        json.loads((out / "capture.json").read_text())["files"]["proc/meminfo"]["status"] == "read"
    )
    assert main(["check", str(out)]) == 0
    series = tmp_path / "series"
    args = ["capture", "--root", str(root), "--series", "2", "--interval", "0", str(series)]
    assert main(args) == 0
    assert json.loads((series / "t1/capture.json").read_text())["series_index"] == 1
    assert main(["check", "--series", str(series / "t0"), str(series / "t1")]) == 0
    assert main(["capture", "--root", str(root), "--tar", str(tmp_path / "c.tar.gz")]) == 0
    assert main(["check", str(tmp_path / "c.tar.gz")]) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["capture"],  # neither OUTDIR nor --tar
        ["capture", "out", "--tar", "x.tar.gz"],
        ["capture", "--series", "2", "--tar", "x.tar.gz"],
        ["capture", "--root", "/no/such/root", "out"],
        ["capture", "existing"],  # not empty
        ["check"],  # no CAPTURE and no --live
        ["check", "--live", "somewhere"],
    ],
)
def test_capture_usage_errors(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing/file").write_text("x")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("balloon-conform: error: ") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]  # nothing written


@pytest.mark.parametrize("size", ["0", "-1", "1x", "9" * 40, ""])
def test_bad_sizes_and_counts_are_usage_errors(size: str) -> None:
    for args in (["check", "--max-file-size", size, "."], ["capture", "--series", size, "o"]):
        with pytest.raises(SystemExit) as exit:
            main(args)
        assert exit.value.code == 2


@needs_live
def test_this_guest_is_captured_and_checked(tmp_path: Path) -> None:
    taken = snapshot()
    assert list(schemas.iter_errors("capture.schema.json", taken.manifest)) == []
    assert taken.manifest["files"]["proc/meminfo"]["status"] == "read"
    assert taken.manifest["kernel_release"] == os.uname().release
    if Path("/sys/bus/virtio/devices").is_dir():
        assert any(p.endswith("/features") for p in taken.files)
    write_directory(tmp_path / "cap", taken.capture_files())
    result = check_capture(read_capture(tmp_path / "cap"))
    errors = [str(d) for d in result.diagnostics if d.severity.value == "error"]
    assert errors == []  # real, consistent kernel output raises no false alarm
    assert f"{tmp_path / 'cap'}/proc/meminfo" in result.files


@needs_live
def test_check_live(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--live", "--output-format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["captures"][0]["name"] == "live"
    assert "/proc/meminfo" in report["captures"][0]["files"]  # the guest's own path


def test_live_findings_point_at_the_guest_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check --live`` on a guest whose meminfo is broken: every report names the file
    the guest printed, ``/proc/meminfo``, never ``live/...`` under the working directory."""
    root = make_root(tmp_path / "root", dump=False)
    (root / "proc/meminfo").write_text("MemTotal:  12 kB\nMemFree:   -3 kB\n")
    # the live reader is imported by check --live when it runs: patched where it lives
    monkeypatch.setattr("conformance.live.snapshot", lambda _root, limits: snapshot(root))
    monkeypatch.chdir(tmp_path)
    sarif, gitlab, junit = tmp_path / "o.sarif", tmp_path / "o.json", tmp_path / "o.xml"
    args = ["check", "--live", "--report", "text", "--report", f"sarif:{sarif}"]
    args += ["--report", f"gitlab:{gitlab}", "--report", f"junit-gitlab:{junit}"]
    assert main(args) == 1
    text = capsys.readouterr().out
    assert "\n/proc/meminfo:2:" in "\n" + text and "live/" not in text
    run = json.loads(sarif.read_text())["runs"][0]
    assert run["originalUriBaseIds"]["GUESTROOT"]["uri"] == "file:///"
    places = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "proc/meminfo", "uriBaseId": "GUESTROOT"} in places
    assert all(p["uriBaseId"] == "GUESTROOT" for p in places)
    assert "/proc/meminfo" in {i["location"]["path"] for i in json.loads(gitlab.read_text())}
    assert 'file="/proc/meminfo"' in junit.read_text()
