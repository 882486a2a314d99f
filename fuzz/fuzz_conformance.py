"""atheris (libFuzzer) harness for the parsers and the capture readers; not part of the tests.

Each input picks one target:

0. a parser (any format, either layout) on the input;
1. the tarball reader on the input as a ``.tar`` or ``.tar.gz`` file, then the checker;
2. the in-memory capture reader on files cut from the input, then the checker;
3. a directory capture built from the input: files, directories, FIFOs, hard links and
   symbolic links to a *sentinel* directory outside the capture;
4. a fleet built from the input, checked end to end through the command line
   (``check --output-format json``): members that are captures, tarballs, and links named
   like captures or tarballs that lead to the sentinel.

A crash is any exception escaping (the CLI runs with ``--debug``, so an internal error is
one), a hang is an input that takes longer than libFuzzer's ``-timeout``, and an *outside
read* is the sentinel's marker showing up in what was read or reported: the sentinel holds
files with a field name no kernel prints, which any read of them would turn into a finding.

    .venv/bin/pip install atheris        # not in the test extras
    mkdir -p /tmp/fuzz-corpus && cp tests/data/*/*.txt /tmp/fuzz-corpus/
    .venv/bin/python fuzz/fuzz_conformance.py -timeout=10 -max_total_time=600 /tmp/fuzz-corpus

Give libFuzzer a scratch corpus directory: it writes new inputs into the first one. Trees
are built through directory file descriptors with ``O_NOFOLLOW``, so a link made by one
input can never lead a later write outside the scratch folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from conformance import format_ids, parse
    from conformance.capture import Limits, capture_from_files, read_capture
    from conformance.check import check_capture
    from conformance.cli import main as cli_main

FORMATS = format_ids()
PATHS = [
    "proc/meminfo",
    "proc/vmstat",
    "sys/kernel/debug/hv-balloon",
    "sys/kernel/debug/vmmemctl",
    "sys/kernel/debug/virtio-balloon",
    "sys/bus/virtio/devices/virtio0/features",
    "sys/bus/virtio/devices/virtio0/device",
    "dmesg",
    "capture.json",
]
LIMITS = Limits(file_bytes=64 * 1024, capture_bytes=256 * 1024, archive_bytes=1024 * 1024)
SCRATCH = Path(tempfile.mkdtemp(prefix="balloon-fuzz-"))
MARKER = b"SentinelOutsideTheCapture"
NAMES = ["proc", "sys", "meminfo", "vmstat", "capture.json", "dmesg", "x.tar", "y.tgz", "t0"]


def _sentinel() -> Path:
    """A capture outside every fuzzed tree, and a tarball of it, each holding MARKER."""
    root = SCRATCH / "outside"
    (root / "proc").mkdir(parents=True)
    meminfo = b"MemTotal: 1024 kB\nMemFree: 512 kB\n" + MARKER + b": 1 kB\n"
    (root / "proc/meminfo").write_bytes(meminfo)
    (root / "meminfo").write_bytes(meminfo)
    with tarfile.open(SCRATCH / "outside.tar", "w") as tar:
        tar.add(root / "proc/meminfo", arcname="proc/meminfo")
    return root


OUTSIDE = _sentinel()
TARGETS = [OUTSIDE, OUTSIDE / "proc", OUTSIDE / "proc/meminfo", SCRATCH / "outside.tar"]


def _build(root: Path, provider: atheris.FuzzedDataProvider) -> None:
    """A tree under ``root`` made through directory descriptors: never through a link."""
    root.mkdir()
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(provider.ConsumeIntInRange(1, 12)):
            parent = fds[provider.ConsumeIntInRange(0, len(fds) - 1)]
            name = NAMES[provider.ConsumeIntInRange(0, len(NAMES) - 1)]
            kind = provider.ConsumeIntInRange(0, 4)
            with contextlib.suppress(OSError):
                if kind == 0:
                    fd = os.open(
                        name,
                        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                        0o644,
                        dir_fd=parent,
                    )
                    os.write(fd, provider.ConsumeBytes(provider.ConsumeIntInRange(0, 2048)))
                    os.close(fd)
                elif kind == 1:
                    os.mkdir(name, dir_fd=parent)
                    fds.append(
                        os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
                    )
                elif kind == 2:
                    target = TARGETS[provider.ConsumeIntInRange(0, len(TARGETS) - 1)]
                    os.symlink(target, name, dir_fd=parent)
                elif kind == 3:
                    os.mkfifo(name, dir_fd=parent)
                else:
                    os.link(OUTSIDE / "meminfo", name, dst_dir_fd=parent)
    finally:
        for fd in fds:
            os.close(fd)


def _assert_inside(text: bytes | str) -> None:
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if MARKER in data:
        raise AssertionError("a file outside the capture was read")


def one_input(data: bytes) -> None:
    """Run one target on ``data``; any exception is a finding."""
    provider = atheris.FuzzedDataProvider(data)
    target = provider.ConsumeIntInRange(0, 4)
    if target == 0:
        format_id = FORMATS[provider.ConsumeIntInRange(0, len(FORMATS) - 1)]
        layout = "exact" if provider.ConsumeBool() else "lenient"
        parse(provider.ConsumeBytes(len(data)), format=format_id, layout=layout)
    elif target == 1:
        path = SCRATCH / ("c.tar.gz" if provider.ConsumeBool() else "c.tar")
        path.write_bytes(provider.ConsumeBytes(len(data)))
        check_capture(read_capture(path, LIMITS, name="c"))
    elif target == 2:
        files = {}
        for _ in range(provider.ConsumeIntInRange(1, 6)):
            relative = PATHS[provider.ConsumeIntInRange(0, len(PATHS) - 1)]
            files[relative] = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 4096))
        check_capture(capture_from_files(files, LIMITS, name="c"))
    elif target == 3:
        tree = SCRATCH / "tree"
        try:
            _build(tree, provider)
            capture = read_capture(tree, LIMITS, name="c")
            for captured in capture.files:
                _assert_inside(captured.data)
            for diagnostic in check_capture(capture).diagnostics:
                _assert_inside(diagnostic.message)
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    else:
        fleet = SCRATCH / "fleet"
        report = SCRATCH / "report.json"
        try:
            _build(fleet, provider)
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()) as err,
            ):
                status = cli_main(
                    [
                        "--debug",
                        "check",
                        "--output-format",
                        "json",
                        "--output",
                        str(report),
                        str(fleet),
                    ]
                )
            if status not in (0, 1, 2):
                raise AssertionError(f"exit status {status}")
            _assert_inside(err.getvalue())
            if report.exists():
                _assert_inside(report.read_bytes())
        finally:
            shutil.rmtree(fleet, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                report.unlink()


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
