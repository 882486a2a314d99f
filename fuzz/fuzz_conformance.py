"""atheris (libFuzzer) harness for the parsers and the capture readers; not part of the tests.

Each input picks one target: a parser (any format, either layout), the tarball reader on
the input as a ``.tar`` or ``.tar.gz`` file, or the in-memory capture reader on files
cut from the input; the capture is then checked. A crash is any exception escaping.

    .venv/bin/pip install atheris        # not in the test extras
    mkdir -p /tmp/fuzz-corpus && cp tests/data/*/*.txt /tmp/fuzz-corpus/
    .venv/bin/python fuzz/fuzz_conformance.py -max_total_time=120 /tmp/fuzz-corpus

Give libFuzzer a scratch corpus directory: it writes new inputs into the first one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from conformance import format_ids, parse
    from conformance.capture import Limits, capture_from_files, read_capture
    from conformance.check import check_capture

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
SCRATCH = tempfile.mkdtemp(prefix="balloon-fuzz-")


def one_input(data: bytes) -> None:
    """Run one target on ``data``; any exception is a finding."""
    provider = atheris.FuzzedDataProvider(data)
    target = provider.ConsumeIntInRange(0, 2)
    if target == 0:
        format_id = FORMATS[provider.ConsumeIntInRange(0, len(FORMATS) - 1)]
        layout = "exact" if provider.ConsumeBool() else "lenient"
        parse(provider.ConsumeBytes(len(data)), format=format_id, layout=layout)
    elif target == 1:
        path = os.path.join(SCRATCH, "c.tar.gz" if provider.ConsumeBool() else "c.tar")
        with open(path, "wb") as out:
            out.write(provider.ConsumeBytes(len(data)))
        check_capture(read_capture(Path(path), LIMITS, name="c"))
    else:
        files = {}
        for _ in range(provider.ConsumeIntInRange(1, 6)):
            relative = PATHS[provider.ConsumeIntInRange(0, len(PATHS) - 1)]
            files[relative] = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 4096))
        check_capture(capture_from_files(files, LIMITS, name="c"))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
