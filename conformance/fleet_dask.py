"""Checking a fleet on a Dask cluster: the same results, in the same order, as a local run.

Dask is an optional extra (``pip install 'sphinxext-balloon[dask]'``), imported only here
and only when a cluster is used. The unit of work is the local one,
:func:`conformance.fleet.check_chunk`, run by the workers on a chunk of capture paths: a
capture that cannot be read there is a finding on it, exactly as locally. The paths must
be readable by the workers (shared or object storage mounted alike on every machine).

The client keeps only a window of chunks in flight and takes their results in the order of
the input, so its memory is flat however large the fleet, and the results go to the same
:class:`~conformance.fleet.Spool` as a local run: the report is the same bytes. A chunk
that a worker fails (an exception, a worker lost more often than the scheduler retries)
costs only its captures, each of which gets a ``capture.unchecked`` error.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .capture import Limits
from .check import CheckOptions
from .errors import InputError, UsageError
from .escape import safe_text
from .fleet import Progress, Spool, check_chunk, chunked, unchecked_chunk
from .report.model import CaptureResult

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

INSTALL_HINT = "pip install 'sphinxext-balloon[dask]'"
CONNECT_TIMEOUT = "20s"
"""How long the client tries to reach the scheduler before giving up."""
CLOSE_TIMEOUT = 5
"""Seconds a client whose start failed may take to close (it has nothing in flight)."""


def import_distributed() -> Any:
    """The ``distributed`` module, or a usage error that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise UsageError(
            f"--dask needs Dask's distributed scheduler, which is not installed: {INSTALL_HINT}"
        ) from exc
    return distributed


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``; a usage error (exit
    status 2, no traceback) when the address is not one or the scheduler cannot be
    reached in :data:`CONNECT_TIMEOUT`."""
    distributed = import_distributed()
    check_address(address)
    # the client is made in two steps so that one whose start fails can be closed here:
    # left to the garbage collector, it closes at exit, when its event loop is gone, and
    # waits twice the connect timeout for it before printing a traceback
    client = distributed.Client.__new__(distributed.Client)
    try:
        client.__init__(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except BaseException as exc:
        _close_unstarted(client)
        if isinstance(exc, (OSError, ValueError, TypeError, asyncio.TimeoutError)):
            raise UsageError(
                f"--dask {safe_text(address, 100)!r}: cannot reach a Dask scheduler there "
                f"({safe_text(str(exc) or type(exc).__name__, 200)})"
            ) from exc
        raise
    return client


def check_address(address: str) -> None:
    """A usage error, before any client is made, for an address that names no scheduler
    this command can reach: no port (``localhost``), an unknown scheme (``foo://``), an
    in-process one (``inproc://``, only another thread of this process could serve it)."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    try:
        scheme, location = parse_address(address)
        if scheme == "inproc":
            raise ValueError("an in-process address, which only this process could serve")
        backend: Any = registry.get_backend(scheme)  # its methods are not typed
        # a backend whose addresses are not host:port (ucx) cannot tell here: connecting says
        with contextlib.suppress(NotImplementedError):
            backend.get_address_host_port(location)
    except (ValueError, TypeError, ImportError) as exc:
        raise UsageError(
            f"--dask {safe_text(address, 100)!r}: not the address of a Dask scheduler "
            f"({safe_text(str(exc) or type(exc).__name__, 200)}); give tcp://HOST:PORT"
        ) from exc


def _close_unstarted(client: Any) -> None:
    """Close a client whose start failed, whatever it got to (its event loop, a
    connection), without another error: the failure is the one to report."""
    with contextlib.suppress(Exception):
        client.close(timeout=CLOSE_TIMEOUT)


@dataclass(frozen=True)
class _Task:
    """One chunk in flight: its paths (here, or still on the cluster) and its results."""

    paths: Sequence[Path] | None
    paths_future: Any
    results: Any


def check_paths(
    client: Any,
    paths: Sequence[Path],
    options: CheckOptions,
    limits: Limits | None = None,
    debug: bool = False,
    window: int | None = None,
) -> Generator[CaptureResult, None, None]:
    """The result of each capture in ``paths``, in order, checked by ``client``'s workers.

    Close the iterator rather than drop it: closing (or a Ctrl-C in it) cancels the
    chunks still in flight."""
    threads = _threads(client)
    # as locally: large chunks while much is left, shrinking towards the end so that the
    # workers finish together
    chunks = chunked(paths, threads)
    tasks = (_submit_chunk(client, chunk, options, limits, debug) for chunk in chunks)
    yield from _in_order(client, tasks, window or 2 * threads + 2, debug)


def check_bag(
    bag: Any,
    options: CheckOptions,
    limits: Limits | None = None,
    *,
    client: Any = None,
    debug: bool = False,
    window: int | None = None,
) -> Generator[CaptureResult, None, None]:
    """The result of each capture of a ``dask.bag`` of capture paths, in the bag's order.

    Each partition of the bag is checked as one chunk by a worker (``client``, by default
    the current Dask client); a few partitions are in flight at a time."""
    if client is None:
        client = import_distributed().get_client()
    parts = bag.to_delayed()
    tasks = (_submit_part(client, part, options, limits, debug) for part in parts)
    yield from _in_order(client, tasks, window or 2 * _threads(client) + 2, debug)


def spool_dask(
    address: str,
    paths: Sequence[Path],
    options: CheckOptions,
    limits: Limits | None = None,
    debug: bool = False,
) -> Spool:
    """The results of ``paths``, checked on the cluster at ``address``, in a
    :class:`Spool` (as :func:`conformance.fleet.spool_results`), with a progress line
    for long runs. Whatever stops the run cancels the work and closes the spool."""
    spool = Spool()
    try:
        with connect(address) as client:
            results = check_paths(client, paths, options, limits, debug)
            try:
                for result in Progress(len(paths)).track(results):
                    spool.append(result)
            except Exception as exc:
                if debug or client.status == "running":
                    raise
                raise InputError(
                    f"--dask {safe_text(address, 100)!r}: the scheduler was lost after "
                    f"{len(spool)} of {len(paths)} captures ({safe_text(repr(exc), 200)})"
                ) from exc
            finally:
                results.close()  # cancels what is still in flight, before the client closes
    except BaseException:
        spool.close()
        raise
    return spool


def _threads(client: Any) -> int:
    """The worker threads of the cluster now (at least one: more may join later)."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def _run_chunk(
    paths: Iterable[Any], options: CheckOptions, limits: Limits | None, debug: bool
) -> list[CaptureResult]:
    """On a worker: the results of a chunk of paths (strings or :class:`Path`)."""
    return check_chunk([Path(p) for p in paths], options, limits, debug)


def _submit_chunk(
    client: Any, paths: Sequence[Path], options: CheckOptions, limits: Limits | None, debug: bool
) -> _Task:
    results = client.submit(_run_chunk, list(paths), options, limits, debug, pure=False)
    return _Task(paths, None, results)


def _submit_part(
    client: Any, part: Any, options: CheckOptions, limits: Limits | None, debug: bool
) -> _Task:
    # the paths stay on the cluster, to be fetched only to name the captures of a failure
    paths_future = client.compute(part)
    results = client.submit(_run_chunk, paths_future, options, limits, debug, pure=False)
    return _Task(None, paths_future, results)


def _in_order(
    client: Any, tasks: Iterator[_Task], window: int, debug: bool
) -> Generator[CaptureResult, None, None]:
    """The results of ``tasks`` in order, with at most ``window`` chunks in flight."""
    pending: collections.deque[_Task] = collections.deque()
    try:
        for task in tasks:
            pending.append(task)
            if len(pending) >= window:
                yield from _results(pending.popleft(), debug)
        while pending:
            yield from _results(pending.popleft(), debug)
    finally:  # closed early, interrupted or failed: nothing goes on running for us
        futures = [f for t in pending for f in (t.paths_future, t.results) if f is not None]
        if futures and client.status == "running":  # a lost scheduler has nothing to cancel
            client.cancel(futures)


def _results(task: _Task, debug: bool) -> list[CaptureResult]:
    """The results of a finished chunk, or an unchecked error on each of its captures."""
    try:
        results: list[CaptureResult] = task.results.result()
        return results
    # cancelled by the scheduler (it restarted, or lost the client): a BaseException
    except (Exception, asyncio.CancelledError) as exc:
        if debug:
            raise
        reason = f"the Dask worker failed on it: {exc!r}"
        return unchecked_chunk(_paths_of(task, exc), reason)
    finally:
        task.results.release()
        if task.paths_future is not None:
            task.paths_future.release()


def _paths_of(task: _Task, failure: BaseException) -> list[Path]:
    if task.paths is not None:
        return list(task.paths)
    try:
        return [Path(p) for p in task.paths_future.result()]
    except Exception:
        # the bag itself could not be computed: there are no captures to name
        raise failure from None
