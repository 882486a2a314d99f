"""The ``check``, ``rules`` and ``explain`` commands of ``balloon-conform``.

``check`` reads captures (a capture directory or tarball, a fleet directory of them, or
with ``--series`` the captures T0 T1 ... of one guest, the directory ``capture --series``
wrote, or a fleet of such directories), runs the checker and writes the report; the exit
status is 1 when any error was found, 2 for a usage error: an option naming no known
check, a ``--kernel`` that is no release, no capture found, or a fleet of series given
without ``--series``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import stat
import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__, cli_capture, output
from .capture import (
    Capture,
    Limits,
    fleet_members,
    fleet_strays,
    has_guest_root,
    is_capture,
    read_capture,
)
from .check import CheckOptions, check_series, kernel_version, stray_result
from .errors import InputError, UsageError
from .escape import safe_text
from .fleet import Spool, Summary, spool_results
from .records import replace
from .report import REPORTERS, ReportOptions, part_options
from .report.model import CaptureResult, Report
from .report.targets import STDOUT, Target, targets, write_targets
from .rules import (
    EXPLANATIONS,
    RULES,
    RuleInfo,
    check_patterns,
    describe,
    get_rule,
    members,
    suggest,
)

EXIT_OK, EXIT_ERRORS = 0, 1
SNAPSHOT = re.compile(r"t\d+")
"""The names ``capture --series`` gives its snapshots: t0, t1 ..."""


def add_commands(commands: Any) -> None:
    """Register ``check``, ``rules`` and ``explain`` on the CLI's subparsers."""
    check = commands.add_parser("check", help="check captures against the schemas and rules")
    check.add_argument("paths", nargs="*", metavar="CAPTURE", help="capture, tarball or fleet")
    cli_capture.add_check_options(check)  # --live, --max-file-size
    check.add_argument(
        "--series", action="store_true", help="the captures are T0 T1 ... of one guest"
    )
    _add_report_options(check)
    check.add_argument(
        "--select", metavar="RULE,...", default="", help="only these ids or prefixes"
    )
    check.add_argument(
        "--ignore", metavar="RULE,...", default="", help="leave out these ids or prefixes"
    )
    check.add_argument("--strict", action="store_true", help="warnings are errors")
    check.add_argument(
        "-v", "--verbose", action="store_true", help="also list the checks that were skipped"
    )
    check.add_argument("--kernel", metavar="VERSION", help="kernel release, over capture.json's")
    check.add_argument("--timestamp", action="store_true", help="record the time in the report")
    check.add_argument(
        "-j", "--jobs", type=_positive, default=1, metavar="N", help="worker processes for a fleet"
    )
    check.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="check a fleet on the Dask cluster of this scheduler address (tcp://host:8786); "
        "the workers read the captures at the same paths",
    )
    check.set_defaults(handler=run_check)

    rules = commands.add_parser("rules", help="list the rules")
    rules.set_defaults(handler=run_rules)
    explain = commands.add_parser("explain", help="what a rule checks, why, and a violation")
    explain.add_argument("rule", metavar="RULE")
    explain.set_defaults(handler=run_explain)


def _add_report_options(check: argparse.ArgumentParser) -> None:
    formats = ",".join(sorted(REPORTERS))
    check.add_argument(
        "--report",
        action="append",
        metavar="FORMAT[:PATH]",
        help=f"write a report ({formats}) to PATH (default: stdout); repeatable",
    )
    check.add_argument("--output-format", choices=sorted(REPORTERS), action=_Once)
    check.add_argument("--output", metavar="FILE", action=_Once, help="write the report here")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 whatever was found")
    check.add_argument(
        "--no-annotations", action="store_true", help="no GitHub annotations under Actions"
    )
    check.add_argument(
        "--base-dir", metavar="DIR", help="report paths relative to DIR (default: here)"
    )
    check.add_argument("--category", metavar="ID", help="SARIF run category (matrix jobs)")


