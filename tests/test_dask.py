"""``check --dask``: a fleet checked on a Dask cluster gives the local report, byte for byte.

A ``distributed.LocalCluster`` of two worker processes is started once for the module
(a few seconds, hence ``slow``); the tests that need no cluster (the install hint, the
imports of a plain check, the client's window and failure handling with stand-in futures)
run without Dask installed too. Failures of workers are simulated with stand-in futures:
a real worker lost on purpose would make the test depend on the scheduler's retry timing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import fleet, fleet_dask
from conformance.check import CheckOptions
from conformance.cli import main

from .test_fleet import make_fleet
from .test_pipeline import HV
from .test_startup import PROBE, _modules

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "fleet"
FORMATS = ("json", "sarif", "junit", "text")
WAIT = 30.0
"""Longest wait for any one step of the Ctrl-C test; only a hang ever reaches it."""


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    distributed = pytest.importorskip("distributed", reason="needs the [dask] extra")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def client(address: str) -> Iterator[Any]:
    with fleet_dask.connect(address) as connected:
        yield connected


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_fleet(tmp_path_factory.mktemp("fleet") / "fleet", 196)
    for guest in EXAMPLES.iterdir():  # every kind of guest, findings of every kind
        shutil.copytree(guest, root / f"example-{guest.name}")
    return root


def _reports(tmp_path: Path, *args: str) -> dict[str, tuple[int, bytes]]:
    """The exit status and report bytes of ``check ARGS`` in each output format."""
    out = {}
    for fmt in FORMATS:
        target = tmp_path / f"report.{fmt}"
        status = main(["check", *args, "--output-format", fmt, "--output", str(target)])
        out[fmt] = (status, target.read_bytes())
    return out


@pytest.mark.slow
@pytest.mark.parametrize("which", ["examples", "generated"])
def test_reports_are_byte_identical_to_a_local_run(
    which: str, address: str, big_fleet: Path, tmp_path: Path
) -> None:
    fleet_path = EXAMPLES if which == "examples" else big_fleet
    local = _reports(tmp_path, str(fleet_path))
    remote = _reports(tmp_path, "--dask", address, str(fleet_path))
    assert remote == local
    assert local["json"][1].count(b'"name"') >= (4 if which == "examples" else 200)


@pytest.mark.slow
def test_a_member_that_vanishes_is_a_finding_on_it(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    root = make_fleet(tmp_path / "fleet", 6)
    gone = root / "guest-003"
    connect = fleet_dask.connect

    def connect_then_remove(where: str) -> Any:  # after listing, before any worker reads
        client = connect(where)
        shutil.rmtree(gone)
        return client

    monkeypatch.setattr(fleet_dask, "connect", connect_then_remove)
    status = main(["check", "--output-format", "json", "--dask", address, str(root)])
    captures = {c["name"]: c for c in json.loads(capsys.readouterr().out)["captures"]}
    assert status == 1
    assert len(captures) == 7
    # as a local run says of a missing path
    assert [d["id"] for d in captures[str(gone)]["diagnostics"]] == ["capture.unreadable"]
    assert "hv-balloon.onlined-within-added" in captures[str(root / "guest-004")]["rules"]


@pytest.mark.slow
def test_missing_paths_give_what_the_local_path_gives(client: Any, tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", 5)
    paths = [*sorted(root.iterdir()), tmp_path / "nowhere", root / "guest-001" / "hv-balloon"]
    local = list(fleet.check_many(paths, CheckOptions()))
    remote = list(fleet_dask.check_paths(client, paths, CheckOptions(), window=2))
    assert remote == local
    assert local[-2].rules == ("capture.unreadable",)


@pytest.mark.slow
def test_check_bag_keeps_the_order_of_the_bag(client: Any, big_fleet: Path) -> None:
    import dask.bag

    paths = sorted(big_fleet.iterdir())
    bag = dask.bag.from_sequence([str(p) for p in paths], npartitions=9)
    remote = list(fleet_dask.check_bag(bag, CheckOptions(strict=True), client=client, window=3))
    assert remote == list(fleet.check_many(paths, CheckOptions(strict=True)))


@pytest.mark.slow
def test_closing_the_results_cancels_the_work_in_flight(client: Any, big_fleet: Path) -> None:
    paths = sorted(big_fleet.iterdir())
    results = fleet_dask.check_paths(client, paths, CheckOptions(), window=3)
    next(results)
    assert client.futures  # chunks in flight
    results.close()
    assert not client.futures  # released or cancelled, none left running for us


@pytest.mark.slow
def test_ctrl_c_exits_130_quietly_and_cancels_the_work(
    address: str, client: Any, tmp_path: Path
) -> None:
    root = tmp_path / "fleet"
    for index in range(3000):  # long enough to be still running when the signal comes
        (root / f"guest-{index:04d}").mkdir(parents=True)
        (root / f"guest-{index:04d}" / "hv-balloon").write_text(HV)
    script = shutil.which("balloon-conform", path=str(Path(sys.executable).parent))
    assert script
    run = subprocess.Popen(
        [script, "check", "--dask", address, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the group is signalled, as a terminal's Ctrl-C does
    )
    try:
        while _busy(client) == 0:  # no clock: the run either reaches the workers or ends
            assert run.poll() is None, "the run ended before it reached the workers"
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGINT)
        err = run.communicate(timeout=WAIT)[1]
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert (run.returncode, err) == (130, b"")
    # the shared cluster idle again for the next test: what was in flight is at most the
    # run's window of chunks, so this ends whether they were cancelled or ran out
    while _busy(client) > 0:
        time.sleep(0.05)


RACE = """
import asyncio, os, signal, sys, threading, traceback
from distributed.utils import LoopRunner, sync
from conformance import cli

