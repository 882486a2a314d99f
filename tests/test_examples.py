"""End to end through the console script, on the bundled sample captures: a fleet, a
series, a tarball and a capture that breaks rules on purpose."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOOL = Path(sys.executable).with_name("balloon-conform")


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TOOL), *argv], capture_output=True, text=True, cwd=ROOT)


def test_fleet_conforms() -> None:
    done = run("check", "examples/fleet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith(
        "4 captures, 12 files: 0 errors, 0 warnings, 1 note; "
    )


def test_series_conforms_and_its_rules_ran() -> None:
    done = run(
        "check", "--series", "--output-format", "json", "examples/series/t0", "examples/series/t1"
    )
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    between = report["captures"][-1]
    assert between["name"] == "series:examples/series/t0 -> examples/series/t1"
    assert {"series.counters-monotonic", "virtio.memtotal-accounting"} <= set(between["rules"])


def test_broken_capture_fails_with_located_findings() -> None:
    done = run("check", "--output-format", "github", "examples/broken")
    assert done.returncode == 1
    cap = "examples/broken/two-drivers-and-stale-vmstat"
    features = f"{cap}/sys/bus/virtio/devices/virtio0/features"
    findings = [line for line in done.stdout.splitlines() if "skipped::" not in line]
    assert findings == [
        f"::error file={cap},title=balloon.single-driver::2 balloon drivers are active: "
        f"{cap}/sys/kernel/debug/hv-balloon, {features}",
        f"::warning file={cap}/proc/meminfo,line=45,endLine=45,col=18,title=balloon.vmstat-agrees::"
        "Balloon is 1048576 kB but nr_balloon_pages 131072 x 4096 bytes is 524288 kB"
        f"%0Ahint: {cap}/proc/vmstat: nr_balloon_pages 131072",
        f"::error file={features},line=1,endLine=1,col=34,title=virtio.no-access-platform::"
        "a balloon never negotiates VIRTIO_F_ACCESS_PLATFORM (bit 33): "
        "virtballoon_validate() clears it",
    ]


def test_tarball_of_a_capture(tmp_path: Path) -> None:
    archive = tmp_path / "guest.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLES / "fleet" / "hyperv-6.15-balloon-up", arcname="hyperv-6.15-balloon-up")
    done = run("check", "--strict", str(archive))
    assert done.returncode == 0, done.stdout
    assert "1 capture, 3 files: 0 errors" in done.stdout


def test_same_bytes_twice() -> None:
    first = run("check", "--output-format", "sarif", "examples/fleet", "examples/broken")
    second = run("check", "--output-format", "sarif", "examples/fleet", "examples/broken")
    assert first.stdout == second.stdout and first.returncode == second.returncode == 1


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    argv = [str(TOOL), "check", "--output-format", "json", "examples/fleet"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # gone before the report is written, as `| true` would be
        err = proc.stderr.read().decode()
        proc.wait()
    assert err == ""
