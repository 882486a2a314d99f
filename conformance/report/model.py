"""The result of a check run, as every reporter reads it.

A :class:`Report` holds one :class:`CaptureResult` per capture checked (a series adds one
more result named after the series for the rules between captures), and the metadata of
every diagnostic id that appears or was evaluated, so reporters can describe rules
(SARIF ``tool.driver.rules``, JUnit test cases) without importing the rule engine.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, Severity
from ..escape import escape
from ..rules.base import RuleInfo

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass, field
else:
    from ..records import dataclass, field


@dataclass(frozen=True)
class Skip:
    """A check that could not run on a capture, and why (reported, never a pass)."""

    rule: str
    reason: str


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
    skipped: tuple[Skip, ...] = ()
    """Checks that could not run on this capture, with the reason, sorted by id."""
    series: bool = False
    """True for the result of the checks between the captures of a series: its files
    are its captures' files, so totals count neither it nor them again."""
    guest: bool = False
    """True for a guest checked in place (``check --live``): its paths are the guest's own
    (``/proc/meminfo``), not paths under the working directory."""

    def __post_init__(self) -> None:
        # names come from the file system and a capture: escaped as a diagnostic's path is
        object.__setattr__(self, "name", escape(self.name))
        object.__setattr__(self, "files", tuple(escape(f) for f in self.files))

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as plain values (the spool and the worker pipes carry every result of a
        # fleet): the checks skipped are nearly the same pairs on every capture
        skipped = tuple((skip.rule, skip.reason) for skip in self.skipped)
        fields = (self.name, self.files, self.diagnostics, self.rules, skipped)
        return _restore_result, (*fields, self.series, self.guest)


@lru_cache(maxsize=256)
def _skips(pairs: tuple[tuple[str, str], ...]) -> tuple[Skip, ...]:
    """One value for each list of skips a fleet's results share (most captures of a kind
    skip the same checks for the same reasons; values, so sharing them is safe)."""
    return tuple(Skip(rule, reason) for rule, reason in pairs)


def _restore_result(
    name: str,
    files: tuple[str, ...],
    diagnostics: tuple[Diagnostic, ...],
    rules: tuple[str, ...],
    skipped: tuple[tuple[str, str], ...],
    series: bool,
    guest: bool,
) -> CaptureResult:
    """A pickled :class:`CaptureResult`: its names were escaped when it was made, so
    they are set as they are."""
    result = object.__new__(CaptureResult)
    vars(result).update(
        name=name,
        files=files,
        diagnostics=diagnostics,
        rules=rules,
        skipped=_skips(skipped),
        series=series,
        guest=guest,
    )
    return result


@dataclass(frozen=True)
class Totals:
    """What a run found, counted in one pass over its captures."""

    captures: int
    files: int
    errors: int
    warnings: int
    notes: int
    ids: frozenset[str]
    """Every diagnostic id that was reported."""
    skipped: int = 0
    """Checks not run, counted once per capture (or series) they could not run on."""
    guest: bool = False
    """True when a capture is a guest checked in place (its paths are the guest's)."""
    checked: int = 0
    """Results (captures or series) on which a rule ran or something was found that is
    more than a note: none means the run checked nothing but, at most, parsed files."""

    def count(self, severity: Severity) -> int:
        return {Severity.ERROR: self.errors, Severity.WARNING: self.warnings}.get(
            severity, self.notes
        )


class Tally:
    """The :class:`Totals` of capture results, counted as they are added."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(Severity, 0)
        self._files = self._captures = self._skipped = self._checked = 0
        self._ids: set[str] = set()
        self._guest = False

    def add(self, capture: CaptureResult) -> None:
        self._guest = self._guest or capture.guest
        if not capture.series:
            self._captures += 1
            self._files += len(capture.files)
        self._skipped += len(capture.skipped)
        noted: set[str] = set()
        heard = False
        for diagnostic in capture.diagnostics:
            self._counts[diagnostic.severity] += 1
            self._ids.add(diagnostic.id)
            if diagnostic.severity is Severity.NOTE:
                noted.add(diagnostic.id)
            else:
                heard = True
        # its rules: those that ran, and the ids it reported (no rule's own is a note)
        if heard or any(rule not in noted for rule in capture.rules):
            self._checked += 1

    def merge(self, other: Tally) -> None:
        """Add what ``other`` counted (a worker's, say)."""
        for severity, count in other._counts.items():
            self._counts[severity] += count
        self._files += other._files
        self._captures += other._captures
        self._skipped += other._skipped
        self._checked += other._checked
        self._ids |= other._ids
        self._guest = self._guest or other._guest

    def totals(self) -> Totals:
        return Totals(
            self._captures,
            self._files,
            self._counts[Severity.ERROR],
            self._counts[Severity.WARNING],
            self._counts[Severity.NOTE],
            frozenset(self._ids),
            self._skipped,
            self._guest,
            self._checked,
        )


@dataclass(frozen=True)
class Report:
    """A whole run: its captures in the order given, and the rule catalogue it used.

    ``captures`` is any sized collection that can be iterated more than once: a tuple,
    or a spool on disk for a fleet (:class:`~conformance.fleet.Spool`), so that reporters
    that go through it capture by capture keep memory flat however large the fleet.
    """

    version: str
    captures: Collection[CaptureResult]
    catalogue: Mapping[str, RuleInfo] = field(default_factory=dict)
    """Metadata for every id in ``rules`` or ``diagnostics`` of any capture."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Every finding, in memory at once: for small reports and tests."""
        return tuple(d for capture in self.captures for d in capture.diagnostics)

    def totals(self) -> Totals:
        """Counts of captures, files, findings by severity and skipped checks, in one
        pass (none for captures that keep a :class:`Tally` of themselves, as a spool
        does); a series' own result adds neither a capture nor files."""
        tally = getattr(self.captures, "tally", None)
        if not isinstance(tally, Tally):
            tally = Tally()
            for capture in self.captures:
                tally.add(capture)
        return tally.totals()

    def count(self, severity: Severity) -> int:
        return self.totals().count(severity)

    @property
    def failed(self) -> bool:
        """True when any finding is an error: the run's exit status is then 1."""
        return self.count(Severity.ERROR) > 0


def prewritten(
    captures: Collection[CaptureResult], format: str, options: Any
) -> Iterable[str] | None:
    """Each capture's part of a ``format`` report written with ``options`` (a
    :class:`~conformance.report.options.ReportOptions`), in order, as written ahead by
    whoever made the results (a fleet's workers, while they checked), when ``captures``
    keeps them for every capture, written with the same options
    (:meth:`Spool.prewritten <conformance.fleet.Spool.prewritten>`); else None, and the
    reporter writes each part itself."""
    method = getattr(captures, "prewritten", None)
    return method(format, options) if callable(method) else None