runner = LoopRunner(asynchronous=False)
runner.start()
gate = threading.Event()
runner.loop.add_callback(gate.wait)  # the loop is busy: sync's coroutine cannot start
signal_soon = lambda: (gate.wait(0.5), os.kill(os.getpid(), signal.SIGINT))
with cli.terminable():
    threading.Thread(target=signal_soon).start()
    try:
        sync(runner.loop, asyncio.sleep, 0)
    except KeyboardInterrupt as exc:
        where = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
        gate.set()
        sync(runner.loop, asyncio.sleep, 0)  # after the callback sync left on the loop
        print("interrupted in", " > ".join(where[where.index("sync"):]))
runner.stop()
"""


def test_ctrl_c_before_dask_starts_the_call_is_quiet() -> None:
    """A Ctrl-C that lands while ``distributed``'s ``sync`` waits for its event loop to
    start the call: ``sync`` leaves a callback on the loop to cancel the call, which (in
    ``distributed`` 2026.8) fails for want of it and logs a traceback from the loop's
    thread. The command's signal handler has silenced logging by then."""
    pytest.importorskip("distributed", reason="needs the [dask] extra")
    done = subprocess.run(
        [sys.executable, "-c", RACE], capture_output=True, text=True, timeout=WAIT, cwd=ROOT
    )
    # where the race is: in sync, waiting (the signal handler is the last frame)
    assert done.stdout.startswith("interrupted in sync > wait > "), done
    assert (done.returncode, done.stderr) == (0, "")


def _busy(client: Any) -> int:
    return sum(len(tasks) for tasks in client.processing().values())


def test_an_unreachable_scheduler_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    pytest.importorskip("distributed", reason="needs the [dask] extra")
    monkeypatch.setattr(fleet_dask, "CONNECT_TIMEOUT", "1s")
    assert main(["check", "--dask", "tcp://127.0.0.1:9", str(EXAMPLES)]) == 2
    err = capsys.readouterr().err
    assert "cannot reach a Dask scheduler there" in err, err
    assert "Traceback" not in err


ENDS = 120.0
"""Longest wait for a run that should end at once; only a hang reaches it (the clients
left to the garbage collector waited 40 seconds at exit)."""


@pytest.mark.parametrize(
    "address",
    [
        "localhost",  # no port
        "",
        "tcp://localhost",
        "tcp://[::1",
        "inproc://x",  # only this process could serve it
        "foo://bar:1",
        "no-such-protocol://x",
    ],
)
def test_an_address_that_is_none_is_one_line_and_the_run_ends(address: str) -> None:
    """Before, the one line came, then a client whose start had failed was closed by
    the garbage collector at exit, with its event loop gone: after twice the connect
    timeout it printed a traceback ("Exception ignored in: Client.__del__")."""
    pytest.importorskip("distributed", reason="needs the [dask] extra")
    script = shutil.which("balloon-conform", path=str(Path(sys.executable).parent))
    assert script
    done = subprocess.run(
        [script, "check", "--dask", address, str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=ENDS,
    )
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"balloon-conform: error: --dask {address!r}: not the address ")


START_FAILS = """
import sys
from conformance import cli, fleet_dask
fleet_dask.check_address = lambda address: None  # the client is made, and its start fails
sys.exit(cli.main(["check", "--dask", "localhost", sys.argv[1]]))
"""


def test_a_client_whose_start_fails_is_closed_before_the_error() -> None:
    """Whatever makes a client's start fail (here an address let through), the client
    is closed then, not left for the interpreter's exit."""
    pytest.importorskip("distributed", reason="needs the [dask] extra")
    done = subprocess.run(
        [sys.executable, "-c", START_FAILS, str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=ENDS,
        cwd=ROOT,
    )
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        [
            "balloon-conform: error: --dask 'localhost': cannot reach a Dask scheduler "
            "there (missing port number in address 'localhost')"
        ],
    )


