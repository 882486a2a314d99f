"""The guest harness (conformance.run): QMP against a fake server, the initramfs read back,
the serial snapshot protocol run through a real shell, the manifest against its schema, the
real guest captures in tests/data/guests, and one real boot (slow)."""

from __future__ import annotations

import json
import lzma
import os
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import schemas
from conformance.run.errors import HarnessError
from conformance.run.initramfs import Entry, Kernel, build, load_order, modinfo_depends, newc
from conformance.run.manifest import guest_manifest
from conformance.run.qmp import QMPClient, QMPError
from conformance.run.serial import SNAPSHOT_SHELL, SerialError, parse_snapshot
from conformance.run.series import main as series_main
from conformance.run.series import parse_scenario

GUESTS = Path(__file__).parent / "data" / "guests"
KERNEL_ROOT = Path(
    os.environ.get("BALLOON_CONFORM_KERNEL_ROOT", "~/.cache/balloon-conform/kernels/6.1")
).expanduser()


# --- QMP -----------------------------------------------------------------------------


class FakeQMP:
    """A QMP server on a UNIX socket that answers from a script, one client."""

    GREETING = b'{"QMP": {"version": {"qemu": {"major": 7}}}}\n'

    def __init__(self, path: Path, greeting: bytes | None = None) -> None:
        self.path = path
        self.greeting = greeting or self.GREETING
        self.received: list[dict[str, Any]] = []
        self.actual = 1 << 30
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn, conn.makefile("rwb") as stream:
            stream.write(self.greeting)
            stream.flush()
            for line in stream:
                request = json.loads(line)
                self.received.append(request)
                for answer in self.answers(request):
                    stream.write(json.dumps(answer).encode() + b"\n")
                stream.flush()
                if request["execute"] == "hang-up":
                    return

    def answers(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        command, ident = request["execute"], request.get("id")
        if command == "balloon":
            self.actual = request["arguments"]["value"]
            event = {"event": "BALLOON_CHANGE", "data": {"actual": self.actual}}
            # another client's answer and an event come before ours
            return [{"return": {}, "id": "someone-else"}, event, {"return": {}, "id": ident}]
        if command in ("qmp_capabilities", "quit"):
            return [{"return": {}, "id": ident}]
        if command == "query-balloon":
            return [{"return": {"actual": self.actual}, "id": ident}]
        if command == "hang-up":
            return []
        error = {"class": "CommandNotFound", "desc": f"The command {command} has not been found"}
        return [{"error": error, "id": ident}]


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeQMP]:
    server = FakeQMP(tmp_path / "qmp.sock")
    yield server
    server.server.close()


def test_qmp_negotiates_and_drives_the_balloon(fake: FakeQMP) -> None:
    with QMPClient.connect(fake.path, timeout=5) as client:
        assert client.greeting["version"]["qemu"]["major"] == 7
        client.balloon(768 << 20)
        assert client.balloon_actual() == 768 << 20
    commands = [request["execute"] for request in fake.received]
    assert commands == ["qmp_capabilities", "balloon", "query-balloon"]
    assert fake.received[1]["arguments"] == {"value": 768 << 20}
    assert [e["event"] for e in client.events] == ["BALLOON_CHANGE"]
    assert len({request["id"] for request in fake.received}) == 3


def test_qmp_error_answer_raises_with_its_class(fake: FakeQMP) -> None:
    with QMPClient.connect(fake.path, timeout=5) as client:
        with pytest.raises(QMPError, match="CommandNotFound: The command nope") as caught:
            client.execute("nope")
        assert caught.value.error_class == "CommandNotFound"
        assert client.balloon_actual() == 1 << 30  # the conversation goes on


def test_qmp_server_that_hangs_up_is_an_error(fake: FakeQMP) -> None:
    client = QMPClient.connect(fake.path, timeout=5)
    with client, pytest.raises(QMPError, match="closed the connection"):
        client.execute("hang-up")


def test_qmp_without_a_greeting_is_refused(tmp_path: Path) -> None:
    server = FakeQMP(tmp_path / "qmp.sock", greeting=b'{"hello": 1}\n')
    with pytest.raises(QMPError, match="not a QMP greeting"):
        QMPClient.connect(server.path, timeout=5)
    server.server.close()


