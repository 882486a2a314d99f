"""The rule catalogue: every documented invariant, by scope, in one explicit tuple.

``RULES`` holds the rules that have a check function here. Diagnostics of the parsers and
the schemas (``parse.*``, ``layout.*``, ``text.*``, ``schema.*``, ``capture.*`` and
format-specific ids) are described by :func:`describe`, so reporters can document any id
that appears in a report.
"""

from __future__ import annotations

from ..diagnostics import Severity
from ..errors import UsageError
from .base import Rule, RuleInfo, Scope
from .capture_rules import CAPTURE_RULES
from .file_rules import FILE_RULES
from .series_rules import SERIES_RULES

RULES: tuple[Rule, ...] = (*FILE_RULES, *CAPTURE_RULES, *SERIES_RULES)
_BY_ID = {rule.id: rule for rule in RULES}

FAMILIES = {
    "text": ("the bytes of a file: encoding, NUL bytes, byte-order mark", Severity.ERROR),
    "parse": (
        "the shape of a line or of the file: labels, numbers, order, missing lines",
        Severity.ERROR,
    ),
    "layout": (
        "the kernel's exact byte layout: padding, widths, separators, line ends",
        Severity.WARNING,
    ),
    "schema": ("a value the format's JSON Schema does not allow", Severity.ERROR),
    "capture": (
        "reading a capture: links, special files, size limits, the manifest",
        Severity.WARNING,
    ),
}


def get_rule(rule_id: str) -> Rule:
    """The rule ``rule_id``; the error lists the known ids."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise UsageError(f"unknown rule {rule_id!r} (known: {', '.join(sorted(_BY_ID))})") from None


def describe(diagnostic_id: str, seen: Severity | None = None) -> RuleInfo:
    """Metadata for any diagnostic id: the rule, or the family it belongs to. For a
    family member, ``seen`` (the severity it was reported with) beats the family's
    usual one: capture.too-deep is an error where most capture.* findings warn."""
    if diagnostic_id in _BY_ID:
        return _BY_ID[diagnostic_id].info
    family = diagnostic_id.split(".", 1)[0]
    title, severity = FAMILIES.get(family, ("a finding of the format's parser", Severity.ERROR))
    severity = seen or severity
    return RuleInfo(
        diagnostic_id, severity, Scope.FILE, title, f"{family} check of balloon-conform"
    )


__all__ = ["RULES", "Rule", "RuleInfo", "Scope", "describe", "get_rule"]
