"""The ``run`` command of ``balloon-conform``: boot a kernel with a virtio balloon under
QEMU, drive the balloon through a scenario, write the series, and check it.

``balloon-conform run --kernel BZIMAGE [--modules DIR] [--memory MIB] [--scenario SPEC]
[--device OPTIONS] [--out DIR]`` and the report options of ``check``. The series is
written to ``--out`` (a new directory; ``t0``, ``t1`` ... and ``serial.log``, the guest's
console), then checked as ``check --series OUT`` would, and the report written the same
way. Exit status: 0 when the series conforms, 1 when an error was found, 2 when the
harness failed (no QEMU, a kernel that does not boot, a guest that never answers, a QMP
error, a timeout): the message then says what failed and shows the console's last lines.
Leaving by any way, Ctrl-C and SIGTERM included, ends QEMU and removes its temporary
directory (:class:`conformance.run.qemu.Machine`).
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
from pathlib import Path
from typing import Any

from . import cli_check
from .escape import escape
from .run.errors import HarnessError
from .run.initramfs import Kernel
from .run.qemu import device_options
from .run.series import Setup, parse_scenario, run_setup

EXIT_HARNESS = 2
DEFAULT_SCENARIO = "settle;inflate 256M;settle;deflate 256M;settle"
SERIAL_LOG = "serial.log"
# the options of ``check`` that ``run`` takes too, handed on to its check of the series
CHECK_OPTIONS = (
    "report", "output_format", "output", "exit_zero", "no_annotations", "base_dir",
    "category", "select", "ignore", "strict", "verbose", "timestamp",
)  # fmt: skip


def add_commands(commands: Any) -> None:
    """Register ``run`` on the CLI's subparsers."""
    run = commands.add_parser(
        "run", help="boot a kernel with a virtio balloon under QEMU, move it, capture, check"
    )
    run.add_argument("--kernel", required=True, type=Path, metavar="BZIMAGE",
                     help="the kernel image to boot")  # fmt: skip
    run.add_argument(
        "--modules",
        type=Path,
        metavar="DIR",
        help="its modules: lib/modules/RELEASE or a root holding it (default: built in)",
    )
    run.add_argument("--memory", type=_mib, default=1024, metavar="MIB", help="guest memory")
    run.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        metavar="SPEC",
        help=f"steps: settle, inflate SIZE, deflate SIZE, by ';' (default: {DEFAULT_SCENARIO})",
    )
    run.add_argument(
        "--device",
        default="",
        metavar="OPTIONS",
        help="virtio-balloon-pci options: deflate-on-oom=on, free-page-reporting=on, "
        "free-page-hint=on, guest-stats-polling-interval=SECONDS, by ','",
    )
    run.add_argument("--out", type=Path, metavar="DIR", help="a new directory for the series")
    run.add_argument("--boot-timeout", type=_seconds, default=300.0, metavar="SECONDS",
                     help="how long the guest may take to boot (TCG is slow)")  # fmt: skip
    run.add_argument("--balloon-wait", type=_seconds, default=60.0, metavar="SECONDS",
                     help="how long a step waits for the balloon")  # fmt: skip
    _add_check_options(run)
    run.set_defaults(handler=run_run)


def _add_check_options(run: argparse.ArgumentParser) -> None:
    """The report and rule options of ``check`` (``--kernel`` aside: here it is the image)."""
    cli_check._add_report_options(run)  # one definition of --report and its company
    run.add_argument("--select", metavar="RULE,...", default="", help="only these ids")
    run.add_argument("--ignore", metavar="RULE,...", default="", help="leave out these ids")
    run.add_argument("--strict", action="store_true", help="warnings are errors")
    run.add_argument("-v", "--verbose", action="store_true", help="also list skipped checks")
    run.add_argument("--timestamp", action="store_true", help="record the time in the report")


def _mib(text: str) -> int:
    if not text.isdigit() or not 64 <= int(text) <= 1 << 20:
        raise argparse.ArgumentTypeError(f"{text!r} is not a memory size in MiB (64 or more)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return value


def run_run(args: argparse.Namespace) -> int:
    """Boot, drive, write the series, check it; 2 with a clear message when the harness
    failed."""
    out = args.out or Path(_default_out())
    try:
        setup = _setup(args)
        steps = parse_scenario(args.scenario)
        if out.exists():
            raise HarnessError(f"{out}: exists; the series is written to a new directory")
        out.mkdir(parents=True)
    except (HarnessError, OSError) as exc:
        return _harness_failed(exc)
    try:
        run_setup(setup, out, steps, log=out / SERIAL_LOG)
    except (HarnessError, OSError) as exc:
        _keep_only_snapshots(out)
        return _harness_failed(exc, out)
    except BaseException:  # Ctrl-C, SIGTERM: QEMU is gone; a series half written is not one
        shutil.rmtree(out, ignore_errors=True)
        raise
    return cli_check.run_check(_check_args(args, out))


def _setup(args: argparse.Namespace) -> Setup:
    if not args.kernel.is_file():
        raise HarnessError(f"{args.kernel}: no such kernel image")
    if args.modules is not None and not args.modules.is_dir():
        raise HarnessError(f"{args.modules}: no such modules directory")
    kernel = Kernel.of_image(args.kernel, args.modules)
    options = device_options(args.device)
    return Setup(kernel, options, args.memory, args.boot_timeout, args.balloon_wait)


def _default_out() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return "balloon-run-" + now.strftime("%Y%m%dT%H%M%SZ")


def _keep_only_snapshots(out: Path) -> None:
    """After a failure, the snapshots taken and the console log stay for a post-mortem;
    a directory with neither is removed."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def _harness_failed(exc: HarnessError | OSError, out: Path | None = None) -> int:
    if isinstance(exc, HarnessError):
        text = str(exc)
    else:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    lines = [escape(line) for line in text.splitlines()] or ["(no reason given)"]
    print(f"balloon-conform: run failed: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(line, file=sys.stderr)
    if out is not None and (out / SERIAL_LOG).is_file():
        print(f"the whole serial console: {out / SERIAL_LOG}", file=sys.stderr)
    return EXIT_HARNESS


def _check_args(args: argparse.Namespace, out: Path) -> argparse.Namespace:
    """``check --series OUT`` with this command's report options: the check command's own
    defaults for the rest, so ``run`` checks exactly as ``check`` would."""
    parser = argparse.ArgumentParser(add_help=False)
    cli_check.add_commands(parser.add_subparsers())
    checked = parser.parse_args(["check", "--series", str(out)])
    for name in CHECK_OPTIONS:
        setattr(checked, name, getattr(args, name))
    checked.debug = args.debug
    return checked
