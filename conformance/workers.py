"""Worker processes for a fleet, and a shutdown that leaves nothing behind.

Each worker has a pipe of its own to the parent, which hands out chunks of work, reads
the answers and puts them back in the order of the input. There are no threads in the
parent, so nothing can keep the interpreter from exiting. The parent owns shutdown:
workers ignore SIGINT (a Ctrl-C reaches the whole process group, and only the parent
should act on it) and keep the default action of SIGTERM, so that when the parent is
interrupted or terminated it ends them at once, whatever they are doing, with no
traceback and no orphan. A worker whose parent dies reads the end of its pipe and exits.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any, Generic, TypeVar

Task = TypeVar("Task")
Answer = TypeVar("Answer")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
AHEAD = 4
"""Chunks handed out per worker beyond the first one not yet answered: a slow chunk
holds back at most this many answers in memory."""
QUEUED = 2
"""Tasks a worker holds at once: the one it works on and the next."""
SMALL_TASK = 32 * 1024
"""The most bytes of a task sent to a worker that is busy. A busy worker may be blocked
sending a large answer until the parent reads it: what waits for it in the pipe must fit
there (a pipe holds 64 KiB and more), or the parent, blocked sending, would never read."""
GRACE = 1.0
"""Seconds a worker has to end after it is told to, before it is killed."""


def forks() -> bool:
    """Whether workers start as forks of this process (sharing what it imported)."""
    return multiprocessing.get_context().get_start_method() == "fork"


class WorkerError(RuntimeError):
    """A worker process ended without answering (killed by the system, say)."""


@contextmanager
def _blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back while workers start: a child inherits the mask, so
    no signal can reach it before it has chosen how to take them."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # not POSIX: no process groups to worry about
        yield
        return
    previous = mask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


@contextmanager
def _ignored() -> Iterator[None]:
    """A second Ctrl-C during shutdown must not cut the shutdown short."""
    try:
        previous = [signal.signal(s, signal.SIG_IGN) for s in SIGNALS]
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield
        return
    try:
        yield
    finally:
        for signum, handler in zip(SIGNALS, previous):
            signal.signal(signum, handler)


def _serve(conn: Connection, work: Callable[[Any], Any]) -> None:
    """A worker's life: answer each task until told to stop or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            answer: tuple[bool, Any] = (True, work(task))
        except Exception as exc:  # the parent raises it: a bug, not a finding
            answer = (False, exc)
        try:
            conn.send(answer)
        except OSError:
            return  # the parent went away
        except Exception as exc:  # pickling failed before anything was sent
            conn.send((False, WorkerError(f"an answer could not be sent back: {exc!r}")))


