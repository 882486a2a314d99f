"""A checked sample as docutils nodes: the annotated literal block, status line, findings.

The literal block keeps the sample's text exactly; its parts are marks
(:data:`~sphinxext_balloon.nodes.Mark`), which HTML writes as spans: ``balloon-prompt``
for the console prompt, ``balloon-annotation`` for ``// notes``, ``balloon-field`` per
field the schema explains (its description and unit) and ``balloon-violation`` per
line that breaks a rule (the findings). Where a line holds several fields
(``Balloon InflatedTotal:XXXkB InflatedFree:YYYkB``), each field's part starts at the
space before its label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Callable, Optional

from docutils import nodes
from sphinx import addnodes

from conformance import Diagnostic, Layout
from conformance.schemadoc import FieldDoc

from .checking import Expect, SampleCheck, SampleRequest
from .nodes import Mark, balloon_block
from .sample import split_annotation

FieldLookup = Callable[[str], Optional[FieldDoc]]
"""JSON pointer -> what the dialect's schema says about the field there."""


def sample_block(
    request: SampleRequest, check: SampleCheck, lookup: FieldLookup, rawsource: str, anchor: str
) -> balloon_block:
    """The sample's text with its prompt, fields, annotations and broken lines marked.

    The block holds the text as one node and the parts as ``marks`` (offsets), which
    only HTML writes: a doctree of a few nodes per sample is what keeps a page of
    hundreds of samples about as cheap to build, pickle and search as plain blocks.
    ``rawsource`` must differ from the text (the directive passes its own source), so
    that builders print the text instead of highlighting the raw source; ``anchor`` is
    the sample's id, which its findings list's id starts with.
    """
    text = request.text
    fields = _fields_by_line(check.result.source_map)
    broken = _findings_by_line(check.fired)
    about = _Descriptions(check.schema, lookup)
    marks: list[Mark] = []
    offset = 0
    for index, line in enumerate(text.lines):
        if index < text.first_output_line:
            marks.append((offset, offset + len(line), 0, "balloon-prompt", "", ""))
        else:
            number = index - text.first_output_line + 1
            code, note = split_annotation(line)
            if number in broken:
                marks.append(_broken(offset, code, broken[number], findings_id(anchor)))
            chosen = choose_fields(code, fields.get(number, []))
            marks.extend(_field_marks(offset, code, chosen, about))
            if note:
                start = offset + len(code)
                marks.append((start, start + len(note), 0, "balloon-annotation", "", ""))
        offset += len(line) + 1
    whole = "\n".join(text.lines)
    block = balloon_block(rawsource, whole, classes=["balloon-block"], language="none")
    block["marks"] = sorted(marks, key=lambda m: (m[0], -m[1], m[2]))
    return block


class _Descriptions:
    """The fields' explanations, looked up as the block is made."""

    def __init__(self, schema: str, lookup: FieldLookup) -> None:
        self.schema = schema
        self.lookup = lookup

    def field(self, start: int, end: int, pointer: str) -> Mark | None:
        """The field's mark, when the schema says something about it. The line shows
        the field's name, so the explanation is the description and unit."""
        doc = self.lookup(pointer)
        description = doc.description.rstrip(".") if doc else ""
        unit = f"[{doc.unit}]" if doc and doc.unit else ""
        if not description and not unit:
            return None  # nothing to add to the name the line shows
        title = " ".join(part for part in (description, unit) if part)
        # the title is the span's accessible description too (HTML-AAM): no second copy
        return (start, end, 1, "balloon-field", title, "")


def findings_id(anchor: str) -> str:
    """The id of the findings list under the sample ``anchor``."""
    return f"{anchor}-findings"


def _fields_by_line(source_map: Mapping[str, tuple[int, int]]) -> dict[int, list[tuple[int, str]]]:
    """Per line, ``(column, pointer)`` of every value that starts on it."""
    by_line: dict[int, list[tuple[int, str]]] = {}
    for pointer, (line, column) in source_map.items():
        by_line.setdefault(line, []).append((column, pointer))
    return by_line


def choose_fields(code: str, found: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The fields a line shows, as ``(column, pointer)``: the outermost values on it,
    unless that is one value whose members have labels of their own on the line
    (``Balloon InflatedTotal:XXXkB InflatedFree:YYYkB``): then those members.
    ``host_version: 2.0`` stays one field; its major and minor have no labels."""
    pointers = {pointer for _, pointer in found}
    fields = sorted(
        (column, pointer)
        for column, pointer in found
        if not any(pointer.startswith(other + "/") for other in pointers)
    )
    while len(fields) == 1:
        parent = fields[0][1]
        members = sorted((c, p) for c, p in found if p.rsplit("/", 1)[0] == parent)
        if len(members) == 1:  # a wrapper such as /dumps/0: look inside
            fields = members
            continue
        between = [code[a - 1 : b - 1] for (a, _), (b, _) in zip(members, members[1:])]
        if members and all(":" in text or "=" in text for text in between):
            fields = members
        break
    return fields


def shown_fields(source_map: Mapping[str, tuple[int, int]]) -> tuple[str, ...]:
    """Every field a sample shows, named as ``:balloon-field:`` names it
    (``host_version.major``)."""
    return tuple(sorted(p.lstrip("/").replace("/", ".") for p in source_map if p))


def _findings_by_line(fired: Sequence[Diagnostic]) -> dict[int, list[Diagnostic]]:
    by_line: dict[int, list[Diagnostic]] = {}
    for diagnostic in fired:
        by_line.setdefault(max(diagnostic.location.line, 1), []).append(diagnostic)
    return by_line


def _field_marks(
    offset: int, code: str, fields: Sequence[tuple[int, str]], about: _Descriptions
) -> list[Mark]:
    """A mark per explained field of a line that starts at ``offset``: from its label
    (leading blanks left out) to the next field's label."""
    if not fields:
        return []
    starts = [0] + [
        _label_start(code, column, previous)
        for (previous, _), (column, _) in zip(fields, fields[1:])
    ]
    ends = [*starts[1:], len(code.rstrip())]
    marks = []
    for (_, pointer), start, end in zip(fields, starts, ends):
        piece = code[start:end]
        start += len(piece) - len(piece.lstrip())
        mark = about.field(offset + start, offset + end, pointer)
        if mark is not None:
            marks.append(mark)
    return marks


def _label_start(code: str, column: int, previous_column: int) -> int:
    """Where the label of the field whose value starts at ``column`` begins: at the
    whitespace before it, but never before the previous field's value."""
    index = column - 1
    while index > previous_column and not code[index - 1].isspace():
        index -= 1
    return index if index > previous_column else column - 1


def _broken(offset: int, code: str, findings: Sequence[Diagnostic], listed: str) -> Mark:
    """A line that breaks rules: the rules' ids on hover; the findings list under the
    sample (``listed``, screen readers' description too) says how, line by line."""
    rules = ", ".join(sorted({d.id for d in findings}))
    return (offset, offset + len(code), 0, "balloon-violation", f"breaks {rules}", listed)


def status_line(request: SampleRequest, check: SampleCheck) -> nodes.paragraph:
    """``hv-balloon · dialect rfc · lenient layout · checked: parser, schema ... · verdict``."""
    result = check.result
    checks = f"checked: parser, schema {check.schema}, file rules"
    if request.group:
        checks += f", capture rules of group {request.group}"
    if request.template:
        checks += " (template: structure only)"
    if request.excerpt:
        checks += " (excerpt: lines left out are not findings)"
    if request.expect is Expect.INVALID:
        verdict = "counter-example: violates " + (", ".join(check.fired_ids) or "nothing")
    elif check.fired:
        verdict = f"{len(check.fired)} finding(s)"
    else:
        verdict = "conforms"
    layout = "exact" if request.layout is Layout.EXACT else "lenient"
    words = [result.format, f"dialect {result.dialect}", f"{layout} layout"]
    if request.kernel:
        words.append(f"kernel {request.kernel}")
    text = " · ".join([*words, checks, verdict])
    return nodes.paragraph(text, text, classes=["balloon-status"])


def findings_list(check: SampleCheck, anchor: str) -> nodes.bullet_list | None:
    """The findings as a list under the block, so every builder shows which lines break
    which rule (HTML also marks the lines themselves); each id links to its entry in a
    ``balloon-rules`` list when the project has one."""
    if not check.fired:
        return None
    items = nodes.bullet_list(classes=["balloon-findings"], ids=[findings_id(anchor)])
    for diagnostic in check.fired:
        where = f"line {diagnostic.location.line}: " if diagnostic.location.line else ""
        text = f"{where}{diagnostic.message} "
        paragraph = nodes.paragraph(text, text)
        paragraph += nodes.Text("[")
        paragraph += rule_reference(diagnostic.id)
        paragraph += nodes.Text("]")
        items += nodes.list_item("", paragraph)
    return items


def rule_reference(rule_id: str) -> addnodes.pending_xref:
    """A link to rule ``rule_id`` that is no warning when no rule list documents it."""
    reference = addnodes.pending_xref(
        rule_id, refdomain="balloon", reftype="rule", reftarget=rule_id, refwarn=False
    )
    reference["balloon-optional"] = True
    reference += nodes.literal(rule_id, rule_id)
    return reference
