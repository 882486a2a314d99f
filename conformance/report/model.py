"""The result of a check run, as every reporter reads it.

A :class:`Report` holds one :class:`CaptureResult` per capture checked (a series adds one
more result named after the series for the rules between captures), and the metadata of
every diagnostic id that appears or was evaluated, so reporters can describe rules
(SARIF ``tool.driver.rules``, JUnit test cases) without importing the rule engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity
from ..rules.base import RuleInfo


@dataclass(frozen=True)
class CaptureResult:
    """What was found in one capture (or between the captures of one series)."""

    name: str
    """The capture as the user named it: a directory, a tarball, or ``series:T0..Tn``."""
    files: tuple[str, ...]
    """Paths of the files that were checked, as they appear in diagnostics."""
    diagnostics: tuple[Diagnostic, ...]
    """Sorted findings; each location's ``path`` is one of ``files`` or the capture."""
    rules: tuple[str, ...]
    """Ids of every check evaluated on this capture, passed or not (JUnit test cases)."""

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)


@dataclass(frozen=True)
class Report:
    """A whole run: its captures in the order given, and the rule catalogue it used."""

    version: str
    captures: tuple[CaptureResult, ...]
    catalogue: Mapping[str, RuleInfo] = field(default_factory=dict)
    """Metadata for every id in ``rules`` or ``diagnostics`` of any capture."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(d for capture in self.captures for d in capture.diagnostics)

    def count(self, severity: Severity) -> int:
        return sum(capture.count(severity) for capture in self.captures)

    @property
    def failed(self) -> bool:
        """True when any finding is an error: the run's exit status is then 1."""
        return self.count(Severity.ERROR) > 0
