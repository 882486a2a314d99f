"""``balloon-conform run`` (conformance.cli_run): its options and failures without a guest,
then real guests end to end (slow): a 6.1 guest with deflate-on-oom on and off through
inflate/deflate exits 0, the same series perturbed fails with each host rule's finding, a
harness failure exits 2 with the console's tail, and Ctrl-C or SIGTERM leaves no QEMU and
no temporary directory behind.

The tools come from Debian's packages: :func:`tools` installs ``qemu-system-x86`` and
``busybox-static`` when missing (as root, with apt-get), and :func:`kernel_root` unpacks
``linux-image-cloud-amd64``'s kernel into the cache; each skips with the reason when it
cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.run.errors import HarnessError
from conformance.run.initramfs import Kernel, image_release
from conformance.run.qemu import device_options

CACHE = Path("~/.cache/balloon-conform/kernels").expanduser()
KERNEL_ROOT = Path(os.environ.get("BALLOON_CONFORM_KERNEL_ROOT", CACHE / "6.1")).expanduser()
NEW_KERNEL_ROOT = Path(os.environ.get("BALLOON_CONFORM_NEW_KERNEL_ROOT", CACHE / "7.3"))
SCENARIO = "settle;inflate 128M;deflate 128M"
FEATURES = "sys/bus/virtio/devices/virtio0/features"


# --- without a guest -----------------------------------------------------------------


def test_device_options_are_parsed_and_checked() -> None:
    assert device_options("deflate-on-oom=ON, guest-stats-polling-interval=2,page-poison=on") == {
        "deflate-on-oom": "on",
        "guest-stats-polling-interval": "2",
        "page-poison": "on",
    }
    assert device_options("") == {}
    for bad, reason in [
        ("deflate-on-oom", "not NAME=VALUE"),
        ("deflate-on-oom=maybe", "is on or off"),
        ("guest-stats-polling-interval=-1", "whole seconds"),
        ("id=mine", "names the device itself"),
        ("x=a b", "not NAME=VALUE"),
    ]:
        with pytest.raises(HarnessError, match=reason):
            device_options(bad)


def bzimage(path: Path, version: bytes) -> Path:
    """A file with an x86 boot header whose kernel_version points at ``version``."""
    data = bytearray(0x1000)
    data[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", data, 0x20E, 0x400)
    data[0x600 : 0x600 + len(version) + 1] = version + b"\0"
    path.write_bytes(bytes(data))
    return path


def test_the_release_comes_from_the_image_then_the_modules(tmp_path: Path) -> None:
    image = bzimage(tmp_path / "bzImage", b"6.18.0-rc1+ (me@box) #3 SMP")
    assert image_release(image) == "6.18.0-rc1+"
    tree = tmp_path / "root/lib/modules/6.18.0-rc1+"
    (tree / "kernel").mkdir(parents=True)
    (tmp_path / "root/lib/modules/5.0.0/kernel").mkdir(parents=True)
    kernel = Kernel.of_image(image, tmp_path / "root")
    assert (kernel.release, kernel.modules) == ("6.18.0-rc1+", tree)
    assert Kernel.of_image(image, tree).modules == tree
    plain = tmp_path / "plain"
    plain.write_bytes(b"not a kernel")
    assert image_release(plain) == ""
    assert Kernel.of_image(plain, tree).release == "6.18.0-rc1+"
    with pytest.raises(HarnessError, match="no kernel modules"):
        Kernel.of_image(image, tmp_path)


def run_cli(*argv: str) -> int:
    return main(["run", *argv])


def test_a_missing_kernel_or_a_bad_device_is_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "series"
    assert run_cli("--kernel", str(tmp_path / "nope"), "--out", str(out)) == 2
    assert "run failed: " in capsys.readouterr().err and not out.exists()
    image = bzimage(tmp_path / "bzImage", b"6.1.0")
    assert run_cli("--kernel", str(image), "--device", "deflate-on-oom=2", "--out", str(out)) == 2
    assert "deflate-on-oom is on or off" in capsys.readouterr().err and not out.exists()
    assert run_cli("--kernel", str(image), "--scenario", "grow 1M", "--out", str(out)) == 2
    assert "not settle, inflate SIZE or deflate SIZE" in capsys.readouterr().err
    out.mkdir()
    assert run_cli("--kernel", str(image), "--out", str(out)) == 2
    assert "exists; the series is written to a new directory" in capsys.readouterr().err


def static_busybox() -> bool:
    from conformance.run.initramfs import find_busybox

    try:
        find_busybox()
    except HarnessError:
        return False
    return True


def test_no_qemu_is_exit_2_with_the_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not static_busybox():
        pytest.skip(
            "no static busybox to build the initramfs with (apt-get install busybox-static)"
        )
    monkeypatch.setenv("PATH", str(tmp_path))  # no qemu-system-x86_64 on it
    out = tmp_path / "series"
    image = bzimage(tmp_path / "bzImage", b"6.1.0")
    assert run_cli("--kernel", str(image), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "qemu-system-x86_64 not found (install qemu-system-x86)" in err
    assert "Traceback" not in err and not out.exists()


def test_run_is_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "run " in capsys.readouterr().out


# --- the tools: from Debian's packages ----------------------------------------------


def _apt_install(*packages: str) -> str | None:
    """Install ``packages`` with apt-get; None when done, else why not."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "not root with apt-get"
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq",
                    "--no-install-recommends", *packages]):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return f"{' '.join(command[:2])} failed: {done.stderr.strip()[-200:]}"
    return None


