"""Checking many captures: in order, optionally in worker processes, with a progress line.

A fleet may hold tens of thousands of captures. Each is read, checked and dropped before
the next; its :class:`CaptureResult` goes to a :class:`Spool` on disk, and the reporters go
through the spool capture by capture, so memory stays flat however large the fleet. With
``jobs > 1`` the captures are checked in worker processes (:mod:`conformance.workers`),
each of which builds its schema validators once; results come back in the order of the
input, so the report is the same bytes whatever ``jobs`` is.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from . import validation
from .capture import Limits, read_capture
from .check import CheckOptions, check_capture
from .diagnostics import Diagnostic, Location, Severity
from .errors import BalloonError
from .escape import safe_text
from .formats import all_formats
from .report.model import CaptureResult, Tally

Item = TypeVar("Item")

PROGRESS_AFTER_SECONDS = 2.0
"""A progress line appears only for a run that lasts longer than this."""


_DEFAULT_LIMITS = Limits()


def check_one(
    path: Path, options: CheckOptions, limits: Limits | None = None, debug: bool = False
) -> CaptureResult:
    """Read and check the capture at ``path``.

    Whatever stops the checking of this one capture (a bug, a path that is no capture
    any more) is a ``capture.unchecked`` error on it, so that the rest of the fleet is
    still checked and reported; ``debug`` lets the exception go up instead."""
    try:
        return check_capture(read_capture(path, limits or _DEFAULT_LIMITS), options)
    except Exception as exc:
        if debug:
            raise
        return _unchecked(path, exc)


def unchecked_chunk(paths: Sequence[Path], reason: str) -> list[CaptureResult]:
    """A ``capture.unchecked`` result for each of ``paths``, saying ``reason``."""
    return [_unchecked(path, reason) for path in paths]


def _unchecked(path: Path, exc: Exception | str) -> CaptureResult:
    if isinstance(exc, (str, BalloonError)):
        message = f"not checked: {exc}"
    else:
        message = (
            f"not checked: internal error {exc!r}; please report it "
            "(balloon-conform --debug check CAPTURE shows where)"
        )
    name = safe_text(str(path))
    finding = Diagnostic("capture.unchecked", Severity.ERROR, message, Location(path=name))
    return CaptureResult(name, (), (finding,), ("capture.unchecked",))


def check_chunk(
    paths: Sequence[Path], options: CheckOptions, limits: Limits | None = None, debug: bool = False
) -> list[CaptureResult]:
    """The results of a few captures: a worker's unit of work."""
    return [check_one(path, options, limits, debug) for path in paths]


def check_many(
    paths: Sequence[Path],
    options: CheckOptions,
    jobs: int = 1,
    limits: Limits | None = None,
    debug: bool = False,
) -> Generator[CaptureResult, None, None]:
    """The result of each capture in ``paths``, in order.

    With ``jobs > 1`` the workers are ended when the iterator is closed or an exception
    (a Ctrl-C included) leaves it, so close it rather than drop it (:func:`spool_results`).
    """
    if jobs <= 1 or len(paths) < 2:
        yield from (check_one(path, options, limits, debug) for path in paths)
        return
    pickled = _in_workers(paths, options, jobs, limits, debug)
    try:
        yield from (pickle.loads(data) for data in pickled)
    finally:
        pickled.close()


def check_pickled_chunk(
    paths: Sequence[Path], options: CheckOptions, limits: Limits | None = None, debug: bool = False
) -> tuple[list[bytes], Summary]:
    """A worker's unit of work: the results of a few captures, each already pickled, and
    their :class:`Summary`, so that the parent appends them to its spool as they are,
    without unpickling a result from the pipe only to count it or pickle it again."""
    return _pickled(check_chunk(paths, options, limits, debug))


def _unchecked_pickled(paths: Sequence[Path], reason: str) -> tuple[list[bytes], Summary]:
    return _pickled(unchecked_chunk(paths, reason))


def _pickled(results: list[CaptureResult]) -> tuple[list[bytes], Summary]:
    pickled = [pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) for result in results]
    return pickled, Summary(results)