def test_qmp_event_before_the_greeting_is_kept(tmp_path: Path) -> None:
    # QEMU 7.2 in CI: a client that connected as the guest started read RESUME first
    resume = b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}\n'
    server = FakeQMP(tmp_path / "qmp.sock", greeting=resume + FakeQMP.GREETING)
    with QMPClient.connect(server.path, timeout=5) as client:
        assert client.greeting["version"]["qemu"]["major"] == 7
        assert [e["event"] for e in client.events] == ["RESUME"]
        assert client.balloon_actual() == 1 << 30
    server.server.close()


def test_qmp_with_no_server_says_where(tmp_path: Path) -> None:
    with pytest.raises(QMPError, match=r"cannot connect to QMP at .*absent\.sock"):
        QMPClient.connect(tmp_path / "absent.sock", timeout=0.2)


# --- initramfs -----------------------------------------------------------------------


def read_newc(archive: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    """name -> (mode, data, rdev) of a newc archive, read independently of the writer."""
    members, offset = {}, 0
    while True:
        assert archive[offset : offset + 6] == b"070701"
        fields = [int(archive[offset + 6 + 8 * i : offset + 14 + 8 * i], 16) for i in range(13)]
        name_size, file_size = fields[11], fields[6]
        name_start = offset + 110
        name = archive[name_start : name_start + name_size - 1].decode()
        data_start = (name_start + name_size + 3) & ~3
        data = archive[data_start : data_start + file_size]
        offset = (data_start + file_size + 3) & ~3
        if name == "TRAILER!!!":
            assert offset == len(archive)
            return members
        members[name] = (fields[1], data, (fields[9], fields[10]))


def test_newc_reads_back() -> None:
    archive = newc([Entry("bin", 0o040755), Entry("bin/x", 0o100755, b"abcde"),
                    Entry("dev/console", 0o020600, rdev=(5, 1))])  # fmt: skip
    members = read_newc(archive)
    assert members["bin/x"] == (0o100755, b"abcde", (0, 0))
    assert members["dev/console"] == (0o020600, b"", (5, 1))
    assert len(archive) % 4 == 0


def elf_module(depends: str) -> bytes:
    """A minimal ELF64 relocatable with a ``.modinfo`` section, as a kernel module has."""
    modinfo = b"license=GPL\0" + f"depends={depends}\0".encode() + b"name=x\0"
    strtab = b"\0.shstrtab\0.modinfo\0"
    body_offset = 64
    shoff = body_offset + len(modinfo) + len(strtab)
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    header += struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 1)
    null = b"\0" * 64
    shstr = struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, body_offset + len(modinfo), len(strtab),
                        0, 0, 1, 0)  # fmt: skip
    info = struct.pack("<IIQQQQIIQQ", 11, 1, 0, 0, body_offset, len(modinfo), 0, 0, 1, 0)
    return header + modinfo + strtab + null + shstr + info


def test_modinfo_depends_reads_the_section() -> None:
    assert modinfo_depends(elf_module("virtio,virtio_ring")) == ("virtio", "virtio_ring")
    assert modinfo_depends(elf_module("")) == ()
    with pytest.raises(HarnessError, match="not a 64-bit"):
        modinfo_depends(b"MZ not an elf" + b"\0" * 64)


def fake_kernel(root: Path, usr: bool = False) -> Kernel:
    """A package tree: virtio_balloon.ko.xz needs virtio, which needs virtio_ring (plain);
    virtio_pci has no file (built in)."""
    release = "9.9.9-test"
    tree = root / ("usr/lib/modules" if usr else "lib/modules") / release
    virtio = tree / "kernel/drivers/virtio"
    virtio.mkdir(parents=True)
    (virtio / "virtio_balloon.ko.xz").write_bytes(lzma.compress(elf_module("virtio")))
    (virtio / "virtio.ko").write_bytes(elf_module("virtio_ring"))
    (virtio / "virtio_ring.ko").write_bytes(elf_module(""))
    image = tree / "vmlinuz" if usr else root / "boot" / f"vmlinuz-{release}"
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(b"bzImage")
    return Kernel.find(root)


@pytest.mark.parametrize("usr", [False, True])
def test_modules_load_dependencies_first_and_decompressed(tmp_path: Path, usr: bool) -> None:
    kernel = fake_kernel(tmp_path, usr)
    assert kernel.release == "9.9.9-test" and kernel.image.read_bytes() == b"bzImage"
    order = load_order(kernel)
    assert [name for name, _ in order] == ["virtio_ring", "virtio", "virtio_balloon"]
    assert all(data.startswith(b"\x7fELF") for _, data in order)


