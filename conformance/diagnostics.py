"""Diagnostics: the one kind of finding every step of the pipeline produces.

A parser, the schema validator and the rules never raise on bad input; they return
:class:`Diagnostic` values that point at a file, line and column and name the check
(its stable id) that produced them. Reporters and the Sphinx extension only read them.
Their text is escaped when they are made (:func:`conformance.escape.escape`): whatever a
capture holds, a diagnostic carries no control character, no bidirectional override and
no undecodable byte.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .escape import escape
from .records import replace

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass


class Severity(enum.Enum):
    """How bad a finding is. Ordered: ``NOTE < WARNING < ERROR``."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, order=True)
class Location:
    """A place in a text: 1-based line and column; ``path`` names the file if known."""

    path: str = ""
    line: int = 0
    column: int = 0

    def __post_init__(self) -> None:
        # a file name from a capture may hold escape sequences or undecodable bytes
        object.__setattr__(self, "path", escape(self.path))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return where


@dataclass(frozen=True)
class Diagnostic:
    """One finding.

    ``id`` is stable and documented (``layout.whitespace``, ``hv-balloon.state-name``,
    ``schema.maximum`` ...); tools filter on it. ``pointer`` is the JSON pointer of the
    instance value the finding is about, when there is one.
    """

    id: str
    severity: Severity
    message: str
    location: Location = Location()
    hint: str = ""
    pointer: str = ""

    def __post_init__(self) -> None:
        # messages quote file contents and names: escaped here, once, so that no
        # reporter (nor the Sphinx extension) can show a terminal a raw control character
        for name in ("id", "message", "hint", "pointer"):
            object.__setattr__(self, name, escape(getattr(self, name)))

    def at(self, path: str) -> Diagnostic:
        """The same finding, located in file ``path``."""
        where = Location(path, self.location.line, self.location.column)
        return Diagnostic(self.id, self.severity, self.message, where, self.hint, self.pointer)

    def with_severity(self, severity: Severity) -> Diagnostic:
        return replace(self, severity=severity)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its plain values (a fleet's results go through a spool and worker
        # pipes): a third of the bytes and time of the dataclass and enum default, and
        # restored without escaping its text a second time
        loc = self.location
        fields = (self.id, self.severity.value, self.message, loc.path, loc.line, loc.column)
        return _restore_diagnostic, (*fields, self.hint, self.pointer)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.id, self.message)

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.id}]"


_SEVERITY = {severity.value: severity for severity in Severity}


def _restore_diagnostic(
    id: str,
    severity: str,
    message: str,
    path: str,
    line: int,
    column: int,
    hint: str,
    pointer: str,
) -> Diagnostic:
    """A pickled :class:`Diagnostic` (:meth:`Diagnostic.__reduce__`): its text was escaped
    when it was made, so it is set as it is."""
    location = object.__new__(Location)
    vars(location).update(path=path, line=line, column=column)
    diagnostic = object.__new__(Diagnostic)
    vars(diagnostic).update(
        id=id,
        severity=_SEVERITY[severity],
        message=message,
        location=location,
        hint=hint,
        pointer=pointer,
    )
    return diagnostic


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in a stable order (file, line, column, id), duplicates dropped."""
    seen: set[Diagnostic] = set()
    unique = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            unique.append(diagnostic)
    return sorted(unique, key=Diagnostic.sort_key)


def worst(diagnostics: Iterable[Diagnostic]) -> Severity | None:
    """The highest severity among ``diagnostics``, or None when there are none."""
    ranks = [d.severity for d in diagnostics]
    return max(ranks, key=lambda s: s.rank) if ranks else None


def to_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as the JSON object ``parse --meta`` and the JSON report print."""
    loc = diagnostic.location
    out: dict[str, Any] = {
        "id": diagnostic.id,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "file": loc.path,
        "line": loc.line,
        "column": loc.column,
    }
    if diagnostic.hint:
        out["hint"] = diagnostic.hint
    if diagnostic.pointer:
        out["pointer"] = diagnostic.pointer
    return out
