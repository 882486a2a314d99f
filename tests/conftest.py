"""Sphinx test roots (tests/roots/test-*/) for the extension's tests."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["sphinx.testing.fixtures"]

ROOTS = Path(__file__).resolve().parent / "roots"


def sphinx_path(path: Path) -> Any:
    """``path`` as the Sphinx test fixtures want it: their own ``path`` type before
    Sphinx 7.2, ``pathlib.Path`` since."""
    try:
        from sphinx.testing.path import path as legacy_path  # Sphinx < 7.2 (gone in 9)
    except ImportError:
        return path
    import sphinx

    return path if sphinx.version_info >= (7, 2) else legacy_path(str(path))


@pytest.fixture(scope="session")
def rootdir() -> Any:
    return sphinx_path(ROOTS)


def _error_label() -> str:
    from sphinx.util.logging import SphinxWarningLogRecord

    # before Sphinx 4 every message on the warning stream is labelled WARNING
    prefix = SphinxWarningLogRecord.__dict__.get("prefix")
    return "ERROR" if isinstance(prefix, property) else "WARNING"


ERROR = _error_label()
"""How the warning stream labels an error in this Sphinx."""


@pytest.fixture
def balloon_records() -> Iterator[list[logging.LogRecord]]:
    """The log records of this extension, with their levels (the warning stream of old
    Sphinx labels errors WARNING too)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("sphinx.sphinxext_balloon")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def pytest_configure(config: pytest.Config) -> None:
    # The interrupt tests send SIGINT to the processes they start and expect Ctrl-C's
    # behaviour. A shell without job control that starts the suite in the background
    # leaves SIGINT ignored, every child inherits that through exec, and the Ctrl-C is
    # lost (exit 0 instead of 130); no shell can undo it ("signals ignored upon entry
    # cannot be trapped or reset"), but Python can, for this process and so its children.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
