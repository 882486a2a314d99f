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

The names below are imported when first used (PEP 562), so ``import conformance`` and
``balloon-conform --version`` cost no more than the modules they need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    BalloonError,
    DetectionError,
    InputError,
    SchemaError,
    UnknownFormatError,
    UsageError,
)

if TYPE_CHECKING:
    from . import schemas
    from .diagnostics import Diagnostic, Location, Severity
    from .formats import FORMATS, format_ids, get_format
    from .model import DialectSpec, FormatSpec, Layout, ParseResult
    from .pipeline import detect, format_for_path, parse

_LAZY = {
    "schemas": "",
    **dict.fromkeys(("Diagnostic", "Location", "Severity"), ".diagnostics"),
    **dict.fromkeys(("FORMATS", "format_ids", "get_format"), ".formats"),
    **dict.fromkeys(("DialectSpec", "FormatSpec", "Layout", "ParseResult"), ".model"),
    **dict.fromkeys(("detect", "format_for_path", "parse"), ".pipeline"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use; it is then an ordinary attribute."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name] or "." + name, __name__)
    value = module if not _LAZY[name] else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
