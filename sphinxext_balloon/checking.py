"""Checking one sample: the checker's parser, schemas and rules, then the writer's expectation.

:func:`check_sample` runs the same steps as ``balloon-conform`` (``conformance.parse``,
then the dialect's schema through ``conformance.schemas.validate``, here with the
project's extra schema folders, then the file rules of the sample's format) and compares
what fired with what the directive said to expect. It returns a :class:`SampleCheck`;
reporting is the directive's job. :func:`add_findings` judges a sample again once the
capture rules of its ``:group:`` have run. Nothing here knows about Sphinx.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

from conformance import Diagnostic, Layout, ParseResult, Severity, get_format, parse, schemas
from conformance.capture import CapturedFile
from conformance.diagnostics import sorted_diagnostics
from conformance.records import replace  # conformance's classes and dataclasses alike
from conformance.rules import RULES, Scope
from conformance.view import ParsedFile

from .sample import Placeholders, SampleText, fill_placeholders, structural

RuleHook = Callable[[ParseResult], Sequence[Diagnostic]]
"""Checks on a parse result beyond its schema: :func:`file_rules` by default."""

EXCERPT_SPARED = frozenset({"parse.missing-line", "schema.required"})
"""What an ``:excerpt:`` does not report: the lines it leaves out on purpose."""


def file_rules(result: ParseResult) -> list[Diagnostic]:
    """The findings of the rule catalogue's file rules for the sample's format, as
    ``balloon-conform check`` runs them on each file of a capture."""
    parsed = ParsedFile(CapturedFile(result.format, "", b""), result)
    return [
        diagnostic
        for rule in RULES
        if rule.scope is Scope.FILE and result.format in rule.formats
        for diagnostic in rule.run(parsed)
    ]


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
    """The bytes of a ``:file:`` sample, which the parser reads as the command line does
    (line endings, a last line without its newline, bytes that are not UTF-8)."""
    excerpt: bool = False
    """Only some lines of the file: missing lines and members are not findings."""
    group: str = ""
    """The ``:group:`` whose samples are checked together as one capture."""
    kernel: str = ""
    """The kernel release the sample comes from, as the writer gives it."""


@dataclass(frozen=True)
class Problem:
    """Something the build reports about a sample; ``line`` is a 1-based output line,
    0 for the sample as a whole."""

    subtype: str
    message: str
    line: int = 0
    rule: str = ""
    """The diagnostic id when the problem is a finding: the warning names it once."""


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


def check_sample(request: SampleRequest, rules: RuleHook | None = file_rules) -> SampleCheck:
    """Parse, validate and judge one sample.

    Raises :class:`conformance.UsageError` for an unknown format or dialect or a text
    whose format cannot be told, and :class:`conformance.SchemaError` for a broken
    schema folder: directive misuse, not a finding.
    """
    source, holes = parser_input(request)
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
    fired = tuple(sorted_diagnostics(_counted(request, found, holes)))
    result = replace(result, diagnostics=tuple(sorted_diagnostics(found)))
    return SampleCheck(result, schema, fired, judge(request, fired), holes)


def parser_input(request: SampleRequest) -> tuple[str | bytes, Placeholders]:
    """What the parser reads: a template's output with its placeholders filled, the
    bytes of a sample file after its prompt line, or the output as written; and where
    placeholders stand."""
    if request.template:
        filled, holes = fill_placeholders(request.text.output)
        if request.data is not None and not request.data.endswith(b"\n"):
            filled = filled[:-1]  # the file's last line has no newline: neither has this
        return filled, holes
    if request.data is not None:
        data = request.data
        if request.text.prompt:
            data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
        return data, Placeholders()
    return request.text.output_text(), Placeholders()


def add_findings(
    request: SampleRequest, check: SampleCheck, found: Sequence[Diagnostic]
) -> SampleCheck:
    """``check`` with more findings about the sample (its group's capture rules), judged
    again: a counter-example's ``:violates:`` may name them."""
    fired = tuple(sorted_diagnostics([*check.fired, *_counted(request, found, check.placeholders)]))
    result = replace(
        check.result, diagnostics=tuple(sorted_diagnostics([*check.result.diagnostics, *found]))
    )
    return replace(check, result=result, fired=fired, problems=judge(request, fired))


def _counted(
    request: SampleRequest, found: Sequence[Diagnostic], holes: Placeholders
) -> list[Diagnostic]:
    """The findings that count: not about a placeholder, not a line an excerpt leaves
    out, and not a note (information for the reader, never a reason to fail a build)
    unless the counter-example names it in ``:violates:``, which a note fulfils."""
    return [
        d
        for d in structural(found, holes)
        if (d.severity is not Severity.NOTE or d.id in request.violates)
        and not (request.excerpt and _left_out(d))
    ]


def _left_out(diagnostic: Diagnostic) -> bool:
    """A missing line or member. A ``required`` failure that a schema explains with its
    own rule id (``x-rule``) still names ``required`` at the end of its schema path."""
    if diagnostic.id in EXCERPT_SPARED:
        return True
    path = diagnostic.hint.partition("schema path: ")[2]
    return path.rsplit("/", 1)[-1] == "required"


def judge(request: SampleRequest, fired: Sequence[Diagnostic]) -> tuple[Problem, ...]:
    """What the build reports: every finding of an example; for a counter-example, the
    findings it does not name and the named checks that did not fire."""
    if request.expect is Expect.VALID:
        return tuple(Problem(d.id, _describe(d), d.location.line, d.id) for d in fired)
    problems: list[Problem] = []
    if not request.violates:
        if not fired:
            problems.append(Problem("expect", "sample is marked invalid but conforms"))
        return tuple(problems)
    named = set(request.violates)
    problems.extend(
        Problem(
            d.id, "unexpected finding in a counter-example: " + _describe(d), d.location.line, d.id
        )
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
    """The message and hint; the id is the warning's subtype, which the build names."""
    text = diagnostic.message
    return f"{text} ({diagnostic.hint})" if diagnostic.hint else text
