"""Tarballs as tools write them (GNU tar in each format, Python's tarfile, ``tar -C cap .``,
``tar czf cap.tgz cap/``) read as the directory they were made from would be."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conformance.capture import Capture, Limits, read_capture

from .test_hostile_tar import MEMINFO, VMSTAT, ids, member, records, write_tar


def test_unknown_files_are_read_where_a_directory_walk_goes(tmp_path: Path) -> None:
    names = ["console.log", "proc/cpuinfo", "var/log/syslog", "etc/passwd", "home/u/x"]
    archive = write_tar(tmp_path / "u.tar.gz", [member(n, n.encode()) for n in names])
    read, budget = records(archive)
    # etc/ and home/ cannot hold a guest file: a directory capture is not walked there either
    assert read == {n: n.encode() for n in names[:3]} and ids(budget) == []
    read, budget = records(archive, Limits(files=2))
    assert list(read) == names[:2] and ids(budget) == [("capture.too-many-files", "t")]


def test_top_folder_and_dot_slash_names(tmp_path: Path) -> None:
    archive = write_tar(
        tmp_path / "top.tar",
        [
            member("./cap/", kind=tarfile.DIRTYPE),  # `tar cf top.tar ./cap`
            member("cap/proc/meminfo", MEMINFO),
            member("./cap/logs/kern.log", b"x"),
            member("./cap/kern.log", b"y"),
        ],
        "w",
    )
    read, budget = records(archive)
    assert read == {"proc/meminfo": MEMINFO, "kern.log": b"y"} and ids(budget) == []
    write_tar(
        archive,
        [
            member("./", kind=tarfile.DIRTYPE),
            member("cap/", kind=tarfile.DIRTYPE),
            member("cap/proc/meminfo", MEMINFO),
            member("kern.log", b"y"),
        ],
        "w",
    )
    read, budget = records(archive)  # "./" first: the top is the capture, cap/ a folder in it
    assert read == {"kern.log": b"y"} and ids(budget) == []


def gnu_tar(*argv: str) -> None:
    subprocess.run(["tar", *argv], check=True, capture_output=True)


LONG = "sys/devices/pci0000:00/" + "d" * 120 + "/virtio0"  # a guest file past 100 characters


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
@pytest.mark.parametrize(
    "options", [["--format=pax"], ["--format=gnu"], ["--format=oldgnu"], ["--format=posix", "-z"]]
)
def test_what_gnu_tar_writes_is_read(tmp_path: Path, options: list[str]) -> None:
    files = {
        "proc/meminfo": MEMINFO,
        f"{LONG}/features": b"0" * 64 + b"\n",
        f"{LONG}/device": b"0x0005\n",
        "console.log": "ünïcode\n".encode(),
        "x" * 150 + "/y": b"out of reach",
    }
    for relative, data in files.items():
        (tmp_path / "cap" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cap" / relative).write_bytes(data)
    with (tmp_path / "cap/holes").open("wb") as sparse:  # a map longer than a header holds
        for segment in range(12):
            sparse.seek(segment << 20)
            sparse.write(b"data")
    archive = tmp_path / "cap.tar"
    gnu_tar("-C", str(tmp_path / "cap"), "--sparse", *options, "-cf", str(archive), ".")
    read, budget = records(archive)
    assert read == {k: v for k, v in files.items() if not k.startswith("x")}
    assert ids(budget) == []  # the "./" entry tar writes first is the capture's top


@pytest.mark.parametrize("form", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_what_python_tarfile_writes_is_read(tmp_path: Path, form: int) -> None:
    long = LONG if form == tarfile.USTAR_FORMAT else LONG + "/" + "é" * 200 + "/.."
    names = {"proc/meminfo": MEMINFO, f"{long}/features": b"1" * 64 + b"\n", "kern.log": b"k"}
    with tarfile.open(tmp_path / "p.tar.gz", "w:gz", format=form) as archive:
        for name, data in names.items():
            info, _ = member(name, data)
            info.uid = 1 << 30 if form != tarfile.USTAR_FORMAT else 0  # GNU: base-256
            archive.addfile(info, io.BytesIO(data))
    read, budget = records(tmp_path / "p.tar.gz")
    assert read == {k: v for k, v in names.items() if ".." not in k}
    assert [i for i, _ in ids(budget)] == (["capture.unsafe-path"] if ".." in long else [])


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_a_tarball_of_dot_passes_check_strict(tmp_path: Path) -> None:
    archive = tmp_path / "cap.tgz"
    guest = Path(__file__).parents[1] / "examples/fleet/hyperv-6.15-balloon-up"
    gnu_tar("-C", str(guest), "-czf", str(archive), ".")
    tool = Path(sys.executable).with_name("balloon-conform")
    done = subprocess.run([str(tool), "check", "--strict", str(archive)], capture_output=True)
    assert done.returncode == 0, done.stdout
    assert b"1 capture, 3 files: 0 errors, 0 warnings" in done.stdout


def test_a_tarball_reads_as_its_directory_does(tmp_path: Path) -> None:
    deep = "sys/devices/" + "/".join(["d"] * 60) + "/virtio0"
    tree = {
        "proc/meminfo": MEMINFO,
        "proc/vmstat": VMSTAT,
        "sys/bus/virtio/devices/virtio0/features": b"0" * 64 + b"\n",
        f"{deep}/features": b"0" * 64 + b"\n",
        "dmesg": b"Mem-Info:\n",
        "logs/kern.log": b"Mem-Info:\n",
    }
    root = tmp_path / "cap"
    for relative, data in tree.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    os.symlink("/etc/passwd", root / "sys/kernel")
    os.mkfifo(root / "kern.log")
    with tarfile.open(tmp_path / "cap.tar.gz", "w:gz") as archive:
        archive.add(root, arcname="cap")

    def seen(capture: Capture) -> tuple[object, ...]:
        files = [(f.format, f.path.split("/", 1)[1], f.data) for f in capture.files]
        return files, [(d.id, d.location.path.split("/", 1)[-1]) for d in capture.diagnostics]

    from_tar = seen(read_capture(tmp_path / "cap.tar.gz", name="c"))
    assert from_tar == seen(read_capture(root, name="c"))
    assert from_tar[1] == [
        ("capture.special-file", "kern.log"),
        ("capture.unknown-file", "logs"),
        ("capture.too-deep", "sys/devices/" + "/".join(["d"] * 15)),
        ("capture.symlink", "sys/kernel"),
    ]