def chunk_size(count: int, jobs: int) -> int:
    """Captures per chunk of work: enough chunks (16 per worker) that the workers finish
    together (the last chunk keeps one worker busy alone), each large enough (up to 64
    captures) that a message per chunk costs little beside the work."""
    return max(1, min(64, count // (jobs * 16)))


def _in_workers(
    paths: Sequence[Path],
    options: CheckOptions,
    jobs: int,
    limits: Limits | None,
    debug: bool,
    summary: Summary | None = None,
) -> Generator[bytes, None, None]:
    """The pickled result of each capture in ``paths``, in order, from ``jobs`` workers;
    what the workers counted of them is added to ``summary``, when given."""
    size = chunk_size(len(paths), jobs)
    chunks = [paths[start : start + size] for start in range(0, len(paths), size)]
    work = functools.partial(check_pickled_chunk, options=options, limits=limits, debug=debug)
    # a worker killed on a chunk (out of memory, say) costs only that chunk's captures
    fallback = None if debug else _unchecked_pickled
    from .workers import Workers, forks  # multiprocessing is imported only when it is used

    if forks():
        _import_what_workers_need()
    with Workers(min(jobs, len(chunks)), work, fallback) as workers:
        for answers, counted in workers.map(chunks):
            if summary is not None:
                summary.merge(counted)
            yield from answers


def _import_what_workers_need() -> None:
    """The parsers and the fast validation engine, imported once in the parent, so that
    forked workers share them instead of each importing them again."""
    all_formats()
    validation.import_engine()


def spool_results(
    paths: Sequence[Path],
    options: CheckOptions,
    jobs: int = 1,
    limits: Limits | None = None,
    debug: bool = False,
) -> Spool:
    """The results of ``paths`` in a :class:`Spool`, with a progress line for long runs.

    Whatever stops the run (Ctrl-C, SIGTERM, a bug) ends the workers and closes the
    spool before it goes on up: no process and no temporary file outlives the run."""
    spool = Spool()
    try:
        # workers send each result pickled: it goes to the spool as it came
        results: Generator[Any, None, None] = check_many(paths, options, 1, limits, debug)
        add: Callable[[Any], None] = spool.append
        if jobs > 1 and len(paths) > 1:
            results = _in_workers(paths, options, jobs, limits, debug, spool.summary)
            add = functools.partial(spool.append_pickled, counted=True)
        try:
            for result in Progress(len(paths)).track(results):
                add(result)
        finally:
            results.close()  # ends the workers now, not whenever the generator is collected
    except BaseException:
        spool.close()
        raise
    return spool


class Spool(Collection[CaptureResult]):
    """Capture results kept in a temporary file instead of memory.

    A fleet's results are appended as they come and read back, one at a time, each time
    a reporter goes through them; the file is deleted when the spool is closed or
    collected. Only the count and the run's :class:`Summary` are held in memory, counted
    as results come, so that neither the totals nor the rule catalogue cost a pass over
    the file.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._count = 0
        self._at_end = True
        """Whether the file's position is its end (no read since the last append)."""
        self.summary = Summary()

    @property
    def tally(self) -> Tally:
        """The totals so far (:meth:`Report.totals <conformance.report.model.Report.totals>`
        reads them instead of going through the spool)."""
        return self.summary.tally

    def append(self, result: CaptureResult) -> None:
        self._to_end()
        pickle.dump(result, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1
        self.summary.add(result)

    def append_pickled(self, data: bytes, counted: bool = False) -> None:
        """Append a result that :func:`pickle.dumps` already made (by a worker);
        ``counted`` when the caller adds it to :attr:`summary` itself."""
        self._to_end()
        self._file.write(data)
        self._count += 1
        if not counted:
            self.summary.add(pickle.loads(data))

    def _to_end(self) -> None:
        if not self._at_end:
            self._file.seek(0, os.SEEK_END)
            self._at_end = True

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[CaptureResult]:
        offset = 0
        for _ in range(self._count):
            # each read seeks first: a reporter may go through the spool in two nested
            # passes, and appends happen at the end
            self._at_end = False
            self._file.seek(offset)
            result = pickle.load(self._file)
            offset = self._file.tell()
            yield result

    def __contains__(self, item: object) -> bool:
        return any(result == item for result in self)

    def close(self) -> None:
        self._file.close()


class Progress:
    """``checked N/M captures`` on a terminal, rewritten in place, for long runs only."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = 0.0
        self.enabled = _is_terminal(self.stream)
        self.drawn = False

    def track(self, results: Iterable[Item]) -> Iterator[Item]:
        """Pass ``results`` through, updating the line as they come."""
        try:
            for done, result in enumerate(results, start=1):
                self._update(done)
                yield result
        finally:  # an interrupted run leaves no half line on the terminal either
            self.close()

    def _update(self, done: int) -> None:
        now = time.monotonic()
        if (
            not self.enabled
            or now - self.started < PROGRESS_AFTER_SECONDS
            or now - self.shown < 0.1
        ):
            return
        self.shown = now
        self.drawn = True
        self.stream.write(f"\rchecked {done}/{self.total} captures")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


class Summary:
    """What a run's report needs of all its results, counted as they come: the totals,
    the ids evaluated or skipped on some capture, and the ids reported, each with the
    worst severity it was reported at."""

    def __init__(self, results: Iterable[CaptureResult] = ()) -> None:
        self.tally = Tally()
        self.evaluated: set[str] = set()
        self.reported: dict[str, Severity] = {}
        for result in results:
            self.add(result)

    def merge(self, other: Summary) -> None:
        """Add what ``other`` counted (a worker's, for a chunk of the fleet)."""
        self.tally.merge(other.tally)
        self.evaluated |= other.evaluated
        for id, severity in other.reported.items():
            before = self.reported.get(id)
            if before is None or before < severity:
                self.reported[id] = severity

    def add(self, result: CaptureResult) -> None:
        self.tally.add(result)
        self.evaluated.update(result.rules)
        self.evaluated.update(skip.rule for skip in result.skipped)
        reported = self.reported
        for diagnostic in result.diagnostics:
            before = reported.get(diagnostic.id)
            if before is None or before < diagnostic.severity:
                reported[diagnostic.id] = diagnostic.severity


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
