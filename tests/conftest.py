"""Sphinx test roots (tests/roots/test-*/) for the extension's tests."""

from __future__ import annotations

import logging
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