class Workers(Generic[Task, Answer]):
    """``jobs`` processes that run ``work`` on tasks; a context manager.

    A worker that dies on a task (killed by the system for memory, say) raises
    :class:`WorkerError`, unless ``fallback`` is given: then ``fallback(task, reason)``
    is that task's answer and a new worker takes the dead one's place."""

    def __init__(
        self,
        jobs: int,
        work: Callable[[Task], Answer],
        fallback: Callable[[Task, str], Answer] | None = None,
    ) -> None:
        self._context = multiprocessing.get_context()
        self._work = work
        self._fallback = fallback
        self._processes: list[Any] = []
        self._conns: list[Connection] = []
        try:
            for _ in range(jobs):
                self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self, slot: int | None = None) -> Connection:
        """A new worker, at the end or in place ``slot`` of a dead one."""
        with _blocked():
            mine, theirs = self._context.Pipe()
            process = self._context.Process(target=_serve, args=(theirs, self._work), daemon=True)
            process.start()
            theirs.close()
        if slot is None:
            self._processes.append(process)
            self._conns.append(mine)
        else:
            self._processes[slot], self._conns[slot] = process, mine
        return mine

    def _replace(self, conn: Connection) -> tuple[Connection, str]:
        """A new worker for the dead one at ``conn``, and how the dead one ended."""
        slot = self._conns.index(conn)
        dead = self._processes[slot]
        dead.join(GRACE)
        code = dead.exitcode
        conn.close()
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"status {code}"
        return self._start(slot), how

    def __enter__(self) -> Workers[Task, Answer]:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.close()
        else:
            self.stop()

    def map(self, tasks: Sequence[Task]) -> Iterator[Answer]:
        """``work(task)`` for each task, in order, computed by the workers.

        Each worker holds up to :data:`QUEUED` tasks, so that it starts the next one as
        soon as it has answered one, without waiting for the parent to read the answer."""
        queues: dict[Connection, deque[int]] = {conn: deque() for conn in self._conns}
        broken: set[Connection] = set()
        """Workers that could not be sent a task: what they answered is read, then they
        are replaced."""
        answers: dict[int, Answer] = {}
        sent = done = 0
        waiting: bytes | None = None
        """The next task, pickled, when it waits for an idle worker (too large to queue)."""

        def give(conn: Connection) -> None:
            nonlocal sent, waiting
            while (
                conn not in broken
                and len(queues[conn]) < QUEUED
                and sent < len(tasks)
                and sent < done + AHEAD * len(queues)
            ):
                data = waiting if waiting is not None else bytes(ForkingPickler.dumps(tasks[sent]))
                waiting = None
                if queues[conn] and len(data) > SMALL_TASK:
                    waiting = data
                    return  # given once the worker is idle: a task never fills the pipe
                try:
                    self._send(conn, data)
                except WorkerError:
                    if queues[conn]:
                        broken.add(conn)
                        return
                    if self._fallback is None:
                        raise
                    conn = self._resend(conn, queues, [], tasks)[0]  # it ended while idle
                    continue
                queues[conn].append(sent)
                sent += 1

        while done < len(tasks):
            for conn in list(queues):
                give(conn)
            for ready in wait([conn for conn, queue in queues.items() if queue]):
                assert isinstance(ready, Connection)
                queue = queues[ready]
                index = queue.popleft()
                try:
                    answers[index] = self._answer(ready)
                except WorkerError:
                    if self._fallback is None:
                        raise
                    broken.discard(ready)
                    # the task it ended on is answered for it; the ones after go again
                    ready, how = self._resend(ready, queues, list(queue), tasks)
                    reason = f"the worker process checking it ended ({how})"
                    answers[index] = self._fallback(tasks[index], reason)
                if ready in broken and not queues[ready]:  # all it answered is read
                    broken.discard(ready)
                    if self._fallback is None:
                        raise WorkerError("a worker process ended before it was given work")
                    ready = self._resend(ready, queues, [], tasks)[0]
                give(ready)  # its next task first: it works while the answers are taken in
            while done in answers:
                yield answers.pop(done)
                done += 1

    def _resend(
        self,
        conn: Connection,
        queues: dict[Connection, deque[int]],
        again: list[int],
        tasks: Sequence[Task],
    ) -> tuple[Connection, str]:
        """A new worker in place of the dead one at ``conn``, sent the tasks ``again``
        (which the dead one held but had not started); its connection, and how the
        dead one ended. A new worker that cannot take work is an error."""
        del queues[conn]
        new, how = self._replace(conn)
        queues[new] = deque()
        for index in again:
            self._send(new, bytes(ForkingPickler.dumps(tasks[index])))
            queues[new].append(index)
        return new, how

    @staticmethod
    def _send(conn: Connection, data: bytes) -> None:
        try:
            conn.send_bytes(data)
        except OSError:  # not BrokenPipeError: that would read as "stdout closed"
            raise WorkerError("a worker process ended before it was given work") from None

    @staticmethod
    def _answer(conn: Connection) -> Any:
        try:
            ok, value = conn.recv()
        except (EOFError, ConnectionResetError):  # reset: it ended with a task unread
            raise WorkerError("a worker process ended without answering") from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Tell the workers to stop once they are idle, and wait for them (bounded)."""
        try:
            for conn in self._conns:
                with contextlib.suppress(OSError):  # that worker is gone already
                    conn.send(None)
            for process in self._processes:
                process.join(GRACE)
        finally:  # a Ctrl-C while waiting still ends them all
            self.stop()

    def stop(self) -> None:
        """End every worker now, whatever it is doing, and wait until each is gone."""
        with _ignored():
            for process in self._processes:
                if process.is_alive():
                    process.terminate()
            for process in self._processes:
                process.join(GRACE)
                if process.is_alive():
                    process.kill()
                    process.join()
            for conn in self._conns:
                conn.close()
            self._processes, self._conns = [], []
