"""Checking many captures: in order, optionally in worker processes, with a progress line.

A fleet may hold tens of thousands of captures. Each is read, checked and dropped before
the next; its :class:`CaptureResult` goes to a :class:`Spool` on disk, and the reporters go
through the spool capture by capture, so memory stays flat however large the fleet. With
``jobs > 1`` the captures are checked in worker processes (:mod:`conformance.workers`),
each of which builds its schema validators once; results come back in the order of the
input, so the report is the same bytes whatever ``jobs`` is. A worker answers a chunk of
captures with one :class:`Batch`, which the parent writes to the spool as it came; for
the reports whose part for one capture can be written on its own (JSON, SARIF, JUnit),
the worker writes those parts too, and the reporter copies them from the spool.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO, TypeVar

from . import validation
from .capture import Limits, read_capture
from .check import CheckOptions, check_capture
from .diagnostics import Diagnostic, Location, Severity
from .errors import BalloonError
from .escape import safe_text
from .formats import all_formats
from .report import part_options, part_writer
from .report.model import CaptureResult, Tally
from .report.options import Dumped, ReportOptions

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
    batches = _in_workers(paths, options, jobs, limits, debug)
    try:
        for batch in batches:
            yield from batch.results()
    finally:
        batches.close()


class Batch(NamedTuple):
    """A worker's answer for a chunk of captures, in the form the parent's spool keeps:
    the parent writes it as it came, without unpickling a result only to count it or to
    pickle it again."""

    size: int
    """How many results it holds."""
    pickled: bytes
    """The results, each pickled, one after the other (the layout of a spool's file)."""
    summary: Summary
    parts: tuple[tuple[str, bytes], ...] = ()
    """For each report format asked, each result's part of that report, as a spool
    keeps them (:func:`_packed`)."""

    def results(self) -> Iterator[CaptureResult]:
        stream = io.BytesIO(self.pickled)
        for _ in range(self.size):
            yield pickle.load(stream)


def check_batch(
    paths: Sequence[Path],
    options: CheckOptions,
    limits: Limits | None = None,
    debug: bool = False,
    parts: tuple[str, ...] = (),
    report: ReportOptions | None = None,
) -> Batch:
    """A worker's unit of work: the :class:`Batch` of a few captures; with ``parts``
    (report formats, written with the options ``report``), it holds each result's part of
    each of those reports too (:func:`~conformance.report.part_writer`), so that the
    parent only copies them."""
    return _batch(check_chunk(paths, options, limits, debug), parts, report)


def _unchecked_batch(
    paths: Sequence[Path],
    reason: str,
    parts: tuple[str, ...] = (),
    report: ReportOptions | None = None,
) -> Batch:
    return _batch(unchecked_chunk(paths, reason), parts, report)


def _batch(
    results: list[CaptureResult], parts: tuple[str, ...], report: ReportOptions | None
) -> Batch:
    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL)
    for result in results:
        pickler.dump(result)
        pickler.clear_memo()  # each result read back on its own
    written = []
    options = report or ReportOptions()
    for format in parts:
        writer = part_writer(format)
        if writer is not None:
            written.append((format, b"".join(_packed(writer(r, options)) for r in results)))
    return Batch(len(results), stream.getvalue(), Summary(results), tuple(written))


_LENGTH = struct.Struct("<I")


def _packed(text: str) -> bytes:
    """A part of a report as a spool keeps it: its length, then its UTF-8."""
    data = text.encode("utf-8", "surrogatepass")
    return _LENGTH.pack(len(data)) + data


MAX_CHUNK = 64
"""The most captures in a chunk of work: a message per chunk costs little beside them."""