@pytest.fixture(scope="module")
def tools() -> None:
    """qemu-system-x86_64 and a static busybox, installed when missing, or a skip."""
    missing = []
    if shutil.which("qemu-system-x86_64") is None:
        missing.append("qemu-system-x86")
    if not static_busybox():
        missing.append("busybox-static")
    if missing:
        why = _apt_install(*missing)
        if why is not None:
            pytest.skip(f"{' and '.join(missing)} missing and not installable ({why})")


def _unpack_cloud_kernel(root: Path) -> str | None:
    """``linux-image-cloud-amd64``'s kernel package unpacked at ``root``; None when done."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "no apt-get and dpkg-deb"
    depends = subprocess.run(["apt-cache", "depends", "--important", "linux-image-cloud-amd64"],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
    names = [line.split(":", 1)[1].strip() for line in depends.splitlines() if "Depends:" in line]
    image = next((n for n in names if n.startswith("linux-image-")), None)
    if image is None:
        return "apt-cache knows no linux-image-cloud-amd64 (apt-get update?)"
    debs = root.parent / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(["apt-get", "download", image], cwd=debs, capture_output=True,
                         text=True, timeout=900, check=False)  # fmt: skip
    found = sorted(debs.glob(f"{image}_*.deb"))
    if got.returncode != 0 or not found:
        return f"apt-get download {image} failed: {got.stderr.strip()[-200:]}"
    subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
    return None


@pytest.fixture(scope="module")
def kernel(tools: None) -> Kernel:
    """The 6.1 cloud kernel, unpacked into the cache when it is not there yet."""
    if not KERNEL_ROOT.is_dir():
        why = _unpack_cloud_kernel(KERNEL_ROOT)
        if why is not None:
            pytest.skip(f"no kernel at {KERNEL_ROOT} and none downloadable ({why})")
    return Kernel.find(KERNEL_ROOT)


def boot(kernel: Kernel, out: Path, *extra: str) -> list[str]:
    return ["run", "--kernel", str(kernel.image), "--modules", str(kernel.modules),
            "--memory", "512", "--scenario", SCENARIO, "--out", str(out), *extra]  # fmt: skip


# --- real guests (slow) ---------------------------------------------------------------


def report(path: Path) -> list[tuple[str, str]]:
    """(rule, file below the series) of every finding of a JSON report."""
    document = json.loads(path.read_text())
    series = {Path(c["name"]).parent for c in document["captures"] if not c.get("series")}
    found = []
    for capture in document["captures"]:
        for d in capture["diagnostics"]:
            where = d["file"]
            for top in series:
                where = where.replace(f"{top}/", "")
            found.append((d["id"], where))
    return sorted(found)


@pytest.mark.slow
@pytest.mark.parametrize("doo", ["on", "off"])
def test_a_61_guest_runs_clean_and_its_perturbed_copy_fails_each_host_rule(
    kernel: Kernel, tmp_path: Path, doo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "series"
    device = f"deflate-on-oom={doo},guest-stats-polling-interval=1"
    reports = ["--report", f"json:{tmp_path / 'r.json'}", "--report", f"html:{tmp_path / 'r.html'}"]
    assert main(boot(kernel, out, "--device", device, *reports)) == 0, capsys.readouterr()
    assert report(tmp_path / "r.json") == []
    picture = (tmp_path / "r.html").read_text()
    assert picture.count('<section class="series"') == 1 and picture.count("<polyline") == 5
    assert "under QEMU with " in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["serial.log", "t0", "t1", "t2"]
    features = (out / "t1" / FEATURES).read_text()
    assert features[2] == ("1" if doo == "on" else "0")

    bad = tmp_path / "perturbed"
    shutil.copytree(out, bad)
    path = bad / "t1/capture.json"
    manifest = json.loads(path.read_text())
    manifest["host"]["actual"] += 64 << 20  # balloon size
    manifest["host"]["target_reached"] = False
    manifest["host"]["guest_stats"]["stats"]["stat-free-memory"] = 0  # a guest stat
    path.write_text(json.dumps(manifest))
    bits = (bad / "t2" / FEATURES).read_text()
    (bad / "t2" / FEATURES).write_text(bits[:2] + ("0" if doo == "on" else "1") + bits[3:])
    assert main(["check", "--series", str(bad), "--report", f"json:{tmp_path / 'b.json'}"]) == 1
    found = [f for f in report(tmp_path / "b.json") if f[0].startswith("host.")]
    assert found == [
        ("host.balloon-size", "t1/proc/vmstat"),
        ("host.features", f"t2/{FEATURES}"),
        ("host.guest-stats", "t1/proc/meminfo"),
        ("host.target-reached", "t1/capture.json"),
    ]


@pytest.mark.slow
def test_a_guest_of_6_15_or_later_runs_clean(
    tools: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not NEW_KERNEL_ROOT.is_dir():
        pytest.skip(f"no 6.15+ kernel at {NEW_KERNEL_ROOT} (docs/driver-ci.rst says how)")
    new = Kernel.find(NEW_KERNEL_ROOT)
    out = tmp_path / "series"
    argv = boot(new, out, "--device", "deflate-on-oom=on,guest-stats-polling-interval=1")
    assert main(argv) == 0, capsys.readouterr()
    assert "Balloon:          131072 kB" in (out / "t1/proc/meminfo").read_text()


@pytest.mark.slow
def test_a_guest_that_does_not_come_up_in_time_is_exit_2_with_its_tail(
    kernel: Kernel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "series"
    assert main(boot(kernel, out, "--boot-timeout", "2")) == 2
    err = capsys.readouterr().err
    assert "run failed: the guest did not print " in err and " within 2 s" in err
    assert "last lines of the serial console:" in err or "the guest printed nothing" in err
    assert not list(out.glob("t*")) and "Traceback" not in err
    assert not _ours(), "a QEMU process was left behind"


def _ours() -> list[int]:
    """QEMU processes whose parent is this test process (none may outlive a run)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
        except (OSError, IndexError):
            continue
        if fields[1] == str(os.getpid()) and name.startswith("qemu-system"):
            pids.append(int(stat.parent.name))
    return pids


