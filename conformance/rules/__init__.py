"""The rule catalogue: every documented invariant, by scope, in one explicit tuple.

``RULES`` holds the rules that have a check function here. Diagnostics of the parsers and
the schemas (``parse.*``, ``layout.*``, ``text.*``, ``schema.*``, ``capture.*`` and
format-specific ids) are explained in :mod:`~conformance.rules.explanations`;
:func:`describe` documents any id that appears in a report, :func:`known_ids` lists them
all, :func:`members` those of a family, and :func:`check_patterns` holds ``--select`` and
``--ignore`` to ids that exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..diagnostics import Severity
from ..errors import UsageError
from .base import Rule, RuleInfo, Scope
from .capture_rules import CAPTURE_RULES
from .explanations import EXPLANATIONS, Explanation
from .file_rules import FILE_RULES
from .host_rules import HOST_RULES
from .series_rules import SERIES_RULES

RULES: tuple[Rule, ...] = (*FILE_RULES, *CAPTURE_RULES, *SERIES_RULES, *HOST_RULES)
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
_SCOPES = {"capture": Scope.CAPTURE, "series": Scope.SERIES}


def known_ids() -> list[str]:
    """Every id a report can hold: the rules' and the explained ones, sorted."""
    return sorted(set(_BY_ID) | set(EXPLANATIONS))


def is_known(diagnostic_id: str) -> bool:
    """Whether a report can hold ``diagnostic_id``: a rule's or an explained id, or an id
    of a family whose members are open-ended (``schema.<keyword>``), or a family as a
    whole (``parse.*``)."""
    family, dot, rest = diagnostic_id.partition(".")
    return diagnostic_id in known_ids() or (family in FAMILIES and bool(dot) and bool(rest))


def members(prefix: str) -> list[str]:
    """The known ids of the family or prefix ``prefix`` (``capture``, ``virtio.``)."""
    stem = prefix.rstrip(".")
    return [i for i in known_ids() if i.startswith(stem + ".")]


def suggest(word: str) -> list[str]:
    """The known ids and families closest to ``word``."""
    choices = known_ids() + sorted({i.split(".", 1)[0] for i in known_ids()})
    return difflib.get_close_matches(word.rstrip("."), choices, n=3, cutoff=0.6)


def check_patterns(option: str, patterns: Iterable[str]) -> None:
    """Each of ``patterns`` (``--select``/``--ignore``) names a known id or the prefix of
    some; the error suggests the closest ids."""
    for pattern in sorted(patterns):
        stem = pattern.rstrip(".")
        if (
            stem in _BY_ID
            or stem in EXPLANATIONS
            or any(i.startswith(stem + ".") for i in known_ids())
        ):
            continue
        close = suggest(pattern)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UsageError(
            f"{option} {pattern!r} matches no check id{hint} ('balloon-conform rules' lists them)"
        )


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
    explained = EXPLANATIONS.get(diagnostic_id)
    if explained is not None:
        scope = _SCOPES.get(family, Scope.FILE)
        severity = seen or explained.severity
        return RuleInfo(diagnostic_id, severity, scope, explained.title, explained.text)
    title, severity = FAMILIES.get(family, ("a finding of the format's parser", Severity.ERROR))
    severity = seen or severity
    return RuleInfo(
        diagnostic_id, severity, Scope.FILE, title, f"{family} check of balloon-conform"
    )


__all__ = [
    "EXPLANATIONS",
    "RULES",
    "Explanation",
    "Rule",
    "RuleInfo",
    "Scope",
    "check_patterns",
    "describe",
    "get_rule",
    "known_ids",
    "members",
    "suggest",
]