def chunked(paths: Sequence[Item], jobs: int) -> list[Sequence[Item]]:
    """``paths`` cut into chunks of work for ``jobs`` workers, in order: each a
    ``4 * jobs``-th of what is left (at most :data:`MAX_CHUNK`, at least one), so that
    chunks are large while much is left and shrink towards the end, where the workers
    then finish within about one capture of each other instead of one chunk."""
    chunks: list[Sequence[Item]] = []
    start = 0
    while start < len(paths):
        size = max(1, min(MAX_CHUNK, (len(paths) - start) // (4 * jobs)))
        chunks.append(paths[start : start + size])
        start += size
    return chunks


def _in_workers(
    paths: Sequence[Path],
    options: CheckOptions,
    jobs: int,
    limits: Limits | None,
    debug: bool,
    parts: tuple[str, ...] = (),
    report: ReportOptions | None = None,
) -> Generator[Batch, None, None]:
    """The :class:`Batch` of each chunk of ``paths``, in order, from ``jobs`` workers,
    with each result's part of the reports of formats ``parts`` when asked."""
    chunks = chunked(paths, jobs)
    work = functools.partial(
        check_batch, options=options, limits=limits, debug=debug, parts=parts, report=report
    )
    # a worker killed on a chunk (out of memory, say) costs only that chunk's captures
    fallback = None if debug else functools.partial(_unchecked_batch, parts=parts, report=report)
    from .workers import Workers, forks  # multiprocessing is imported only when it is used

    if forks():
        _import_what_workers_need(parts)
    with Workers(min(jobs, len(chunks)), work, fallback) as workers:
        yield from workers.map(chunks)


def _import_what_workers_need(parts: tuple[str, ...] = ()) -> None:
    """The parsers, the fast validation engine and the writers of ``parts``, imported
    once in the parent, so that forked workers share them instead of each importing them."""
    all_formats()
    validation.import_engine()
    for format in parts:
        part_writer(format)


def spool_results(
    paths: Sequence[Path],
    options: CheckOptions,
    jobs: int = 1,
    limits: Limits | None = None,
    debug: bool = False,
    parts: Collection[str] = (),
    report: ReportOptions | None = None,
) -> Spool:
    """The results of ``paths`` in a :class:`Spool`, with a progress line for long runs;
    with workers, each result's part of the reports of formats ``parts`` (those the run
    will write, with the options ``report``) is written by the worker and kept
    (:meth:`Spool.prewritten`).

    Whatever stops the run (Ctrl-C, SIGTERM, a bug) ends the workers and closes the
    spool before it goes on up: no process and no temporary file outlives the run."""
    in_workers = jobs > 1 and len(paths) > 1
    report = (report or ReportOptions()) if in_workers else None
    spool = Spool(report)
    try:
        progress = Progress(len(paths))
        if in_workers:
            formats = tuple(sorted(p for p in set(parts) if part_writer(p) is not None))
            batches = _in_workers(paths, options, jobs, limits, debug, formats, report)
            try:  # each batch goes to the spool as it came
                for batch in progress.track(batches, size=_size):
                    spool.extend(batch)
            finally:
                batches.close()  # ends the workers now, not whenever it is collected
        else:
            for result in progress.track(check_many(paths, options, 1, limits, debug)):
                spool.append(result)
    except BaseException:
        spool.close()
        raise
    return spool


def _size(batch: Batch) -> int:
    return batch.size


class Spool(Collection[CaptureResult]):
    """Capture results kept in a temporary file instead of memory.

    A fleet's results are appended as they come and read back, one at a time, each time
    a reporter goes through them; the file is deleted when the spool is closed or
    collected. Only the count and the run's :class:`Summary` are held in memory, counted
    as results come, so that neither the totals nor the rule catalogue cost a pass over
    the file.
    """

    def __init__(self, parts_options: ReportOptions | None = None) -> None:
        """``parts_options``: the report options of the parts that batches bring
        (:meth:`extend`), if any."""
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the spool
        self._count = 0
        self._at_end = True
        """Whether the file's position is its end (no read since the last append)."""
        self.summary = Summary()
        self.parts_options = parts_options
        """The report options the parts kept were written with."""
        self._parts: dict[str, tuple[Any, int]] = {}
        """By report format, the file of each result's part of that report (written
        ahead by a worker), and how many it holds."""

    @property
    def skipped_rules(self) -> set[str]:
        """The ids of the checks skipped on some result so far (a SARIF report describes
        them all, and reads them here instead of going through the spool)."""
        return self.summary.skipped

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

    def extend(self, batch: Batch) -> None:
        """Append the results of a worker's batch, as they came."""
        self._to_end()
        self._file.write(batch.pickled)
        self._count += batch.size
        self.summary.merge(batch.summary)
        for format, packed in batch.parts:
            if format not in self._parts:
                self._parts[format] = (tempfile.TemporaryFile(), 0)  # noqa: SIM115
            file, count = self._parts[format]
            file.write(packed)
            self._parts[format] = (file, count + batch.size)

    def prewritten(self, format: str, options: ReportOptions) -> Iterator[Dumped] | None:
        """Each result's part of a ``format`` report, in order, when one was kept for
        every result, written with the same ``options`` as far as the part reads them
        (:func:`~conformance.report.model.prewritten`); else None."""
        file, count = self._parts.get(format, (None, -1))
        kept = self.parts_options
        if count != self._count or kept is None:
            return None
        if any(getattr(kept, f) != getattr(options, f) for f in part_options(format)):
            return None
        return _parts_of(file, count)

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
        for file, _ in self._parts.values():
            file.close()


def _parts_of(file: Any, count: int) -> Iterator[Dumped]:
    offset = 0
    for _ in range(count):
        file.seek(offset)  # each read seeks first: two reports may go through in turn
        (size,) = _LENGTH.unpack(file.read(_LENGTH.size))
        text = Dumped(file.read(size).decode("utf-8", "surrogatepass"))
        offset += _LENGTH.size + size
        yield text


class Progress:
    """``checked N/M captures`` on a terminal, rewritten in place, for long runs only."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = 0.0
        self.enabled = _is_terminal(self.stream)
        self.drawn = False

    def track(
        self, results: Iterable[Item], size: Callable[[Item], int] | None = None
    ) -> Iterator[Item]:
        """Pass ``results`` through, updating the line as they come; each counts as
        ``size(result)`` captures when given (a worker's batch), else as one."""
        done = 0
        try:
            for result in results:
                done += 1 if size is None else size(result)
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
        self.skipped: set[str] = set()
        """The ids of the checks skipped on some capture (among :attr:`evaluated`)."""
        self.reported: dict[str, Severity] = {}
        for result in results:
            self.add(result)

    def merge(self, other: Summary) -> None:
        """Add what ``other`` counted (a worker's, for a chunk of the fleet)."""
        self.tally.merge(other.tally)
        self.evaluated |= other.evaluated
        self.skipped |= other.skipped
        for id, severity in other.reported.items():
            before = self.reported.get(id)
            if before is None or before < severity:
                self.reported[id] = severity

    def add(self, result: CaptureResult) -> None:
        self.tally.add(result)
        self.evaluated.update(result.rules)
        if result.skipped:
            skipped = {skip.rule for skip in result.skipped}
            self.evaluated |= skipped
            self.skipped |= skipped
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
