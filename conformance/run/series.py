"""A balloon scenario run into a series: boot, move the balloon step by step, and write one
capture directory per step (``OUT/t0``, ``t1`` ...) in the layout ``capture --series``
writes, each ``capture.json`` with a ``host`` record of what QEMU was asked and saw.

``python -m conformance.run.series --kernel-root DIR --out DIR [--deflate-on-oom on]
[--scenario "settle;inflate 256M;deflate 256M"]`` (``balloon-conform run`` is the command
users run). A step waits until QMP's ``actual`` reaches the target or stops moving
(bounded), then, when the device polls the guest's statistics, until the guest sent a set
newer than that moment, and takes the snapshot.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..cli_capture import byte_size, write_directory
from ..errors import BalloonError
from ..live import Snapshot
from .errors import TAIL_MARK, HarnessError, with_tail
from .initramfs import Kernel, build, find_busybox
from .manifest import guest_manifest
from .qemu import STATS_POLLING, Machine, device_spec
from .serial import END, READY, parse_snapshot

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

MIB = 1 << 20
POLL_SECONDS = 0.25
STILL_POLLS = 8  # two seconds without movement: the guest has given what it will give
BALLOON_WAIT = 60.0
BALLOON_PATH = "/machine/peripheral/balloon0"


@dataclass(frozen=True)
class Step:
    """One scenario step: ``settle``, ``inflate SIZE`` or ``deflate SIZE``."""

    text: str
    balloon_change: int
    """Bytes added to (inflate) or taken from (deflate) the balloon; 0 for settle."""


def parse_scenario(text: str) -> list[Step]:
    """``"settle;inflate 256M;deflate 256M"`` as steps; a bad step raises HarnessError."""
    steps = []
    for part in (p.strip() for p in text.split(";")):
        verb, _, size = part.partition(" ")
        if verb == "settle" and not size:
            steps.append(Step(part, 0))
        elif verb in ("inflate", "deflate") and size:
            try:
                amount = byte_size(size)
            except argparse.ArgumentTypeError as exc:
                raise HarnessError(f"scenario step {part!r}: {exc}") from exc
            steps.append(Step(part, amount if verb == "inflate" else -amount))
        else:
            raise HarnessError(f"scenario step {part!r}: not settle, inflate SIZE or deflate SIZE")
    return steps


@dataclass(frozen=True)
class Wait:
    """How a step's wait for the balloon ended."""

    actual: int
    polls: int
    reached: bool


def wait_for_balloon(machine: Machine, target: int, limit: float) -> Wait:
    """Poll ``query-balloon`` until ``actual`` is ``target`` or has not moved for
    :data:`STILL_POLLS` polls, or ``limit`` seconds passed."""
    assert machine.qmp is not None
    deadline = time.monotonic() + limit
    last, still, polls = -1, 0, 0
    while True:
        actual = machine.qmp.balloon_actual()
        polls += 1
        still = still + 1 if actual == last else 0
        if actual == target or still >= STILL_POLLS or time.monotonic() >= deadline:
            return Wait(actual, polls, actual == target)
        last = actual
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class Setup:
    """What to boot and how: the kernel, the device options, the guest's memory."""

    kernel: Kernel
    options: dict[str, str]
    """The ``virtio-balloon-pci`` options in their order (``deflate-on-oom``: ``on`` ...)."""
    memory_mib: int = 1024
    boot_timeout: float = 120.0
    balloon_wait: float = BALLOON_WAIT

    @property
    def stats_interval(self) -> int:
        """Seconds between the device's requests for the guest's statistics; 0: none."""
        value = self.options.get(STATS_POLLING, "0")
        return int(value) if value.isdigit() else 0


def run(
    kernel_root: Path,
    out: Path,
    options: dict[str, str],
    steps: Sequence[Step],
    memory_mib: int = 1024,
    boot_timeout: float = 120.0,
) -> list[Path]:
    """Boot the kernel unpacked at ``kernel_root``, run ``steps``, write ``out/t<i>``."""
    setup = Setup(Kernel.find(kernel_root), options, memory_mib, boot_timeout)
    return run_setup(setup, out, steps)


def run_setup(
    setup: Setup, out: Path, steps: Sequence[Step], log: Path | None = None
) -> list[Path]:
    """Boot ``setup``, run ``steps`` and write ``out/t<i>``; what the serial console
    printed is copied to ``log`` (when given) whether the run succeeds or not."""
    initramfs = build(setup.kernel, find_busybox())
    device = device_spec(setup.options)
    ready = re.escape(READY)
    machine = Machine(setup.kernel.image, initramfs, setup.memory_mib, device, ready,
                      setup.boot_timeout)  # fmt: skip
    try:
        with machine:
            fallback = f" (KVM failed: {machine.fallback})" if machine.fallback else ""
            said = f"{setup.kernel.release} under QEMU with {machine.accelerator}{fallback}"
            print(f"balloon-conform: {said}", file=sys.stderr)
            written = drive(machine, setup, steps, out)
            machine.send("OFF")
    except HarnessError as exc:
        if TAIL_MARK in str(exc) or not machine.serial_log().strip():
            raise
        # a QMP error or a damaged snapshot says nothing of the guest: its console may
        raise HarnessError(with_tail(str(exc), machine.serial_log())) from exc
    finally:
        text = machine.serial_log()
        if log is not None and text:
            log.write_text(text, encoding="utf-8")
    return written


