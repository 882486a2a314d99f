"""Checking captures: parse every file, then run the rules of each scope.

:func:`check_capture` parses the known files of one capture (in the exact layout: a
capture is real kernel output), runs the file rules on each and the capture rules on the
whole, and returns a :class:`~conformance.report.model.CaptureResult`. :func:`check_series`
does that for each capture of a series and adds the rules between consecutive captures.
Plain functions of their inputs: nothing here reads files or prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from . import schemas
from .capture import MANIFEST, Capture, CapturedFile
from .diagnostics import Diagnostic, Location, Severity, sorted_diagnostics
from .errors import BalloonError
from .model import Layout, ParseResult
from .pipeline import parse
from .report.model import CaptureResult
from .rules import RULES, Rule, Scope


@dataclass(frozen=True)
class CheckOptions:
    """What the user asked of a check run."""

    strict: bool = False
    """Warnings become errors, and notes about unknown fields become warnings."""
    select: frozenset[str] = frozenset()
    """Only these diagnostic ids (or id prefixes ending in '.'); empty: all."""
    ignore: frozenset[str] = frozenset()
    kernel: str | None = None
    """Kernel release that overrides the manifest's, e.g. ``6.15.0``."""
    layout: Layout = Layout.EXACT


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
        return [p for p in self.parsed if p.result.format == format_id]

    def first(self, format_id: str) -> ParsedFile | None:
        found = self.all(format_id)
        return found[0] if found else None

    @property
    def location(self) -> Location:
        return Location(path=self.capture.name)


_RELEASE = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})(?:\.([0-9]{1,9}))?(?![0-9])")
"""``MAJOR.MINOR[.PATCH]`` at the start of a release; a part of ten digits or more is no
kernel's (and would make ``int`` slow, or raise past Python's digit limit)."""


def kernel_version(release: str | None) -> tuple[int, ...] | None:
    """``(6, 15, 0)`` from ``6.15.0-100-generic``; None when there is no release or
    ``release`` does not start as a kernel release does."""
    if not release:
        return None
    match = _RELEASE.match(release)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def view_of(capture: Capture, options: CheckOptions) -> CaptureView:
    """Parse every file of ``capture``; the view the capture rules read."""
    parsed = []
    for file in capture.files:
        try:
            result = parse(
                file.data,
                format=file.format,
                layout=options.layout,
                path=file.path,
                context=file.context,
            )
        except BalloonError:  # a format the path named but the text does not fit
            continue
        parsed.append(ParsedFile(file, result))
    manifest = capture.manifest or {}
    release = options.kernel or manifest.get("kernel_release")
    page_size = manifest.get("page_size")
    return CaptureView(
        capture,
        tuple(parsed),
        kernel_version(release if isinstance(release, str) else None),
        page_size if isinstance(page_size, int) and page_size > 0 else 4096,
    )


def _manifest_findings(capture: Capture) -> list[Diagnostic]:
    """capture.json against its schema (schemas/capture.schema.json)."""
    if capture.manifest is None:
        return []
    where = Location(path=f"{capture.name}/{MANIFEST}")
    return [
        Diagnostic("capture.manifest", Severity.ERROR, f"{error.json_path}: {error.message}", where)
        for error in schemas.iter_errors("capture.schema.json", capture.manifest)
    ]


def check_capture(capture: Capture, options: CheckOptions = CheckOptions()) -> CaptureResult:
    """Every finding in one capture: reading, parsing, schemas, file and capture rules."""
    return _check_view(view_of(capture, options), options)


def _check_view(view: CaptureView, options: CheckOptions) -> CaptureResult:
    capture = view.capture
    found: list[Diagnostic] = [*capture.diagnostics, *_manifest_findings(capture)]
    evaluated: set[str] = set()
    for parsed in view.parsed:
        found += parsed.result.diagnostics
        for rule in _rules(Scope.FILE, options):
            if parsed.result.format in rule.formats:
                evaluated.add(rule.id)
                found += rule.run(parsed)
    for rule in _rules(Scope.CAPTURE, options):
        evaluated.add(rule.id)
        found += rule.run(view)
    return _result(capture.name, [p.file.path for p in view.parsed], found, evaluated, options)


def check_series(
    captures: Sequence[Capture], options: CheckOptions = CheckOptions()
) -> list[CaptureResult]:
    """Each capture's result, then one result for the rules between consecutive ones."""
    views = [view_of(capture, options) for capture in captures]
    results = [_check_view(view, options) for view in views]
    found: list[Diagnostic] = []
    evaluated: set[str] = set()
    for before, after in zip(views, views[1:]):
        for rule in _rules(Scope.SERIES, options):
            evaluated.add(rule.id)
            found += rule.run(before, after)
    name = "series:" + " -> ".join(c.name for c in captures)
    files = [p.file.path for v in views for p in v.parsed]
    return [*results, _result(name, files, found, evaluated, options)]


def _result(
    name: str,
    files: Iterable[str],
    found: Iterable[Diagnostic],
    evaluated: set[str],
    options: CheckOptions,
) -> CaptureResult:
    kept = [_adjust(d, options) for d in found if _selected(d.id, options)]
    ids = evaluated | {d.id for d in kept}
    return CaptureResult(name, tuple(files), tuple(sorted_diagnostics(kept)), tuple(sorted(ids)))


def _rules(scope: Scope, options: CheckOptions) -> list[Rule]:
    """The selected rules of ``scope`` (schema-backed ones too: they count as evaluated)."""
    return [r for r in RULES if r.scope is scope and _selected(r.id, options)]


def _selected(rule_id: str, options: CheckOptions) -> bool:
    def matches(patterns: frozenset[str]) -> bool:
        return any(
            rule_id == p
            or (p.endswith(".") and rule_id.startswith(p))
            or rule_id.startswith(p + ".")
            for p in patterns
        )

    if options.select and not matches(options.select):
        return False
    return not matches(options.ignore)


def _adjust(diagnostic: Diagnostic, options: CheckOptions) -> Diagnostic:
    """``--strict``: warnings are errors, notes about unknown things are warnings."""
    if not options.strict:
        return diagnostic
    if diagnostic.severity is Severity.WARNING:
        return diagnostic.with_severity(Severity.ERROR)
    if diagnostic.severity is Severity.NOTE and "unknown" in diagnostic.id:
        return diagnostic.with_severity(Severity.WARNING)
    return diagnostic