def test_module_cycle_and_missing_kernel_are_errors(tmp_path: Path) -> None:
    kernel = fake_kernel(tmp_path / "k")
    (kernel.modules / "kernel/drivers/virtio/virtio_ring.ko").write_bytes(elf_module("virtio"))
    with pytest.raises(HarnessError, match="cycle: virtio_balloon -> virtio -> virtio_ring"):
        load_order(kernel)
    with pytest.raises(HarnessError, match="no kernel"):
        Kernel.find(tmp_path / "empty")


def test_initramfs_has_busybox_modules_console_and_init(tmp_path: Path) -> None:
    kernel = fake_kernel(tmp_path / "k")
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"\x7fELF busybox")
    members = read_newc(build(kernel, busybox))
    assert members["bin/busybox"][1] == b"\x7fELF busybox"
    assert members["dev/console"][0] == 0o020600 and members["dev/console"][2] == (5, 1)
    assert {"modules/virtio_ring.ko", "modules/virtio.ko", "modules/virtio_balloon.ko"} <= set(
        members
    )
    init = members["init"][1].decode()
    assert members["init"][0] == 0o100755 and init.startswith("#!/bin/busybox sh\n")
    assert "for m in virtio_ring virtio virtio_balloon; do" in init
    assert "bc_snapshot()" in init and "mount -t debugfs" in init


# --- the serial protocol -------------------------------------------------------------

needs_shell = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("sh", "base64", "md5sum", "sed", "awk", "cut")),
    reason="the snapshot shell needs sh, base64, md5sum, sed, awk and cut",
)


def shell_snapshot(tag: str) -> str:
    """What the guest's ``bc_snapshot`` prints when run on this machine."""
    script = SNAPSHOT_SHELL + f"\nbc_snapshot {tag}\n"
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout


@needs_shell
def test_the_shell_and_the_parser_agree() -> None:
    text = shell_snapshot("t3")
    guest = parse_snapshot(text, "t3")
    assert guest.files["proc/meminfo"].startswith(b"MemTotal:")
    assert b"nr_free_pages" in guest.files["proc/vmstat"]
    assert guest.files["proc/sys/kernel/osrelease"].strip().decode() == os.uname().release
    assert guest.page_size == os.sysconf("SC_PAGE_SIZE")
    assert "sys/kernel/debug/vmmemctl" in guest.missing or "sys/kernel/debug/vmmemctl" in (
        guest.files
    )


@needs_shell
def test_kernel_messages_and_crlf_do_not_disturb_the_parser() -> None:
    lines = shell_snapshot("t1").splitlines()
    lines.insert(3, "[   12.345] virtio_balloon virtio0: some message")
    text = "noise\r\n" + "\r\n".join(lines) + "\r\n" + shell_snapshot("t10")
    assert parse_snapshot(text, "t1").files["proc/meminfo"].startswith(b"MemTotal:")
    assert parse_snapshot(text, "t10").tag == "t10"


@needs_shell
def test_a_damaged_line_is_an_error_not_a_wrong_capture() -> None:
    text = shell_snapshot("t0")
    first_data = next(line for line in text.splitlines() if line.startswith("@@BC DATA "))
    damaged = text.replace(first_data, first_data[:-4] + "AAAA", 1)
    with pytest.raises(SerialError, match="proc/meminfo: checksum does not match"):
        parse_snapshot(damaged, "t0")
    with pytest.raises(SerialError, match="snapshot t0 has no END line"):
        parse_snapshot(text.split("@@BC END")[0], "t0")
    with pytest.raises(SerialError, match="snapshot t9 is not in the serial log"):
        parse_snapshot(text, "t9")


@needs_shell
def test_manifest_of_a_snapshot_passes_the_capture_schema() -> None:
    guest = parse_snapshot(shell_snapshot("t0"), "t0")
    manifest = guest_manifest(guest, "tcg", "2026-12-02T01:30:00+00:00", "0.1.0")
    assert list(schemas.iter_errors("capture.schema.json", manifest)) == []
    assert manifest["files"]["proc/meminfo"]["status"] == "read"
    assert manifest["hypervisor"] == "unknown" and "TCG" in manifest["hypervisor_source"]
    assert len(manifest["boot_id"]) == 36 and manifest["uptime"] > 0