def _children(pid: int) -> Iterator[tuple[int, str]]:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text.rsplit(")", 1)[1].split()[1] == str(pid):
            yield int(stat.parent.name), cmdline.replace("\0", " ")


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_leaves_no_qemu_and_no_temporary_directory(
    kernel: Kernel, tmp_path: Path, sig: int, status: int
) -> None:
    out = tmp_path / "series"
    script = Path(sys.executable).parent / "balloon-conform"
    proc = subprocess.Popen([str(script), *boot(kernel, out)], stderr=subprocess.PIPE, text=True)
    try:
        qemu = _wait_for_qemu(proc)
        rundir = Path(qemu[1].split(" -initrd ", 1)[1].split()[0]).parent
        assert rundir.is_dir()
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == status
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not Path(f"/proc/{qemu[0]}").exists(), "QEMU outlived the run"
    assert not _running_in(rundir), "a process still uses the run's temporary directory"
    assert not rundir.exists() and not out.exists()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def _running_in(rundir: Path) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(rundir) in text:
            found.append(text.replace("\0", " "))
    return found


def _wait_for_qemu(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """The run's QEMU, once it is started. No clock: the run bounds its own waits (boot,
    balloon, QMP) and ends with exit 2 when one runs out, which ends this loop too."""
    while proc.poll() is None:
        found = [c for c in _children(proc.pid) if "qemu-system" in c[1] and " -initrd " in c[1]]
        if found:
            time.sleep(1.0)  # into the boot, past the KVM attempt on hosts where it fails
            return next(iter(c for c in _children(proc.pid) if "qemu-system" in c[1]), found[0])
        time.sleep(0.1)
    raise AssertionError(f"the run ended (exit {proc.returncode}) before QEMU started")


@pytest.mark.slow
def test_qemu_killed_mid_run_is_exit_2_with_the_console_tail(
    kernel: Kernel, tmp_path: Path
) -> None:
    out = tmp_path / "series"
    script = Path(sys.executable).parent / "balloon-conform"
    long = ["--scenario", ";".join(["settle"] + ["inflate 16M", "deflate 16M"] * 20)]
    proc = subprocess.Popen([str(script), *boot(kernel, out), *long],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        # the guest is up and the steps go on; the run's own bounded waits end a hang
        while not (out / "t1").is_dir():
            assert proc.poll() is None, "the run ended before its second snapshot"
            time.sleep(0.2)
        qemu = [pid for pid, cmd in _children(proc.pid) if "qemu-system" in cmd]
        assert len(qemu) == 1
        os.kill(qemu[0], signal.SIGKILL)
        assert proc.wait(timeout=60) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert "balloon-conform: run failed: " in err and "Traceback" not in err
    assert "last lines of the serial console:" in err and "@@BC" in err
    assert f"the whole serial console: {out / 'serial.log'}" in err
    assert (out / "t0").is_dir() and (out / "serial.log").stat().st_size > 0
