"""Seconds per scenario step of ``balloon-conform run``, under TCG and under KVM where it works.

Run: ``.venv/bin/python benchmarks/run_step.py [--kernel-root DIR] [--memory 512]
[--steps 4] [--repeat 1] [--json]``

Each measurement boots the kernel unpacked at ``--kernel-root`` (``dpkg-deb -x`` of
Debian's ``linux-image-cloud-amd64`` kernel; default ``~/.cache/balloon-conform/kernels/6.1``)
under QEMU with one accelerator, then times two runs of the scenario on that boot's
process: the boot (until the guest's init is ready), and each step (move the balloon by
64 MiB, wait until QMP's ``actual`` reaches the target, poll the guest's statistics,
take the snapshot over the serial console and write it). The scenario alternates
``inflate 64M`` and ``deflate 64M`` for ``--steps`` steps after a ``settle``. KVM is
measured only when ``/dev/kvm`` opens and a guest comes up with it; otherwise the line
says why not.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.run import qemu  # noqa: E402
from conformance.run.errors import HarnessError  # noqa: E402
from conformance.run.initramfs import Kernel, build, find_busybox  # noqa: E402
from conformance.run.qemu import Machine, device_spec  # noqa: E402
from conformance.run.serial import READY  # noqa: E402
from conformance.run.series import Setup, drive, parse_scenario  # noqa: E402

DEFAULT_ROOT = Path("~/.cache/balloon-conform/kernels/6.1").expanduser()


def scenario(steps: int) -> str:
    moves = ["inflate 64M" if i % 2 == 0 else "deflate 64M" for i in range(steps)]
    return ";".join(["settle", *moves])


def measure(kernel: Kernel, accelerator: str, memory: int, steps: int) -> dict[str, Any]:
    """Boot once with ``accelerator`` only and time the boot and each step."""
    options = {"deflate-on-oom": "on", "guest-stats-polling-interval": "1"}
    setup = Setup(kernel, options, memory)
    machine = Machine(kernel.image, build(kernel, find_busybox()), memory, device_spec(options),
                      re.escape(READY), accelerators=(accelerator,))  # fmt: skip
    started = time.perf_counter()
    marks: list[float] = []
    with machine, tempfile.TemporaryDirectory(prefix="bench-run-") as out:
        booted = time.perf_counter() - started
        began = time.perf_counter()
        drive(machine, setup, parse_scenario(scenario(steps)), Path(out),
              progress=lambda index, path: marks.append(time.perf_counter()))  # fmt: skip
        machine.send("OFF")
    times = [b - a for a, b in zip([began, *marks], marks)]
    return {"accelerator": accelerator, "boot_seconds": round(booted, 2),
            "step_seconds": [round(t, 2) for t in times],
            "median_step_seconds": round(statistics.median(times), 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--memory", type=int, default=512, metavar="MIB")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args(argv)
    kernel = Kernel.find(args.kernel_root)
    results: list[dict[str, Any]] = []
    kvm_ok = qemu.kvm_usable()
    for accelerator in ("tcg", "kvm"):
        if accelerator == "kvm" and not kvm_ok:
            results.append({"accelerator": "kvm", "skipped": "/dev/kvm does not open"})
            continue
        try:
            results.append(measure(kernel, accelerator, args.memory, args.steps))
        except HarnessError as exc:
            first = str(exc).splitlines()[0]
            results.append({"accelerator": accelerator, "skipped": f"no guest came up: {first}"})
    if args.json:
        print(json.dumps({"kernel": kernel.release, "memory_mib": args.memory,
                          "results": results}, indent=2))  # fmt: skip
        return 0
    print(f"kernel {kernel.release}, {args.memory} MiB, scenario {scenario(args.steps)}")
    for result in results:
        if "skipped" in result:
            print(f"  {result['accelerator']}: not measured: {result['skipped']}")
            continue
        steps = " ".join(f"{t:.2f}" for t in result["step_seconds"])
        print(f"  {result['accelerator']}: boot {result['boot_seconds']:.2f} s; seconds per "
              f"step {steps} (median {result['median_step_seconds']:.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
