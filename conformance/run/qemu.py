"""The QEMU process: a guest with a virtio balloon, its serial console on a pipe and QMP
on a UNIX socket in a private temporary directory.

The accelerator is chosen by trying: KVM first when ``/dev/kvm`` opens, and TCG when QEMU
with KVM does not come up (no ``/dev/kvm``, no permission, nested virtualisation off);
:attr:`Machine.accelerator` says which one ran. Leaving the ``with`` block always ends the
QEMU process (``quit`` over QMP, then a kill) and removes the temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .errors import HarnessError, with_tail
from .qmp import QMPClient, QMPError

QEMU = "qemu-system-x86_64"
KVM_BOOT_SECONDS = 30.0  # a KVM guest that is not up by then is stuck (broken nested KVM)
KERNEL_ARGS = "console=ttyS0 panic=-1 rdinit=/init"


SWITCHES = ("deflate-on-oom", "free-page-reporting", "free-page-hint")
"""The device options that offer a feature bit, each ``on`` or ``off`` (QEMU: off)."""
STATS_POLLING = "guest-stats-polling-interval"
_OPTION = re.compile(r"[a-z][a-z0-9_-]{0,40}=[A-Za-z0-9_.:/-]{1,200}")
_TRUTH = {"on": "on", "off": "off", "true": "on", "false": "off", "yes": "on", "no": "off"}


def device_options(text: str) -> dict[str, str]:
    """``deflate-on-oom=on,guest-stats-polling-interval=2`` as an ordered mapping; the
    feature switches are written ``on``/``off``, the polling interval in whole seconds;
    other QEMU options pass through as given (QEMU judges them). A bad one raises."""
    options: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if not _OPTION.fullmatch(part):
            raise HarnessError(f"--device {part!r}: not NAME=VALUE (e.g. deflate-on-oom=on)")
        name, _, value = part.partition("=")
        if name == "id":
            raise HarnessError("--device: the harness names the device itself (id=balloon0)")
        if name in SWITCHES:
            if value.lower() not in _TRUTH:
                raise HarnessError(f"--device {part!r}: {name} is on or off")
            value = _TRUTH[value.lower()]
        elif name == STATS_POLLING and not (value.isdigit() and 0 <= int(value) <= 3600):
            raise HarnessError(f"--device {part!r}: {name} is whole seconds, 0 to 3600")
        options[name] = value
    return options


def device_spec(options: Mapping[str, str]) -> str:
    """``virtio-balloon-pci,id=balloon0,...`` for the device options, in their order."""
    return ",".join(
        ["virtio-balloon-pci", "id=balloon0", *(f"{k}={v}" for k, v in options.items())]
    )


def command_line(
    accelerator: str, image: Path, initrd: Path, qmp: Path, memory_mib: int, device: str
) -> list[str]:
    """The QEMU command for one guest (no display, no default devices, no network)."""
    cpu = "host" if accelerator == "kvm" else "max"
    return [
        QEMU, "-accel", accelerator, "-cpu", cpu, "-m", str(memory_mib), "-smp", "1",
        "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
        "-serial", "stdio", "-qmp", f"unix:{qmp},server=on,wait=off",
        "-kernel", str(image), "-initrd", str(initrd), "-append", KERNEL_ARGS,
        "-device", device,
    ]  # fmt: skip


def kvm_usable() -> bool:
    """Whether ``/dev/kvm`` opens for reading and writing."""
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | getattr(os, "O_CLOEXEC", 0)))
    except OSError:
        return False
    return True


class Machine:
    """One running guest; ``with Machine(...) as m:`` boots it, leaving the block ends it."""

    def __init__(
        self, image: Path, initramfs: bytes, memory_mib: int, device: str, ready: str,
        boot_timeout: float = 120.0, accelerators: tuple[str, ...] | None = None,
    ) -> None:  # fmt: skip
        """``ready`` is the regular expression the guest prints once it takes commands;
        ``accelerators`` the ones to try, in order (default: KVM when usable, then TCG)."""
        self.accelerators = accelerators
        self.ready = ready
        self.boot_timeout = boot_timeout
        self.image = image
        self.initramfs = initramfs
        self.memory_mib = memory_mib
        self.device = device
        self.accelerator = ""
        self.fallback = ""
        """Why KVM was not used, when it was tried and failed."""
        self.command: list[str] = []
        self.qmp: QMPClient | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump_thread: threading.Thread | None = None
        self._log = bytearray()
        self._lock = threading.Condition()

    def __enter__(self) -> Machine:
        if shutil.which(QEMU) is None:
            raise HarnessError(f"{QEMU} not found (install qemu-system-x86)")
        self._tmp = Path(tempfile.mkdtemp(prefix="balloon-run-"))
        try:
            (self._tmp / "initrd").write_bytes(self.initramfs)
            self._start_first_that_runs()
        except BaseException:
            self.close()
            raise
        return self

    def _start_first_that_runs(self) -> None:
        chosen = self.accelerators or (("kvm", "tcg") if kvm_usable() else ("tcg",))
        for accelerator in chosen:
            try:
                self._start(accelerator)
                limit = KVM_BOOT_SECONDS if accelerator == "kvm" else self.boot_timeout
                self.wait_for(self.ready, min(limit, self.boot_timeout))
                return
            except HarnessError as exc:
                if accelerator == chosen[-1]:
                    raise
                self.fallback = f"{str(exc).splitlines()[0]} ({self._stderr_tail()})"
                self._stop()
        raise AssertionError("unreachable: the last accelerator raises")

    def _start(self, accelerator: str) -> None:
        assert self._tmp is not None
        qmp_path = self._tmp / "qmp.sock"
        with self._lock:
            self._log.clear()
        self.accelerator = accelerator
        self.command = command_line(
            accelerator, self.image, self._tmp / "initrd", qmp_path, self.memory_mib, self.device
        )
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._pump_thread = threading.Thread(target=self._pump, args=(self._proc,), daemon=True)
        self._pump_thread.start()
        proc = self._proc
        try:
            self.qmp = QMPClient.connect(qmp_path, 10.0, alive=lambda: proc.poll() is None)
        except QMPError as exc:
            if proc.poll() is None:
                raise
            raise HarnessError(f"QEMU exited at once: {self._stderr_tail()}") from exc

    def command_text(self) -> str:
        """The QEMU command as a shell line, the temporary directory written ``$RUNDIR``."""
        line = shlex.join(self.command)
        return line.replace(str(self._tmp), "$RUNDIR") if self._tmp is not None else line

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        """Copy the serial console into the log as it comes (a thread per process)."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with contextlib.suppress(OSError):  # the pipe closed under us: the guest is gone
            for chunk in iter(lambda: os.read(fd, 65536), b""):
                with self._lock:
                    self._log += chunk
                    self._lock.notify_all()

    def serial_log(self) -> str:
        """Everything the serial console printed so far."""
        with self._lock:
            return self._log.decode("utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The serial log once the regular expression ``pattern`` matches in it; a timeout
        or QEMU's exit raises."""
        deadline = time.monotonic() + timeout
        needle = re.compile(pattern.encode("utf-8"))
        with self._lock:
            while needle.search(self._log) is None:
                if self._proc is None or self._proc.poll() is not None:
                    raise HarnessError(with_tail("QEMU exited", self._log.decode(errors="replace")))
                left = deadline - time.monotonic()
                if left <= 0:
                    message = f"the guest did not print {pattern!r} within {timeout:g} s"
                    raise HarnessError(with_tail(message, self._log.decode(errors="replace")))
                self._lock.wait(min(left, 0.5))
            return self._log.decode("utf-8", errors="replace")

    def send(self, line: str) -> None:
        """Type ``line`` on the guest's serial console."""
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode("utf-8") + b"\n")
            self._proc.stdin.flush()
        except OSError as exc:
            message = with_tail(f"cannot write to the guest: {exc}", self.serial_log())
            raise HarnessError(message) from exc

    def _stderr_tail(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return "QEMU not started"
        try:
            self._proc.wait(timeout=1)  # a QEMU that broke the connection is on its way out
        except subprocess.TimeoutExpired:
            return "QEMU was still running"
        text = self._proc.stderr.read().decode("utf-8", errors="replace").strip()
        return text.splitlines()[-1] if text else f"QEMU exit status {self._proc.returncode}"

    def _stop(self) -> None:
        if self.qmp is not None:
            with contextlib.suppress(QMPError):  # QEMU may close before it answers
                self.qmp.execute("quit")
            self.qmp.close()
            self.qmp = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._pump_thread is not None:
                self._pump_thread.join(timeout=5)  # reads to the end of the pipe, then stops
                self._pump_thread = None
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None

    def close(self) -> None:
        """End QEMU and remove the temporary directory (both idempotent)."""
        try:
            self._stop()
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
