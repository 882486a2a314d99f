"""Checking one sample: the checker's parser and schemas, then the writer's expectation.

:func:`check_sample` runs the same steps as ``balloon-conform`` (``conformance.parse``,
then the dialect's schema through ``conformance.schemas.validate``, here with the
project's extra schema folders) and compares what fired with what the directive said
to expect. It returns a :class:`SampleCheck`; reporting is the directive's job.

Rules of issue #3 will plug in through ``rules``: a callable that takes the parse
result and returns more diagnostics, whose ids then count for ``:violates:`` like any
other. Nothing here knows about Sphinx.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Callable

from conformance import Diagnostic, Layout, ParseResult, Severity, get_format, parse, schemas
from conformance.diagnostics import sorted_diagnostics

from .sample import Placeholders, SampleText, fill_placeholders, structural

RuleHook = Callable[[ParseResult], Sequence[Diagnostic]]
"""Extra checks on a parse result (the rule engine of issue #3 will be one)."""


class Expect(enum.Enum):
    """What the writer says a sample is: an example, or a counter-example."""

    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True)
class SampleRequest:
    """Everything a directive knows about a sample before checking it."""

    text: SampleText
    format: str | None = None
    dialect: str | None = None
    layout: Layout = Layout.LENIENT
    template: bool = False
    expect: Expect = Expect.VALID
    violates: tuple[str, ...] = ()
    extra_schemas: tuple[str, ...] = ()
    data: bytes | None = None
    """The raw bytes of a sample file that is not valid UTF-8 (the parser reports it)."""


@dataclass(frozen=True)
class Problem:
    """Something the build reports about a sample; ``line`` is a 1-based output line,
    0 for the sample as a whole."""

    subtype: str
    message: str
    line: int = 0


@dataclass(frozen=True)
class SampleCheck:
    """The outcome: the parse result, the findings that count, what to report."""

    result: ParseResult
    schema: str
    fired: tuple[Diagnostic, ...]
    problems: tuple[Problem, ...] = ()
    placeholders: Placeholders = field(default_factory=Placeholders)

    @property
    def fired_ids(self) -> tuple[str, ...]:
        return tuple(sorted({d.id for d in self.fired}))


def check_sample(request: SampleRequest, rules: RuleHook | None = None) -> SampleCheck:
    """Parse, validate and judge one sample.

    Raises :class:`conformance.UsageError` for an unknown format or dialect or a text
    whose format cannot be told, and :class:`conformance.SchemaError` for a broken
    schema folder: directive misuse, not a finding.
    """
    holes = Placeholders()
    source: str | bytes = request.text.output_text()
    if request.data is not None:
        source = request.data
    elif request.template:
        source, holes = fill_placeholders(request.text.output)
    result = parse(
        source,
        format=request.format,
        dialect=request.dialect,
        layout=request.layout,
        path=request.text.guest_path or None,
        validate=False,
    )
    schema = get_format(result.format).dialect(result.dialect).schema
    found = [*result.diagnostics, *schemas.validate(result, schema, request.extra_schemas)]
    if rules is not None:
        found += rules(result)
    # notes are information for the reader of a report, never a reason to fail a build
    counted = [d for d in structural(found, holes) if d.severity is not Severity.NOTE]
    fired = tuple(sorted_diagnostics(counted))
    result = replace(result, diagnostics=tuple(sorted_diagnostics(found)))
    return SampleCheck(result, schema, fired, _judge(request, fired), holes)


def _judge(request: SampleRequest, fired: Sequence[Diagnostic]) -> tuple[Problem, ...]:
    if request.expect is Expect.VALID:
        return tuple(Problem(d.id, _describe(d), d.location.line) for d in fired)
    problems: list[Problem] = []
    if not request.violates:
        if not fired:
            problems.append(Problem("expect", "sample is marked invalid but conforms"))
        return tuple(problems)
    named = set(request.violates)
    problems.extend(
        Problem(d.id, "unexpected finding in a counter-example: " + _describe(d), d.location.line)
        for d in fired
        if d.id not in named
    )
    fired_ids = {d.id for d in fired}
    problems.extend(
        Problem("expect", f"the sample should violate {wanted!r}, but that check did not fire")
        for wanted in request.violates
        if wanted not in fired_ids
    )
    return tuple(problems)


def _describe(diagnostic: Diagnostic) -> str:
    text = f"{diagnostic.message} [{diagnostic.id}]"
    return f"{text} ({diagnostic.hint})" if diagnostic.hint else text