class _Once(argparse.Action):
    """An option that may be given once: repeating it is a usage error, not the last wins."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(f"{option} given twice (use --report FORMAT:PATH for several reports)")
        setattr(namespace, self.dest, values)


def _ids(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def run_check(args: argparse.Namespace) -> int:
    options = CheckOptions(
        strict=args.strict, select=_ids(args.select), ignore=_ids(args.ignore), kernel=args.kernel
    )
    check_patterns("--select", options.select)
    check_patterns("--ignore", options.ignore)
    if args.kernel is not None and kernel_version(args.kernel) is None:
        raise UsageError(
            f"--kernel {safe_text(args.kernel, 60)!r} is not a kernel release such as 6.1.0 "
            "or 6.15.0-100-generic"
        )
    chosen = destinations(targets(args.report, args.output_format, args.output))
    report_options = ReportOptions(
        verbose=args.verbose,
        base_dir=args.base_dir or os.getcwd(),  # SARIF says where %SRCROOT% was
        category=args.category,
    )
    results: Collection[CaptureResult]
    if args.dask is not None:
        _dask_fits(args)
    if args.live:
        results = cli_capture.check_live(args, options)
    else:
        paths = [Path(p) for p in args.paths]
        limits = cli_capture.limits_of(args)
        if args.dask is not None:
            results = _check_on_dask(args.dask, paths, options, limits, args.debug)
        else:
            # what workers may write ahead: not a part that reads the time, taken at the end
            parts = {
                t.format
                for t in chosen
                if not (args.timestamp and "timestamp" in part_options(t.format))
            }
            results = _check_paths(
                paths, args.series, options, args.jobs, limits, args.debug, parts, report_options
            )
    if not results:
        raise InputError("no capture found: nothing to check")
    report = Report(__version__, results, _catalogue(results))
    if nothing_checked(report, options):
        raise InputError(_why_nothing(results, options))
    if args.timestamp:
        report_options = replace(report_options, timestamp=_utc_now())
    write_targets(report, chosen, report_options, annotations=not args.no_annotations)
    return EXIT_ERRORS if report.failed and not args.exit_zero else EXIT_OK


PARSING = ("capture", "text", "parse", "layout", "schema")
"""The families of the checks every capture read gets (its reading, and its files'
parser, layout and schema)."""


def nothing_checked(report: Report, options: CheckOptions) -> bool:
    """True when the run checked nothing: no rule ran on any capture and nothing beyond a
    note was found, and either no file was read or the selection left out what reading
    a file checks. Such a run is never a success (exit status 2), whatever the reason:
    a selection of checks that could not run here, captures of no balloon driver's."""
    totals = report.totals()
    if totals.checked:
        return False
    parsing = not options.select or any(p.split(".")[0] in PARSING for p in options.select)
    return not (parsing and totals.files)


def _why_nothing(results: Iterable[CaptureResult], options: CheckOptions) -> str:
    """What the user reads when nothing was checked: the checks selected, and why each
    could not run (the first few)."""
    reasons: dict[str, str] = {}
    for result in results:
        for skip in result.skipped:
            reasons.setdefault(skip.rule, skip.reason)
    said = "; ".join(f"{rule}: {why}" for rule, why in list(reasons.items())[:3])
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    chosen = f"--select {','.join(sorted(options.select))}" if options.select else "the checks"
    if not reasons:
        return f"nothing was checked: {chosen} matched no check that could run on these captures"
    return f"nothing was checked: {chosen} could not run here ({said}{more})"


def destinations(chosen: Sequence[Target]) -> list[Target]:
    """``chosen`` with each name of standard output (``/dev/stdout``, ``/dev/fd/1`` ...)
    spelled ``-``, so that the report is written as ``-`` is (last, and a reader that goes
    away is exit status 141); refuses, before anything is written, two reports for one
    place however its names are spelled (``a`` and ``$PWD/a``, a folder and a link to it,
    ``-`` and ``/dev/stdout``, a file and standard output open on it) and a report for a
    standard stream that is closed."""
    found = [Target(t.format, STDOUT) if output.standard_stream(t.path) == 1 else t for t in chosen]
    streams = [t.format for t in found if t.path == STDOUT]
    if len(streams) > 1:
        raise UsageError(f"only one report can go to standard output, not {', '.join(streams)}")
    seen: dict[tuple[object, ...], str] = {}
    for target in found:
        fd = output.standard_stream(target.path)
        if fd is not None:
            output.standard(fd)
        place = output.destination(target.path)
        if place in seen:
            raise UsageError(f"{_named(target.path)} is named for two reports (as {seen[place]})")
        seen[place] = _named(target.path)
    return found


