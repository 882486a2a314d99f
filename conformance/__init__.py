"""balloon-conform: the guest-visible statistics of Linux balloon drivers as a checked contract.

Library API::

    import conformance
    result = conformance.parse(open("/proc/meminfo").read(), path="/proc/meminfo")
    result.format, result.dialect      # "meminfo", "2.6"
    result.instance["MemTotal"]        # 24684084 (kB)
    for d in result.diagnostics: print(d)

``parse`` detects the format and dialect when they are not given, parses the text in the
``lenient`` or ``exact`` layout mode and validates the instance against the dialect's JSON
Schema. ``FORMATS`` lists the registered formats; ``schemas`` gives the schema files.
"""

from __future__ import annotations

from . import schemas
from ._version import __version__
from .diagnostics import Diagnostic, Location, Severity
from .errors import (
    BalloonError,
    DetectionError,
    InputError,
    SchemaError,
    UnknownFormatError,
    UsageError,
)
from .formats import FORMATS, format_ids, get_format
from .model import DialectSpec, FormatSpec, Layout, ParseResult
from .pipeline import detect, format_for_path, parse

__all__ = [
    "FORMATS",
    "BalloonError",
    "DetectionError",
    "Diagnostic",
    "DialectSpec",
    "FormatSpec",
    "InputError",
    "Layout",
    "Location",
    "ParseResult",
    "SchemaError",
    "Severity",
    "UnknownFormatError",
    "UsageError",
    "__version__",
    "detect",
    "format_for_path",
    "format_ids",
    "get_format",
    "parse",
    "schemas",
]
