"""Checking captures: parse every file, then run the rules of each scope.

:func:`check_capture` parses the known files of one capture (in the exact layout: a
capture is real kernel output), runs the file rules on each and the capture rules on the
whole, and returns a :class:`~conformance.report.model.CaptureResult`. :func:`check_series`
does that for each capture of a series, in the order the snapshots were taken, and adds
the rules between consecutive captures of one boot. A rule that cannot run on a capture
(:meth:`~conformance.rules.base.Rule.skip_reason`) is recorded as skipped with its reason,
and a capture from which nothing was read is an error (``capture.empty``). Plain functions
of their inputs: nothing here reads files or prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from . import schemas, series
from .capture import MANIFEST, Capture
from .capture_manifest import said
from .diagnostics import Diagnostic, Location, Severity, sorted_diagnostics
from .errors import BalloonError
from .model import Layout
from .pipeline import parse
from .records import replace
from .report.model import CaptureResult, Skip
from .rules import RULES, Rule, Scope
from .rules.file_rules import is_balloon_device
from .view import CaptureView, ParsedFile

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass


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
    """Parse every file of ``capture``; the view the capture rules read. A file whose
    format cannot be told is not dropped silently: the view carries a note about it."""
    parsed = []
    unread: list[Diagnostic] = []
    for file in capture.files:
        try:
            result = parse(
                file.data,
                format=file.format,
                layout=options.layout,
                path=file.path,
                context=file.context,
            )
        except BalloonError as exc:  # a format the path named but the text does not fit
            where = Location(path=file.path)
            unread.append(Diagnostic("capture.unknown-file", Severity.NOTE, str(exc), where))
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
        {"unread": tuple(unread)} if unread else {},
    )


def _manifest_findings(view: CaptureView) -> list[Diagnostic]:
    """capture.json against its schema (schemas/capture.schema.json)."""
    where = Location(path=f"{view.capture.name}/{MANIFEST}")
    return [
        Diagnostic(
            "capture.manifest", Severity.ERROR, f"{schemas.json_path(error)}: {said(error)}", where
        )
        for error in view.manifest_errors
    ]


def check_capture(capture: Capture, options: CheckOptions = CheckOptions()) -> CaptureResult:
    """Every finding in one capture: reading, parsing, schemas, file and capture rules;
    a check between captures that ``options`` selects by name is said to be skipped."""
    return _check_view(view_of(capture, options), options, alone=True)


ALONE = "a check between captures over time: it runs with --series"


EMPTY = (
    "no balloon-related file was read from this capture, so nothing was checked",
    "a capture holds proc/meminfo, proc/vmstat, sys/kernel/debug/hv-balloon ... or files "
    "named by format id; 'balloon-conform capture DIR' writes one",
)


def _check_view(
    view: CaptureView, options: CheckOptions, extra: Sequence[Diagnostic] = (), alone: bool = False
) -> CaptureResult:
    capture = view.capture
    found: list[Diagnostic] = [*capture.diagnostics, *_manifest_findings(view), *extra]
    found += view.extra.get("unread", ())
    if not any(map(_balloon_related, view.parsed)) and not _refused(capture):
        found.append(Diagnostic("capture.empty", Severity.ERROR, EMPTY[0], view.location, EMPTY[1]))
    evaluated: set[str] = set()
    skipped: dict[str, str] = {}
    for parsed in view.parsed:
        found += parsed.result.diagnostics
    for rule, given in _plan(options, view.formats, view.kernel):
        reason = rule.reason_after(given, view)
        if reason is not None:
            skipped[rule.id] = reason
            continue
        evaluated.add(rule.id)
        if rule.scope is Scope.CAPTURE:
            found += rule.run(view)
            continue
        for parsed in view.parsed:
            if parsed.result.format in rule.formats:
                found += rule.run(parsed)
    if alone and options.select:  # named, and not run: said (else every run would say it)
        skipped.update((rule.id, ALONE) for rule in _rules(Scope.SERIES, options))
    files = [p.file.path for p in view.parsed]
    return _result(capture.name, files, found, evaluated, options, skipped)


def stray_result(capture: Capture, options: CheckOptions = CheckOptions()) -> CaptureResult:
    """The result of what reading said of something that is no capture (a fleet's stray
    file, :func:`~conformance.capture.fleet_strays`): its note, and no checks to skip."""
    return _result(capture.name, (), capture.diagnostics, set(), options)


def check_series(
    captures: Sequence[Capture], options: CheckOptions = CheckOptions()
) -> list[CaptureResult]:
    """Each capture's result, in the order the snapshots were taken, then for each run of
    captures of one boot one result for the rules between consecutive captures: a reboot
    (boot id changed, uptime went back) starts a new series instead of counter errors."""
    views = [view_of(capture, options) for capture in series.in_order(captures)]
    results: list[CaptureResult] = []
    runs = series.boots(views)
    for run in runs:
        for index, view in enumerate(run):
            extra = [series.reboot_note(run[0].location, runs, run)] if index == 0 else []
            results.append(_check_view(view, options, [d for d in extra if d is not None]))
        if len(run) > 1:
            results.append(_check_steps(run, options))
    between = _rules(Scope.SERIES, options)
    if between and views and all(len(run) < 2 for run in runs):
        # not one boot of two captures: the rules between captures never ran, and say so
        why = "no two captures of one boot to compare (each starts a boot: series.reboot)"
        name = "series:" + " -> ".join(v.capture.name for v in views)
        skipped = {rule.id: why for rule in between}
        results.append(replace(_result(name, (), (), set(), options, skipped), series=True))
    return results


def _check_steps(views: Sequence[CaptureView], options: CheckOptions) -> CaptureResult:
    """The series rules on each pair of consecutive captures of one boot."""
    found: list[Diagnostic] = []
    evaluated: set[str] = set()
    reasons: dict[str, str] = {}
    for before, after in zip(views, views[1:]):
        for rule in _rules(Scope.SERIES, options):
            reason = rule.skip_reason(before, after)
            if reason is not None:
                reasons.setdefault(rule.id, reason)
                continue
            evaluated.add(rule.id)
            found += rule.run(before, after)
    # a rule that ran between any two captures was checked; skipped only if it never ran
    skipped = {rule: why for rule, why in reasons.items() if rule not in evaluated}
    name = "series:" + " -> ".join(v.capture.name for v in views)
    files = [p.file.path for v in views for p in v.parsed]
    return replace(_result(name, files, found, evaluated, options, skipped), series=True)


def _result(
    name: str,
    files: Iterable[str],
    found: Iterable[Diagnostic],
    evaluated: set[str],
    options: CheckOptions,
    skipped: Mapping[str, str] | None = None,
) -> CaptureResult:
    kept = list(found)
    if options.select or options.ignore or options.strict:  # else each finding stays
        kept = [_adjust(d, options) for d in kept if _kept(d.id, options)]
    ids = evaluated | {d.id for d in kept}
    skips = tuple(Skip(rule, why) for rule, why in sorted((skipped or {}).items()))
    return CaptureResult(
        name, tuple(files), tuple(sorted_diagnostics(kept)), tuple(sorted(ids)), skips
    )


def _balloon_related(parsed: ParsedFile) -> bool:
    """Every file read is, but the features of a virtio device other than a balloon."""
    return parsed.result.format != "virtio-features" or is_balloon_device(parsed)


def _kept(diagnostic_id: str, options: CheckOptions) -> bool:
    """A selection never hides that nothing was checked; only naming it ignores it."""
    if diagnostic_id == "capture.empty":
        return diagnostic_id not in options.ignore
    return selected(diagnostic_id, options)


def _refused(capture: Capture) -> bool:
    """Whether the reader already said, as an error on the whole capture, why nothing was
    read (a link refused, a member gone), or that it is no capture (a fleet's stray file):
    one finding per fault, no ``capture.empty`` too."""
    return any(
        (d.severity is Severity.ERROR or d.id == "capture.unknown-file")
        and d.location.path == capture.name
        for d in capture.diagnostics
    )


@lru_cache(maxsize=256)
def _plan(
    options: CheckOptions, formats: frozenset[str], kernel: tuple[int, ...] | None
) -> tuple[tuple[Rule, str | None], ...]:
    """The selected file and capture rules, in the order they run on each capture, each
    with the reason it cannot run on a capture of ``formats`` and ``kernel`` that no
    condition needs asking (:meth:`Rule.reason_given`): a fleet has a few such kinds of
    capture, so this is worked out once for each, not once per capture and rule."""
    rules = _rules(Scope.FILE, options) + _rules(Scope.CAPTURE, options)
    return tuple((rule, rule.reason_given(formats, kernel)) for rule in rules)


@lru_cache(maxsize=64)
def _rules(scope: Scope, options: CheckOptions) -> tuple[Rule, ...]:
    """The selected rules of ``scope`` (schema-backed ones too: they count as evaluated);
    the same for every capture of a run, so chosen once."""
    return tuple(r for r in RULES if r.scope is scope and selected(r.id, options))


def selected(rule_id: str, options: CheckOptions) -> bool:
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
