"""Ctrl-C and SIGTERM during ``check -j N``: a quick, quiet exit that leaves nothing behind.

Each try starts the console script in a session of its own on a fleet large enough to
still be running, waits until its worker processes exist, signals the whole process
group (as a terminal's Ctrl-C does) or the parent alone, and then asserts the exit
status (130 or 143), an empty standard error (no traceback from the parent or any
worker), no process left in the group, and no file left in the private TMPDIR the run
was given. The tries repeat
because the failure this guards against (a hang on shutdown) came one try in seven.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .test_pipeline import HV

TRIES = 15
CAPTURES = 12_000
"""Enough captures that two workers are still at them well after the signal is sent
(about a second of work on this machine; a run that ended before the signal would die
of it at exit and prove nothing)."""
WAIT = 10.0
"""Longest wait for any one step; only a hang ever reaches it."""


def _console_script() -> str:
    found = shutil.which("balloon-conform", path=str(Path(sys.executable).parent))
    assert found, "the balloon-conform console script is not installed beside python"
    return found


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    for index in range(CAPTURES):
        guest = root / f"guest-{index:04d}"
        guest.mkdir()
        (guest / "hv-balloon").write_text(HV)
    return root


def _group(pgid: int) -> list[int]:
    """The processes still alive (not zombies) in process group ``pgid``."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                stat = stream.read()
        except OSError:
            continue  # gone meanwhile
        # the command name in parentheses may hold spaces; the fields follow its ')'
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            alive.append(int(entry))
    return alive


def _wait_for_workers(pgid: int, jobs: int) -> None:
    """Until the parent and its ``jobs`` workers are in the group (bounded)."""
    for _ in range(int(WAIT / 0.02)):  # a bounded poll: only a hang runs out of tries
        if len(_group(pgid)) >= jobs + 1:
            return
        time.sleep(0.02)
    pytest.fail("the workers never started")


def _interrupt_once(
    fleet: Path, tmpdir: Path, signum: int, group: bool
) -> tuple[int, str, list[int]]:
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [_console_script(), "check", "-j", "2", "--output-format", "json", str(fleet)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    pgid = process.pid  # a new session's leader heads its own process group
    try:
        _wait_for_workers(pgid, 2)
        time.sleep(0.2)  # let the workers get going on the captures
        if group:
            os.killpg(pgid, signum)  # as a terminal's Ctrl-C does
        else:
            os.kill(process.pid, signum)  # as `kill PID` or a service manager does
        _, stderr = process.communicate(timeout=WAIT)  # a hang fails here
    except BaseException:
        for pid in _group(pgid):  # the parent, or orphans holding its stderr open
            os.kill(pid, signal.SIGKILL)
        process.wait()
        raise
    deadline = time.monotonic() + WAIT
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)  # an orphan would stay; an exiting worker goes in a moment
    survivors = _group(pgid)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # leave nothing running, whatever the verdict
    return process.returncode, stderr.decode("utf-8", "replace"), survivors


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups in /proc")
@pytest.mark.parametrize(
    ("signum", "group", "tries"),
    [
        (signal.SIGINT, True, TRIES),
        (signal.SIGTERM, True, 4),
        (signal.SIGINT, False, 2),
        (signal.SIGTERM, False, 3),
    ],
    ids=["ctrl-c", "sigterm-to-group", "sigint-to-parent", "sigterm-to-parent"],
)
def test_a_signal_stops_check_cleanly(
    big_fleet: Path, tmp_path: Path, signum: int, group: bool, tries: int
) -> None:
    status = 128 + signum
    for attempt in range(tries):
        tmpdir = tmp_path / f"tmp-{attempt}"
        tmpdir.mkdir()
        code, stderr, survivors = _interrupt_once(big_fleet, tmpdir, signum, group)
        assert (code, stderr, survivors) == (status, "", []), attempt
        assert sorted(os.listdir(tmpdir)) == [], attempt


def _square_or_fail(task: int) -> int:
    if task == 7:
        raise ValueError("seven")
    if task == 13:
        os._exit(3)  # as if the system killed the worker
    return task * task


def test_workers_answer_in_order_and_end_with_the_block() -> None:
    from conformance.workers import Workers

    with Workers(2, _square_or_fail) as workers:
        assert list(workers.map(list(range(7)) * 5)) == [n * n for n in range(7)] * 5
        processes = list(workers._processes)
    assert processes and not any(p.is_alive() for p in processes)


def test_an_exception_in_a_worker_is_raised_in_the_parent_and_the_workers_end() -> None:
    from conformance.workers import Workers

    with pytest.raises(ValueError, match="seven"), Workers(2, _square_or_fail) as workers:
        processes = list(workers._processes)
        list(workers.map(list(range(10))))
    assert not any(p.is_alive() for p in processes)


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    from conformance.workers import WorkerError, Workers

    with pytest.raises(WorkerError), Workers(2, _square_or_fail) as workers:
        processes = list(workers._processes)
        list(workers.map([12, 13, 14, 15]))
    assert not any(p.is_alive() for p in processes)