def drive(
    machine: Machine,
    setup: Setup,
    steps: Sequence[Step],
    out: Path,
    progress: Callable[[int, Path], None] | None = None,
) -> list[Path]:
    """Each step: move the balloon, wait for it, snapshot with the host's record;
    ``progress(index, snapshot)`` after each (the benchmark times the steps with it)."""
    assert machine.qmp is not None
    memory = machine.memory_mib * MIB
    common = {
        "memory": memory,
        "device": machine.device,
        "device_options": dict(setup.options),
        "accelerator": machine.accelerator,
        "kvm_failure": machine.fallback or None,
        "qemu_version": _version(machine.qmp.execute("query-version")),
        "qemu_command": machine.command_text(),
    }
    written, balloon = [], 0
    for index, step in enumerate(steps):
        balloon = max(0, balloon + step.balloon_change)
        target = memory - balloon
        if step.balloon_change:
            machine.qmp.balloon(target)
        waited = wait_for_balloon(machine, target, setup.balloon_wait)
        host = {"step": step.text, "requested_target": target, "actual": waited.actual,
                "target_reached": waited.reached, "polls": waited.polls, **common}  # fmt: skip
        if setup.stats_interval:
            host["guest_stats"] = fresh_stats(machine, setup.stats_interval)
        written.append(_snapshot(machine, f"t{index}", index, host, out))
        if progress is not None:
            progress(index, written[-1])
    return written


def fresh_stats(machine: Machine, interval: int) -> dict[str, Any]:
    """QMP ``guest-stats`` once the guest sent a set after this moment (its
    ``last-update``, host seconds, is later than now), or the newest after a bounded wait;
    ``fresh`` says which."""
    assert machine.qmp is not None
    since = int(time.time())
    deadline = time.monotonic() + 3 * interval + 10  # two missed polls, and TCG's slowness
    while True:
        answer = machine.qmp.execute("qom-get", {"path": BALLOON_PATH, "property": "guest-stats"})
        stats = answer if isinstance(answer, dict) else {}
        last = stats.get("last-update")
        fresh = isinstance(last, int) and last > since
        if fresh or time.monotonic() >= deadline:
            return {"last-update": last, "stats": dict(stats.get("stats", {})), "fresh": fresh}
        time.sleep(POLL_SECONDS)


def _version(answer: Any) -> str:
    """``7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`` from ``query-version``'s answer."""
    number = answer.get("qemu", {}) if isinstance(answer, dict) else {}
    text = ".".join(str(number.get(k, "?")) for k in ("major", "minor", "micro"))
    package = str(answer.get("package", "")).strip() if isinstance(answer, dict) else ""
    return f"{text} ({package})" if package else text


def _snapshot(machine: Machine, tag: str, index: int, host: dict[str, Any], out: Path) -> Path:
    machine.send(f"SNAP {tag}")
    log = machine.wait_for(rf"{re.escape(END)} {tag}\r?\n", 60.0)
    guest = parse_snapshot(log, tag)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    manifest = guest_manifest(guest, machine.accelerator, now, __version__)
    manifest.update(series_index=index, host=host)
    files = {path: data for path, data in guest.files.items() if path in manifest["files"]}
    where = out / tag
    write_directory(where, Snapshot(files, manifest).capture_files())
    return where


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit 0 when the series was written, 2 when the harness failed."""
    parser = argparse.ArgumentParser(prog="python -m conformance.run.series")
    parser.add_argument("--kernel-root", required=True, type=Path, help="dpkg-deb -x of the kernel")
    parser.add_argument("--out", required=True, type=Path, help="a new directory for t0, t1 ...")
    parser.add_argument("--deflate-on-oom", choices=("on", "off"), default="off")
    parser.add_argument("--memory", type=int, default=1024, metavar="MIB")
    parser.add_argument("--scenario", default="settle;inflate 256M;deflate 256M")
    args = parser.parse_args(argv)
    try:
        if args.out.exists():
            raise HarnessError(f"{args.out}: exists; the series is written to a new directory")
        args.out.mkdir(parents=True)
        steps = parse_scenario(args.scenario)
        options = {"deflate-on-oom": args.deflate_on_oom}
        written = run(args.kernel_root, args.out, options, steps, args.memory)
    except BalloonError as exc:
        print(f"balloon-conform: {exc}", file=sys.stderr)
        return 2
    for where in written:
        host = json.loads((where / "capture.json").read_text())["host"]
        print(f"{where}: target {host['requested_target']} actual {host['actual']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