def test_scenario_steps() -> None:
    steps = parse_scenario("settle; inflate 256M ;deflate 64MiB")
    assert [s.balloon_change for s in steps] == [0, 256 << 20, -(64 << 20)]
    for bad in ("inflate", "grow 1M", "deflate lots"):
        with pytest.raises(HarnessError, match="scenario step"):
            parse_scenario(bad)


# --- the real captures in tests/data/guests ------------------------------------------

SERIES = {
    # directory: whether the device offered DEFLATE_ON_OOM
    "6.1.0-57-cloud-amd64-doo-off": False,
    "6.1.0-57-cloud-amd64-doo-on": True,
    "7.3.4+deb13-cloud-amd64-doo-off": False,
    "7.3.4+deb13-cloud-amd64-doo-on": True,
}


def counters(path: Path) -> dict[str, int]:
    """``name value`` or ``Name: value kB`` lines as numbers."""
    out = {}
    for line in path.read_text().splitlines():
        name, value = line.replace(":", " ").split()[:2]
        out[name] = int(value)
    return out


@pytest.mark.parametrize("name", sorted(SERIES))
def test_guest_captures_hold_what_the_provenance_says(name: str) -> None:
    """MemTotal moves by the balloon without DEFLATE_ON_OOM and stays with it; the guest's
    inflate/deflate events add up to what the host's query-balloon saw."""
    snapshots = sorted((GUESTS / name).glob("t*"))
    assert [s.name for s in snapshots] == ["t0", "t1", "t2"]
    first = counters(snapshots[0] / "proc/meminfo")["MemTotal"]
    for snapshot in snapshots:
        manifest = json.loads((snapshot / "capture.json").read_text())
        assert list(schemas.iter_errors("capture.schema.json", manifest)) == []
        host = manifest["host"]
        assert host["target_reached"] and host["actual"] == host["requested_target"]
        assert host["device_options"] == {"deflate-on-oom": "on" if SERIES[name] else "off"}
        vmstat = counters(snapshot / "proc/vmstat")
        pages = vmstat["balloon_inflate"] - vmstat["balloon_deflate"]
        assert pages * manifest["page_size"] == host["memory"] - host["actual"]
        memtotal = counters(snapshot / "proc/meminfo")["MemTotal"]
        expected = first if SERIES[name] else first - pages * manifest["page_size"] // 1024
        assert memtotal == expected
        features = (snapshot / "sys/bus/virtio/devices/virtio0/features").read_text()
        assert features[2] == ("1" if SERIES[name] else "0")  # bit 2: DEFLATE_ON_OOM


# --- a real boot ---------------------------------------------------------------------

needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86_64 not installed (apt-get install qemu-system-x86)",
)


def test_series_without_a_kernel_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = series_main(["--kernel-root", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "no kernel (lib/modules/<release> and its vmlinuz) found" in capsys.readouterr().err


@pytest.mark.slow
@needs_qemu
def test_a_kernel_that_is_not_one_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kernel(tmp_path / "k")  # its vmlinuz is seven bytes of text
    busybox = [p for p in (Path("/bin/busybox"), Path("/usr/bin/busybox")) if p.is_file()]
    if not busybox:
        pytest.skip("no busybox (apt-get install busybox-static)")
    code = series_main(["--kernel-root", str(tmp_path / "k"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "balloon-conform: " in err and "Traceback" not in err


@pytest.mark.slow
@needs_qemu
@pytest.mark.skipif(
    not KERNEL_ROOT.is_dir(),
    reason=f"no unpacked kernel at {KERNEL_ROOT} (set BALLOON_CONFORM_KERNEL_ROOT; "
    "tests/data/guests/PROVENANCE/README.md says how to unpack Debian's 6.1 package)",
)
def test_a_real_guest_gives_back_64_mib(tmp_path: Path) -> None:
    out = tmp_path / "series"
    scenario = "settle;inflate 64M"
    args = ["--kernel-root", str(KERNEL_ROOT), "--out", str(out), "--scenario", scenario]
    assert series_main(args) == 0
    before, after = (counters(out / t / "proc/meminfo")["MemTotal"] for t in ("t0", "t1"))
    assert before - after == 64 * 1024
    host = json.loads((out / "t1/capture.json").read_text())["host"]
    assert host["memory"] - host["actual"] == 64 << 20 and host["target_reached"]