def test_a_worker_that_died_before_it_got_work_is_an_error() -> None:
    from conformance.workers import WorkerError, Workers

    with Workers(1, _square_or_fail) as workers:
        with pytest.raises(WorkerError, match="without answering"):
            list(workers.map([13]))  # the worker is gone now
        with pytest.raises(WorkerError, match="before it was given work"):
            list(workers.map([1, 2]))


def _fallback(task: int, reason: str) -> int:
    assert "killed by signal" in reason or "status 3" in reason, reason
    return -1


def test_with_a_fallback_a_dead_worker_costs_only_its_task() -> None:
    from conformance.workers import Workers

    with Workers(2, _square_or_fail, _fallback) as workers:
        # 13 ends its worker each time; a new one takes its place for the rest
        answers = list(workers.map([1, 13, 2, 13, 3, 4]))
    assert answers == [1, -1, 4, -1, 9, 16]


def test_a_worker_that_dies_holding_a_second_task_costs_only_the_first() -> None:
    from conformance.workers import Workers

    with Workers(1, _square_or_fail, _fallback) as workers:
        # the one worker holds 13 and 2 at once: 2 goes to the worker that replaces it
        assert list(workers.map([13, 2, 13, 3, 4])) == [-1, 4, -1, 9, 16]


def _payload_size(task: bytes) -> int:
    return len(task)


def test_large_tasks_wait_for_an_idle_worker_and_every_answer_comes() -> None:
    # a task too large to wait in the pipe behind another is sent once the worker is idle
    from conformance.workers import SMALL_TASK, Workers

    tasks = [bytes(SMALL_TASK * 3), b"x", bytes(SMALL_TASK * 4), b"yy"] * 3
    with Workers(2, _payload_size) as workers:
        assert list(workers.map(tasks)) == [len(t) for t in tasks]


def _sleep_then_square(task: int) -> int:
    if task == 5:
        time.sleep(0.5)
    return task * task


def test_a_worker_found_dead_when_given_a_second_task_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the send of its second task fails: what it holds is read to its end, then it is
    # replaced, and the task that could not be sent goes to a worker
    from conformance import workers as module

    real = module.Workers._send
    calls: list[int] = []

    def send(conn: Any, data: bytes) -> None:
        calls.append(1)
        if len(calls) == 2:  # the second task for the first worker: it ended meanwhile
            process = pool._processes[pool._conns.index(conn)]
            os.kill(process.pid, signal.SIGKILL)
            process.join()
            raise module.WorkerError("a worker process ended before it was given work")
        real(conn, data)

    monkeypatch.setattr(module.Workers, "_send", staticmethod(send))
    with module.Workers(2, _sleep_then_square, _fallback) as pool:
        answers = list(pool.map([5, 1, 2, 3, 4, 6]))
    assert answers == [-1, 1, 4, 9, 16, 36]  # 5 was being worked on when it was killed


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the workers must see the stand-in"
)
def test_a_killed_worker_costs_the_fleet_only_its_chunk(tmp_path: Path) -> None:
    from conformance import fleet
    from conformance.check import CheckOptions

    for index in range(6):
        (tmp_path / f"g{index}").mkdir()
        (tmp_path / f"g{index}" / "hv-balloon").write_text(HV)
    (tmp_path / "g3" / "die").touch()
    real = fleet.check_one

    def dies_on_g3(path, options, limits=None, debug=False):  # type: ignore[no-untyped-def]
        if (path / "die").exists():
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return real(path, options, limits, debug)

    fleet.check_one = dies_on_g3  # workers are forked from this process
    try:
        results = list(fleet.check_many(sorted(tmp_path.iterdir()), CheckOptions(), jobs=2))
    finally:
        fleet.check_one = real
    ids = [[d.id for d in result.diagnostics] for result in results]
    assert [r.name for r in results] == [str(tmp_path / f"g{i}") for i in range(6)]
    assert ids[3] == ["capture.unchecked"] and "signal 9" in results[3].diagnostics[0].message
    assert all("capture.unchecked" not in found for i, found in enumerate(ids) if i != 3)


