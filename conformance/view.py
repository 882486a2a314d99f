"""What the rules read: a parsed file and the view of one capture.

These value types sit below both :mod:`conformance.check` (which builds them) and
:mod:`conformance.rules` (which reads them), so imports run one way, downwards. A view also
carries the facts of its capture's manifest that rules and series need: the kernel release,
the page size, when it was taken and which boot it belongs to.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import schemas
from .capture import Capture, CapturedFile
from .diagnostics import Location
from .model import ParseResult
from .records import replace

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass, field
else:
    from .records import dataclass, field


@dataclass(frozen=True)
class ParsedFile:
    """A captured file and what the parser made of it."""

    file: CapturedFile
    result: ParseResult

    def locate(self, pointer: str) -> Location:
        """Where the value at ``pointer`` stands in this file."""
        return replace(self.result.locate(pointer), path=self.file.path)

    @property
    def instance(self) -> dict:  # type: ignore[type-arg]
        value = self.result.instance
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class CaptureView:
    """What capture rules see: the parsed files of one capture and its kernel."""

    capture: Capture
    parsed: tuple[ParsedFile, ...]
    kernel: tuple[int, ...] | None = None
    page_size: int = 4096
    extra: dict = field(default_factory=dict)  # type: ignore[type-arg]

    def all(self, format_id: str) -> list[ParsedFile]:
        return list(self._by_format.get(format_id, ()))

    def first(self, format_id: str) -> ParsedFile | None:
        found = self._by_format.get(format_id)
        return found[0] if found else None

    @cached_property
    def _by_format(self) -> dict[str, list[ParsedFile]]:
        # every rule asks for files by format, most of them of every capture: the files
        # are sorted by format once instead of scanned on each question
        index: dict[str, list[ParsedFile]] = {}
        for parsed in self.parsed:
            index.setdefault(parsed.result.format, []).append(parsed)
        return index

    @cached_property
    def formats(self) -> frozenset[str]:
        """The formats of the parsed files."""
        return frozenset(self._by_format)

    @property
    def location(self) -> Location:
        return Location(path=self.capture.name)

    @property
    def release(self) -> str:
        """The kernel version as the rules say it, e.g. ``6.1``; empty when unknown."""
        return ".".join(map(str, self.kernel)) if self.kernel else ""

    def manifest(self, key: str) -> Any:
        """A member of the capture's ``capture.json``, or None."""
        return (self.capture.manifest or {}).get(key)

    @cached_property
    def manifest_errors(self) -> tuple[Any, ...]:
        """``capture.json`` against capture.schema.json, validated once per capture: the
        check reports these errors, and :meth:`sound_manifest` keeps rules off what they
        are about."""
        if self.capture.manifest is None:
            return ()
        return tuple(schemas.iter_errors("capture.schema.json", self.capture.manifest))

    def sound_manifest(self, key: str) -> Any:
        """A member of ``capture.json`` if it follows capture.schema.json, else None: a
        capture is untrusted, and a rule reads a member by its schema's types."""
        value = self.manifest(key)
        about = (error.absolute_path for error in self.manifest_errors)
        if value is None or any(path and path[0] == key for path in about):
            return None
        return value