def test_without_dask_the_option_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    assert main(["check", "--dask", "tcp://127.0.0.1:8786", str(EXAMPLES)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'sphinxext-balloon[dask]'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("extra", [["--series"], ["-j", "2"], ["--live"]])
def test_options_that_do_not_fit(extra: list[str], capsys: Any) -> None:
    assert main(["check", "--dask", "tcp://127.0.0.1:8786", *extra]) == 2
    assert f"leave out {extra[0]}" in capsys.readouterr().err


def test_a_plain_check_does_not_import_dask() -> None:
    modules = _modules(PROBE, "check", str(EXAMPLES))
    assert "conformance.cli_check" in modules
    assert not [m for m in modules if m.split(".")[0] in ("dask", "distributed")]
    assert "conformance.fleet_dask" not in modules


# stand-ins for a client and its futures: failures and bounds without a real cluster


class FakeFuture:
    def __init__(self, client: FakeClient, value: Any, error: Exception | None) -> None:
        self.client, self.value, self.error = client, value, error

    def result(self) -> Any:
        self.client.collected += 1
        if self.error is not None:
            raise self.error
        return self.value

    def release(self) -> None:
        self.client.in_flight.remove(self)


class FakeClient:
    """Runs each chunk at once, here; fails the chunks holding a path named ``lost``."""

    def __init__(self, lost_after: int = 10**9) -> None:
        self.status = "running"
        self.lost_after = lost_after  # submissions before the scheduler is lost
        self.in_flight: list[FakeFuture] = []
        self.most = 0
        self.collected = 0
        self.cancelled: list[FakeFuture] = []

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {"a": {"nthreads": 1}, "b": {"nthreads": 1}}}

    def submit(self, func: Any, paths: list[Path], *args: Any, pure: bool) -> FakeFuture:
        self.lost_after -= 1
        if self.lost_after < 0:
            self.status = "closed"
            raise RuntimeError("Client is closed")
        error = RuntimeError("KilledWorker") if any(p.name == "lost" for p in paths) else None
        future = FakeFuture(self, None if error else func(paths, *args), error)
        self.in_flight.append(future)
        self.most = max(self.most, len(self.in_flight))
        return future

    def cancel(self, futures: list[FakeFuture]) -> None:
        self.cancelled += futures

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.status = "closed"


def test_a_failed_chunk_costs_only_its_captures(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", 40)
    paths = sorted(root.iterdir())
    paths[20] = paths[20].with_name("lost")
    client = FakeClient()
    remote = list(fleet_dask.check_paths(client, paths, CheckOptions(), window=3))
    assert [r.name for r in remote] == [str(p) for p in paths]
    # two threads: the chunks of a local run with two workers; the one holding "lost" fails
    holding = next(c for c in fleet.chunked(paths, 2) if any(p.name == "lost" for p in c))
    failed = [r for r in remote if r.rules == ("capture.unchecked",)]
    assert [r.name for r in failed] == [str(p) for p in holding]
    assert 1 < len(holding) < len(paths) // 2
    assert "the Dask worker failed on it: RuntimeError('KilledWorker')" in str(
        failed[0].diagnostics[0].message
    )
    assert client.most <= 3  # the window: flat memory on the client
    assert not client.in_flight


def test_debug_lets_a_worker_failure_through(tmp_path: Path) -> None:
    paths = [tmp_path / "lost"]
    with pytest.raises(RuntimeError, match="KilledWorker"):
        list(fleet_dask.check_paths(FakeClient(), paths, CheckOptions(), debug=True))


def test_an_interrupt_cancels_what_is_in_flight(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", 40)
    client = FakeClient()
    results = fleet_dask.check_paths(client, sorted(root.iterdir()), CheckOptions(), window=4)
    next(results)
    with pytest.raises(KeyboardInterrupt):
        results.throw(KeyboardInterrupt)
    assert len(client.cancelled) == 3  # the window's other chunks
    assert client.collected == 1


def test_a_lost_scheduler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    pytest.importorskip("distributed", reason="needs the [dask] extra")
    root = make_fleet(tmp_path / "fleet", 40)
    monkeypatch.setattr(fleet_dask, "connect", lambda address: FakeClient(lost_after=8))
    assert main(["check", "--dask", "tcp://127.0.0.1:8786", str(root)]) == 2
    err = capsys.readouterr().err
    # a window of six chunks: three chunks taken before the ninth submission fails
    taken = sum(len(c) for c in fleet.chunked(list(range(41)), 2)[:3])
    assert f"the scheduler was lost after {taken} of 41 captures" in err, err
    assert "Traceback" not in err
