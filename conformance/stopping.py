"""Stopping a command: SIGINT and SIGTERM while it runs, and what they silence.

SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated` (so that worker processes
are ended as the stack unwinds); :func:`conformance.cli.main` turns them into exit status
130 and 143.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like a Ctrl-C, so that worker processes are ended."""


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """While the command runs, SIGINT raises KeyboardInterrupt and SIGTERM raises
    :class:`Terminated` (unless someone else already chose what they do), and either
    first silences :mod:`logging` for the rest of the process.

    The user asked the run to stop, and the exit status says it stopped: what the
    libraries' own threads log while the run unwinds and the process exits (Dask's event
    loop reporting the work it was told to drop, with a traceback) is not theirs to read.
    Silencing in the handler, before the exception is raised, leaves no moment in which
    another thread can log because of the signal and still be heard."""

    def interrupt(signum: int, frame: object) -> None:
        hush()
        raise KeyboardInterrupt

    def terminated(signum: int, frame: object) -> None:
        hush()
        raise Terminated

    def hush() -> None:
        # not loaded yet: nothing can log, and start-up stays without it
        logging = sys.modules.get("logging")
        if logging is not None:
            logging.disable(logging.CRITICAL)

    taken = []
    for signum, ours, theirs in (
        (signal.SIGINT, interrupt, signal.default_int_handler),
        (signal.SIGTERM, terminated, signal.SIG_DFL),
    ):
        try:
            if signal.getsignal(signum) == theirs:
                taken.append((signum, signal.signal(signum, ours)))
        except ValueError:  # not the main thread: signals are not ours to take
            break
    try:
        yield
    finally:
        for signum, previous in taken:
            signal.signal(signum, previous)