def _named(path: str) -> str:
    return "standard output" if path == STDOUT else safe_text(path, 200)


def _utc_now() -> str:
    """The time now in UTC as ISO 8601 ending in ``Z``, as SARIF and GitHub read it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec="seconds").replace("+00:00", "Z")


def _catalogue(results: Collection[CaptureResult]) -> dict[str, RuleInfo]:
    """Metadata of every id evaluated or reported, with the severity it was reported at
    (what a spool counted as results came, else counted here)."""
    summary = results.summary if isinstance(results, Spool) else Summary(results)
    seen, evaluated = summary.reported, summary.evaluated
    return {i: describe(i, seen.get(i)) for i in sorted(evaluated | set(seen))}


def _check_paths(
    paths: list[Path],
    series: bool,
    options: CheckOptions,
    jobs: int = 1,
    limits: Limits | None = None,
    debug: bool = False,
    parts: Collection[str] = (),
    report: ReportOptions | None = None,
) -> Collection[CaptureResult]:
    if not paths:
        raise UsageError("name a CAPTURE to check (or --live for this guest)")
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such capture")
    spool = Spool()
    if series:
        for group in _series_groups(paths):
            for result in check_series([read_capture(p, limits) for p in group], options):
                spool.append(result)
        return spool
    members: list[Path] = []
    for path in paths:
        members += _members(path)
    strays = _strays(paths)
    spool = spool_results(members, options, jobs, limits, debug, parts, report)
    return _with(spool, strays, options)


def _strays(paths: list[Path]) -> list[Capture]:
    """A capture of one note for each file beside the captures of a fleet named in
    ``paths`` (a README, a capture's file one level too high), listed with the members:
    said after the captures, never dropped without a word."""
    strays: list[Capture] = []
    for path in paths:
        if _is_real_directory(path) and not is_capture(path):
            strays += fleet_strays(path)
    return strays


def _with(spool: Spool, strays: list[Capture], options: CheckOptions) -> Spool:
    for stray in strays:
        spool.append(stray_result(stray, options))
    return spool


def _dask_fits(args: argparse.Namespace) -> None:
    if args.live or args.series or args.jobs != 1:
        option = "--live" if args.live else "--series" if args.series else "-j"
        raise UsageError(f"--dask checks a fleet on the cluster's workers: leave out {option}")


def _check_on_dask(
    address: str, paths: list[Path], options: CheckOptions, limits: Limits, debug: bool
) -> Collection[CaptureResult]:
    """The fleet's captures checked on a Dask cluster (dask imported only now)."""
    from . import fleet_dask

    fleet_dask.import_distributed()  # the install hint comes before any listing
    if not paths:
        raise UsageError("name a CAPTURE to check (or --live for this guest)")
    members: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such capture")
        members += _members(path)
    strays = _strays(paths)
    return _with(fleet_dask.spool_dask(address, members, options, limits, debug), strays, options)


def snapshots(path: Path) -> list[Path]:
    """The snapshots t0, t1 ... in a directory ``capture --series`` wrote, in natural
    order; empty when ``path`` is not such a directory."""
    # a directory with a guest's root is a capture (the usual member of a fleet, asked
    # of each): one look, before the two that settle the rest
    if has_guest_root(path) or not _is_real_directory(path) or is_capture(path):
        return []
    return _shots(fleet_members(path))


def _is_real_directory(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _shots(found: list[Path]) -> list[Path]:
    """The members of a directory, in natural order, when they are snapshots t0, t1 ...;
    else empty."""
    shots = [p for p in found if SNAPSHOT.fullmatch(p.name) and is_capture(p)]
    if len(shots) < 2 or len(shots) != len(found):
        return []
    return sorted(shots, key=lambda p: int(p.name[1:]))


def _members(path: Path) -> list[Path]:
    """The captures to check at ``path`` without ``--series``: itself, or its members;
    a usage error when they are the snapshots of a series."""
    if is_capture(path):
        return [path]
    found = fleet_members(path)
    if _is_real_directory(path) and _shots(found):  # snapshots(path), listed once
        raise UsageError(
            f"{path} holds the snapshots t0, t1 ... of one guest (as 'capture --series' "
            f"writes them): check them as a series with 'balloon-conform check --series {path}'"
        )
    if not found:
        raise InputError(f"{path}: neither a capture nor a directory of captures")
    series = [p.name for p in found if snapshots(p)]
    if series:
        listed = ", ".join(series[:3]) + (" ..." if len(series) > 3 else "")
        raise UsageError(
            f"{path}: {len(series)} of its members ({listed}) hold snapshots t0, t1 ... of "
            f"one guest each: check them as series with 'balloon-conform check --series {path}'"
        )
    return found


def _series_groups(paths: list[Path]) -> list[list[Path]]:
    """The captures of each series ``paths`` name: the captures themselves (one series),
    directories ``capture --series`` wrote (one each), or fleets of those (one per member)."""
    if all(is_capture(path) for path in paths):
        if len(paths) < 2:
            raise UsageError(
                "--series needs at least two captures (T0 T1 ...) or the directory of them"
            )
        return [paths]
    groups: list[list[Path]] = []
    for path in paths:
        shots = snapshots(path)
        if shots:
            groups.append(shots)
            continue
        guests = [snapshots(member) for member in fleet_members(path)] if path.is_dir() else []
        if not guests or not all(guests):
            raise UsageError(
                f"{path}: with --series, give the captures of one series, the directory "
                "'capture --series' wrote (t0, t1 ...), or a directory of such directories"
            )
        groups += guests
    return groups


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def run_rules(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    out = stream or sys.stdout
    width = max(len(rule.id) for rule in RULES)
    for rule in RULES:
        out.write(
            f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.scope.value:<7}  {rule.title}\n"
        )
    return EXIT_OK


def run_explain(args: argparse.Namespace) -> int:
    """What an id means: a rule's documentation, a finding's explanation, or the members
    of a family (``explain capture``)."""
    name = args.rule
    if name in EXPLANATIONS:
        lines = _explained(name)
    elif name.rstrip(".") in {r.id for r in RULES}:
        lines = _rule_lines(name.rstrip("."))
    elif members(name):
        found = members(name)
        width = max(len(i) for i in found)
        lines = [f"{name.rstrip('.')}: {len(found)} ids ('balloon-conform explain ID' for one)"]
        lines += [
            f"  {i:<{width}}  {describe(i).severity.value:<7}  {describe(i).title}" for i in found
        ]
    else:
        close = suggest(name)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UsageError(f"unknown id {name!r}{hint} ('balloon-conform rules' lists the rules)")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _rule_lines(rule_id: str) -> list[str]:
    rule = get_rule(rule_id)
    info = rule.info
    lines = [
        rule.id,
        f"  {rule.title}",
        f"  severity: {rule.severity.value}; scope: {rule.scope.value}",
        *_wrapped("rests on: " + info.source),
    ]
    if rule.tolerance:
        lines += _wrapped("tolerance: " + rule.tolerance)
    lines.append("  example of a violation:")
    lines += [f"    {line}" for line in rule.example.splitlines()]
    return lines


def _explained(finding_id: str) -> list[str]:
    info = describe(finding_id)
    return [
        finding_id,
        f"  {info.title}",
        f"  severity: {info.severity.value} (usually); scope: {info.scope.value}",
        *_wrapped(info.source),
    ]


def _wrapped(text: str) -> list[str]:
    import textwrap  # for explain only

    return textwrap.wrap(text, 96, initial_indent="  ", subsequent_indent="    ")