@pytest.mark.slow
def test_ctrl_c_while_the_tool_is_still_loading_is_quiet(tmp_path: Path) -> None:
    """A Ctrl-C at any moment of start-up (import, reading the command line, the first
    captures) never prints a traceback from our code: only Python's own start-up, before
    the package's first line runs, is out of our hands."""
    fleet = tmp_path / "fleet"
    # long enough that every Ctrl-C below lands before the run ends, short enough that
    # one Python itself loses at start-up still ends soon
    for index in range(2000):
        (fleet / f"guest-{index:04d}").mkdir(parents=True)
        (fleet / f"guest-{index:04d}/hv-balloon").write_text(HV)
    for delay in [0.01 * step for step in range(0, 40, 3)]:
        run = subprocess.Popen(
            [_console_script(), "check", "--output-format", "json", str(fleet)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=WAIT * 6)
        if "Traceback" in err:
            # Python's own start-up (the interpreter, then the console script's import of
            # the package: tens of milliseconds), before any of our code runs
            assert _before_our_code(err), (delay, err)
            continue
        # 0: the signal was lost where Python could not deliver it (its start-up, or native
        # code that swallows it), and the run went on to the end: quiet all the same. Exit
        # 130 on a Ctrl-C during the check itself is test_a_signal_stops_check_cleanly's.
        assert run.returncode in (130, -signal.SIGINT, 0), (delay, run.returncode, err)
        assert err == "", (delay, err)


def _before_our_code(err: str) -> bool:
    frames = [line.strip() for line in err.splitlines() if line.strip().startswith("File ")]
    ours = [f for f in frames if "/conformance/" in f and "/conformance/__init__.py" not in f]
    return bool(frames) and not ours


def _wrapped_interrupt() -> RuntimeError:
    """What Python before 3.12 raises when Ctrl-C lands in a class's ``__set_name__``."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        error = RuntimeError("Error calling __set_name__ on '_Field' instance")
        error.__cause__ = interrupt
        return error


def test_ctrl_c_wrapped_by_an_import_is_still_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import conformance.cli as cli
    from conformance import entry

    def loading(argv: object) -> None:
        raise _wrapped_interrupt()

    monkeypatch.setattr(cli, "_parser", loading)
    assert cli.main(["--version"]) == 130
    monkeypatch.setattr(cli, "main", lambda: (_ for _ in ()).throw(_wrapped_interrupt()))
    assert entry.main() == 130
    assert capsys.readouterr().err == ""  # quiet, as a plain Ctrl-C is
    monkeypatch.setattr(cli, "main", lambda: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):  # anything else is not swallowed
        entry.main()


def test_ctrl_c_wrapped_inside_a_command_is_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import conformance.cli_check as cli_check
    from conformance.cli import main

    def check(args: object) -> int:
        raise _wrapped_interrupt()

    monkeypatch.setattr(cli_check, "run_check", check)
    assert main(["check", "examples/fleet"]) == 130
    assert "internal error" not in capsys.readouterr().err


def test_ctrl_c_while_the_fast_engine_loads_is_ctrl_c(tmp_path: Path) -> None:
    """jsonschema-rs imports the standard ``decimal`` module from Rust as it loads, and
    panics (a Rust panic message, then an exception) when that import is interrupted. A
    Ctrl-C that lands there must be a quiet exit 130 like any other: here the import of
    ``decimal`` itself raises KeyboardInterrupt, as a Ctrl-C at that moment would."""
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "decimal.py").write_text("raise KeyboardInterrupt\n")
    sample = tmp_path / "hv-balloon"
    sample.write_text(HV)
    done = subprocess.run(
        [_console_script(), "parse", "--format", "hv-balloon", str(sample)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(fake)},
        timeout=WAIT * 6,
    )
    assert (done.returncode, done.stderr) == (130, "")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_after_a_signal_the_libraries_threads_log_nothing(signum: int) -> None:
    """What another thread logs once the run was told to stop (Dask's event loop, with a
    traceback, about the work it drops) is not shown, then or while the process exits;
    the signal's handler is the caller's again once the command returns."""
    import logging
    import threading

    from conformance import cli

    heard: list[str] = []

    class Ear(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            heard.append(record.getMessage())

    logger = logging.getLogger("a.library")
    logger.addHandler(Ear())
    before = signal.getsignal(signum)
    if before not in (signal.default_int_handler, signal.SIG_DFL):
        pytest.skip("the test runner took this signal for itself")

    def log(message: str) -> None:
        thread = threading.Thread(target=logger.error, args=(message,))
        thread.start()
        thread.join()

    level = logging.root.manager.disable
    try:
        with cli.terminable():
            log("while the run goes on")
            try:
                os.kill(os.getpid(), signum)
                for _ in range(1000):  # the handler runs at the next bytecode
                    pass
                pytest.fail("the signal raised nothing")
            except (KeyboardInterrupt, cli.Terminated):
                log("while the run unwinds")  # the library still at it after the signal
        log("as the process exits")
        assert heard == ["while the run goes on"]
        assert signal.getsignal(signum) == before
    finally:
        logging.disable(level)  # this process goes on: the other tests log
