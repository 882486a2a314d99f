"""What a rule is: a documented invariant with a stable id, a severity and a scope.

Rules are plain values (:class:`Rule`); the function that checks one gets a read-only view
of what it needs (one parsed file, one capture, or two consecutive captures of a series)
and returns diagnostics. Nothing here reads files or prints.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Callable

from ..diagnostics import Diagnostic, Location, Severity


class Scope(enum.Enum):
    """Where a rule looks: one file, the files of one capture, or a series of captures."""

    FILE = "file"
    CAPTURE = "capture"
    SERIES = "series"


@dataclass(frozen=True)
class RuleInfo:
    """Metadata of any diagnostic id: a registered rule, or a family of the parser's and
    schema's own findings (``parse.*``, ``layout.*``, ``schema.*``, ``text.*``).

    ``source`` is the sentence of the documentation or the kernel behaviour (with its
    source) the rule rests on; ``tolerance`` says how much drift is accepted where two
    reads race, and why; ``example`` is a violation ``balloon-conform explain`` shows.
    """

    id: str
    severity: Severity
    scope: Scope
    title: str
    source: str
    tolerance: str = ""
    example: str = ""


@dataclass(frozen=True)
class Rule(RuleInfo):
    """A documented invariant: its metadata (see :class:`RuleInfo`), the formats a file
    rule applies to, and the function that checks it (None when a schema does, through
    ``x-rule``)."""

    formats: tuple[str, ...] = ()
    """The formats a file rule applies to (file scope only)."""
    check: Callable[..., Iterable[Diagnostic]] | None = field(
        default=None, compare=False, repr=False
    )

    def diagnostic(
        self, message: str, location: Location, hint: str = "", pointer: str = ""
    ) -> Diagnostic:
        """A finding of this rule at ``location``."""
        return Diagnostic(self.id, self.severity, message, location, hint, pointer)

    def run(self, *subject: object) -> Iterable[Diagnostic]:
        """The findings of this rule on ``subject`` (a parsed file, a capture view, or
        two consecutive views); none for a rule that only documents a schema invariant."""
        return self.check(self, *subject) if self.check is not None else ()

    @property
    def info(self) -> RuleInfo:
        """The metadata alone, as reporters receive it."""
        return RuleInfo(**{f.name: getattr(self, f.name) for f in fields(RuleInfo)})
