"""What a rule is: a documented invariant with a stable id, a severity and a scope.

Rules are plain values (:class:`Rule`); the function that checks one gets a read-only view
of what it needs (one parsed file, one capture, or two consecutive captures of a series)
and returns diagnostics. Each rule also says what it needs to run (:class:`Needs`: files of
some formats, a kernel release, a kernel at least so new, and any further condition); the
checker asks :meth:`Rule.skip_reason` before running it, so a rule that could not run is
reported as skipped with the reason, never counted as a pass. Nothing here reads files or
prints.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable

from ..diagnostics import Diagnostic, Location, Severity
from ..records import fields, replace
from .citations import cite

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass, field
else:
    from ..records import dataclass, field

if TYPE_CHECKING:
    from ..view import CaptureView


class Scope(enum.Enum):
    """Where a rule looks: one file, the files of one capture, or a series of captures."""

    FILE = "file"
    CAPTURE = "capture"
    SERIES = "series"


@dataclass(frozen=True)
class Needs:
    """What a rule needs of each capture it reads before it can say anything.

    ``formats``: a file of each of these formats; ``kernel``: the kernel release (from
    capture.json or ``--kernel``) and, when not empty, at least this version (``(6, 15)``);
    ``condition``: any further need, a function of one capture view that returns the
    reason the rule cannot run there, or None when it can.
    """

    formats: tuple[str, ...] = ()
    kernel: tuple[int, ...] | None = None
    condition: Callable[[CaptureView], str | None] | None = field(default=None, compare=False)

    def missing(self, view: CaptureView) -> str | None:
        """Why a rule with these needs cannot run on ``view``; None when it can."""
        reason = self.missing_given(view.formats, view.kernel)
        if reason is not None:
            return reason
        return self.condition(view) if self.condition is not None else None

    def missing_given(self, formats: frozenset[str], kernel: tuple[int, ...] | None) -> str | None:
        """What :meth:`missing` says before it asks the condition: the part that depends
        only on the formats read and the kernel, the same for many captures."""
        for format_id in self.formats:
            if format_id not in formats:
                return f"no {format_id} file in the capture"
        if self.kernel is not None:
            if kernel is None:
                return (
                    "the kernel release is unknown (no kernel_release in capture.json; "
                    "give --kernel)"
                )
            if kernel < self.kernel:
                needed = ".".join(map(str, self.kernel))
                release = ".".join(map(str, kernel))
                return f"kernel {release} predates what the rule needs ({needed})"
        return None


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


_NOTHING_READ = "no balloon-related file was read from the capture"


@dataclass(frozen=True)
class Rule(RuleInfo):
    """A documented invariant: its metadata (see :class:`RuleInfo`), the formats a file
    rule applies to, and the function that checks it (None when a schema does, through
    ``x-rule``)."""

    formats: tuple[str, ...] = ()
    """The formats a file rule applies to (file scope only)."""
    needs: Needs = Needs()
    """What the rule needs of a capture (of each capture, for a series rule)."""
    pair: Callable[[CaptureView, CaptureView], str | None] | None = field(
        default=None, compare=False, repr=False
    )
    """A series rule's further need of two consecutive captures together."""
    check: Callable[..., Iterable[Diagnostic]] | None = field(
        default=None, compare=False, repr=False
    )

    def diagnostic(
        self, message: str, location: Location, hint: str = "", pointer: str = ""
    ) -> Diagnostic:
        """A finding of this rule at ``location``."""
        return Diagnostic(self.id, self.severity, message, location, hint, pointer)

    def skip_reason(self, *views: CaptureView) -> str | None:
        """Why this rule cannot run on ``views`` (one capture, or the two captures of a
        series step); None when it can. A file rule needs a file of one of its formats."""
        if len(views) == 1:  # every rule on every capture: the short way
            view = views[0]
            return self.reason_after(self.reason_given(view.formats, view.kernel), view)
        if not any(view.parsed for view in views):
            return _NOTHING_READ
        wanted = self.formats if self.scope is Scope.FILE else ()
        if wanted and all(view.formats.isdisjoint(wanted) for view in views):
            return f"no {' or '.join(self.formats)} file in the capture"
        for view in views:
            reason = self.needs.missing(view)
            if reason is not None:
                return reason if len(views) == 1 else f"{view.capture.name}: {reason}"
        return self.pair(*views) if self.pair is not None and len(views) == 2 else None

    def reason_given(self, formats: frozenset[str], kernel: tuple[int, ...] | None) -> str | None:
        """Why this rule cannot run on a capture whose files are of ``formats`` (none: no
        file was read) and whose kernel is ``kernel``, before its condition is asked:
        the same for every capture of one kind, so a check works it out once for them."""
        if not formats:
            return _NOTHING_READ
        if self.scope is Scope.FILE and self.formats and formats.isdisjoint(self.formats):
            return f"no {' or '.join(self.formats)} file in the capture"
        return self.needs.missing_given(formats, kernel)

    def reason_after(self, given: str | None, view: CaptureView) -> str | None:
        """Why this rule cannot run on ``view``, from ``given`` (what
        :meth:`reason_given` said of its kind of capture): that, else its condition."""
        if given is not None or self.needs.condition is None:
            return given
        return self.needs.condition(view)

    def run(self, *subject: object) -> Iterable[Diagnostic]:
        """The findings of this rule on ``subject`` (a parsed file, a capture view, or
        two consecutive views); none for a rule that only documents a schema invariant."""
        return self.check(self, *subject) if self.check is not None else ()

    @property
    def info(self) -> RuleInfo:
        """The metadata alone, as reporters receive it; citations of the kernel-formats
        reference are written out (:func:`~conformance.rules.citations.cite`)."""
        info = RuleInfo(**{f.name: getattr(self, f.name) for f in fields(RuleInfo)})
        return replace(info, source=cite(info.source))
