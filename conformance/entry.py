"""The ``balloon-conform`` console script: the command line, with Ctrl-C quiet from the start.

:func:`conformance.cli.main` turns Ctrl-C into exit status 130 while a command runs, but
the console script has to import the command line first, and a Ctrl-C during that import
(a slow disk, a loaded machine) would print Python's traceback. This module imports
nothing but the standard library before it is ready to catch it.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> int:
    """Load and run the command line; Ctrl-C at any point is exit status 130, quietly."""
    try:
        from .cli import main as run

        return run()
    except BaseException as exc:
        if interrupted(exc):
            return EXIT_INTERRUPTED
        raise


def interrupted(exc: BaseException) -> bool:
    """True when ``exc`` is Ctrl-C, or came of it: a KeyboardInterrupt raised while a
    class is being made (a dataclass's ``__set_name__`` during an import) reaches the
    caller wrapped in a RuntimeError on Python before 3.12."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
