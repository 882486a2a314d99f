"""The ``check``, ``rules`` and ``explain`` commands of ``balloon-conform``.

``check`` reads captures (a capture directory or tarball, a fleet directory of them, or
with ``--series`` the captures T0 T1 ... of one guest), runs the checker and writes the
report; the exit status is 1 when any error was found.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any, TextIO

from . import __version__, cli_capture
from .capture import Limits, fleet_members, is_capture, read_capture
from .check import CheckOptions, check_series, kernel_version
from .diagnostics import Severity
from .errors import InputError, UsageError
from .escape import safe_text
from .fleet import spool_results
from .report import REPORTERS, ReportOptions, write_report
from .report.model import CaptureResult, Report
from .rules import RULES, RuleInfo, describe, get_rule

EXIT_OK, EXIT_ERRORS = 0, 1


def add_commands(commands: Any) -> None:
    """Register ``check``, ``rules`` and ``explain`` on the CLI's subparsers."""
    check = commands.add_parser("check", help="check captures against the schemas and rules")
    check.add_argument("paths", nargs="*", metavar="CAPTURE", help="capture, tarball or fleet")
    cli_capture.add_check_options(check)  # --live, --max-file-size
    check.add_argument(
        "--series", action="store_true", help="the captures are T0 T1 ... of one guest"
    )
    check.add_argument("--output-format", choices=sorted(REPORTERS), default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here (default: stdout)")
    check.add_argument(
        "--select", metavar="RULE,...", default="", help="only these ids or prefixes"
    )
    check.add_argument(
        "--ignore", metavar="RULE,...", default="", help="leave out these ids or prefixes"
    )
    check.add_argument("--strict", action="store_true", help="warnings are errors")
    check.add_argument(
        "--kernel", metavar="VERSION", type=_release, help="kernel release, over capture.json's"
    )
    check.add_argument("--timestamp", action="store_true", help="record the time in the report")
    check.add_argument(
        "-j", "--jobs", type=_positive, default=1, metavar="N", help="worker processes for a fleet"
    )
    check.set_defaults(handler=run_check)

    rules = commands.add_parser("rules", help="list the rules")
    rules.set_defaults(handler=run_rules)
    explain = commands.add_parser("explain", help="what a rule checks, why, and a violation")
    explain.add_argument("rule", metavar="RULE")
    explain.set_defaults(handler=run_explain)


def _ids(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def run_check(args: argparse.Namespace) -> int:
    options = CheckOptions(
        strict=args.strict, select=_ids(args.select), ignore=_ids(args.ignore), kernel=args.kernel
    )
    results: Collection[CaptureResult]
    if args.live:
        results = cli_capture.check_live(args, options)
    else:
        paths = [Path(p) for p in args.paths]
        limits = cli_capture.limits_of(args)
        results = _check_paths(paths, args.series, options, args.jobs, limits, args.debug)
    report = Report(__version__, results, _catalogue(results))
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat() if args.timestamp else None
    _write(report, args.output_format, args.output, ReportOptions(timestamp=stamp))
    return EXIT_ERRORS if report.failed else EXIT_OK


def _catalogue(results: Collection[CaptureResult]) -> dict[str, RuleInfo]:
    """Metadata of every id evaluated or reported, with the severity it was reported at."""
    seen: dict[str, Severity] = {}
    evaluated: set[str] = set()
    for result in results:
        evaluated.update(result.rules)
        for diagnostic in result.diagnostics:
            seen[diagnostic.id] = max(diagnostic.severity, seen.get(diagnostic.id, Severity.NOTE))
    return {i: describe(i, seen.get(i)) for i in sorted(evaluated | set(seen))}


def _check_paths(
    paths: list[Path],
    series: bool,
    options: CheckOptions,
    jobs: int = 1,
    limits: Limits | None = None,
    debug: bool = False,
) -> Collection[CaptureResult]:
    if not paths:
        raise UsageError("name a CAPTURE to check (or --live for this guest)")
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such capture")
    if series:
        if len(paths) < 2:
            raise UsageError("--series needs at least two captures (T0 T1 ...)")
        return check_series([read_capture(p, limits) for p in paths], options)
    members: list[Path] = []
    for path in paths:
        found = [path] if is_capture(path) else fleet_members(path)
        if not found:
            raise InputError(f"{path}: neither a capture nor a directory of captures")
        members += found
    return spool_results(members, options, jobs, limits, debug)


def _release(text: str) -> str:
    if kernel_version(text) is None:
        raise argparse.ArgumentTypeError(
            f"{safe_text(text, 60)!r} is not a kernel release such as 6.15.0 "
            "(MAJOR.MINOR[.PATCH], up to nine digits a part)"
        )
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _write(report: Report, fmt: str, output: str | None, options: ReportOptions) -> None:
    if output is None:
        write_report(report, fmt, sys.stdout, options)
        return
    try:
        with open(output, "w", encoding="utf-8") as stream:
            write_report(report, fmt, stream, options)
    except OSError as exc:
        raise InputError(f"{output}: cannot write the report: {exc.strerror}") from exc


def run_rules(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    out = stream or sys.stdout
    width = max(len(rule.id) for rule in RULES)
    for rule in RULES:
        out.write(
            f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.scope.value:<7}  {rule.title}\n"
        )
    return EXIT_OK


def run_explain(args: argparse.Namespace) -> int:
    rule = get_rule(args.rule)
    lines = [
        rule.id,
        f"  {rule.title}",
        f"  severity: {rule.severity.value}; scope: {rule.scope.value}",
        f"  rests on: {rule.source}",
    ]
    if rule.tolerance:
        lines.append(f"  tolerance: {rule.tolerance}")
    lines.append("  example of a violation:")
    lines += [f"    {line}" for line in rule.example.splitlines()]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK
