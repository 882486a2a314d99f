"""A checked sample as docutils nodes: the annotated literal block, status line, findings.

The literal block keeps the sample's text exactly; around parts of it go inline nodes:
``balloon-prompt`` for the console prompt, ``balloon-annotation`` for ``// notes``, a
:class:`~sphinxext_balloon.nodes.balloon_span` per field (its schema description and
unit) and per line that breaks a rule (the findings). Where a line holds several fields
(``Balloon InflatedTotal:XXXkB InflatedFree:YYYkB``), each field's part starts at the
space before its label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Callable, Optional

from docutils import nodes
from sphinx import addnodes

from conformance import Diagnostic, Layout
from conformance.schemadoc import FieldDoc

from .checking import Expect, SampleCheck, SampleRequest
from .nodes import balloon_block, balloon_descriptions, balloon_span
from .sample import split_annotation

FieldLookup = Callable[[str], Optional[FieldDoc]]
"""JSON pointer -> what the dialect's schema says about the field there."""


def sample_block(
    request: SampleRequest, check: SampleCheck, lookup: FieldLookup, rawsource: str, anchor: str
) -> tuple[balloon_block, balloon_descriptions]:
    """The sample's text with its prompt, fields, annotations and broken lines marked,
    and the descriptions of its fields (what their ``aria-describedby`` name).

    ``rawsource`` must differ from the text (the directive passes its own source), so
    that builders render the children instead of highlighting the raw text; ``anchor``
    is the sample's id, which its findings list's id starts with.
    """
    text = request.text
    fields = _fields_by_line(check.result.source_map)
    broken = _findings_by_line(check.fired)
    block = balloon_block(rawsource, "", classes=["balloon-block"], language="none")
    about = _Descriptions(check.schema, lookup)
    for index, line in enumerate(text.lines):
        if index:
            block += nodes.Text("\n")
        if index < text.first_output_line:
            block += nodes.inline(line, line, classes=["balloon-prompt"])
            continue
        number = index - text.first_output_line + 1
        code, note = split_annotation(line)
        parts = _field_parts(code, choose_fields(code, fields.get(number, [])), about)
        if number in broken:
            parts = [_broken(code, broken[number], parts, findings_id(anchor))]
        for part in parts:
            block += part
        if note:
            block += nodes.inline(note, note, classes=["balloon-annotation"])
    return block, balloon_descriptions(entries=sorted(about.entries.items()))


class _Descriptions:
    """The fields' explanations, gathered as the block is made: one entry per field."""

    def __init__(self, schema: str, lookup: FieldLookup) -> None:
        self.schema = schema
        self.lookup = lookup
        self.entries: dict[str, str] = {}

    def field(self, text: str, pointer: str) -> nodes.Node:
        """The field's text, explained when the schema says something about it. The
        line shows the field's name, so the explanation is the description and unit."""
        doc = self.lookup(pointer)
        description = doc.description.rstrip(".") if doc else ""
        unit = f"[{doc.unit}]" if doc and doc.unit else ""
        if not description and not unit:
            return nodes.Text(text)  # nothing to add to the name the line shows
        title = " ".join(part for part in (description, unit) if part)
        # named after the words: fields of two formats that mean the same share one
        # entry; short, as a page repeats it for every field it shows
        digest = hashlib.sha1(title.encode("utf-8", "surrogatepass"))
        anchor = "bd-" + digest.hexdigest()[:8]
        self.entries[anchor] = title
        span = balloon_span(text, text, classes=["balloon-field"], title=title)
        span["describedby"] = anchor
        return span


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


def _field_parts(
    code: str, fields: Sequence[tuple[int, str]], about: _Descriptions
) -> list[nodes.Node]:
    if not fields:
        return [nodes.Text(code)] if code else []
    starts = [0] + [
        _label_start(code, column, previous)
        for (previous, _), (column, _) in zip(fields, fields[1:])
    ]
    ends = [*starts[1:], len(code.rstrip())]
    parts: list[nodes.Node] = []
    for (_, pointer), start, end in zip(fields, starts, ends):
        piece = code[start:end]
        stripped = piece.lstrip()
        if len(piece) > len(stripped):
            parts.append(nodes.Text(piece[: len(piece) - len(stripped)]))
        parts.append(about.field(stripped, pointer))
    tail = code[ends[-1] :]
    if tail:
        parts.append(nodes.Text(tail))
    return parts


def _label_start(code: str, column: int, previous_column: int) -> int:
    """Where the label of the field whose value starts at ``column`` begins: at the
    whitespace before it, but never before the previous field's value."""
    index = column - 1
    while index > previous_column and not code[index - 1].isspace():
        index -= 1
    return index if index > previous_column else column - 1


def _broken(
    code: str, findings: Sequence[Diagnostic], parts: list[nodes.Node], listed: str
) -> nodes.Node:
    """A line that breaks rules: the rules' ids on hover; the findings list under the
    sample (``listed``, screen readers' description too) says how, line by line."""
    rules = ", ".join(sorted({d.id for d in findings}))
    span = balloon_span(code, "", classes=["balloon-violation"], title=f"breaks {rules}")
    span["describedby"] = listed
    span.extend(parts)
    return span


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
