"""A checked sample as docutils nodes: the annotated literal block, status line, findings.

The literal block keeps the sample's text exactly; its parts are marks
(:data:`~sphinxext_balloon.nodes.Mark`), which HTML writes as light spans:
``balloon-prompt`` for the console prompt, ``balloon-annotation`` for ``// notes`` and
``balloon-violation`` per line that breaks a rule (the findings list says how). The
fields the schema explains are not in the text: :func:`field_map` gives the box a
compact map of them (``line:field``, or ``line:start-end:field`` where a line holds
several fields, such as ``Balloon InflatedTotal:XXXkB InflatedFree:YYYkB``), and their
descriptions, which the build writes once into ``_static/balloon-fields.js``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Callable, Optional
from urllib.parse import quote

from docutils import nodes
from sphinx import addnodes

from conformance import Diagnostic
from conformance.schemadoc import FieldDoc

from .checking import Expect, SampleCheck, SampleRequest
from .nodes import Mark, balloon_block
from .sample import split_annotation

FieldLookup = Callable[[str], Optional[FieldDoc]]
"""JSON pointer -> what the dialect's schema says about the field there."""

SHOWN_PER_RULE = 2
"""A rule with more than :data:`GROUPED_AFTER` findings in one sample lists this many in
full, then one item for the rest."""
GROUPED_AFTER = 3


def sample_block(request: SampleRequest, check: SampleCheck, rawsource: str) -> balloon_block:
    """The sample's text with its prompt, annotations and broken lines marked.

    The block holds the text as one node and the parts as ``marks`` (offsets), which
    only HTML writes: a doctree of a few nodes per sample is what keeps a page of
    hundreds of samples about as cheap to build, pickle and search as plain blocks.
    ``rawsource`` must differ from the text (the directive passes its own source), so
    that builders print the text instead of highlighting the raw source.
    """
    text = request.text
    broken = {max(d.location.line, 1) for d in check.fired}
    marks: list[Mark] = []
    offset = 0
    for index, line in enumerate(text.lines):
        if index < text.first_output_line:
            marks.append((offset, offset + len(line), 0, "balloon-prompt"))
        else:
            code, note = split_annotation(line)
            if index - text.first_output_line + 1 in broken:  # a note alone: the whole line
                end = offset + (len(code) if code.strip() else len(line))
                marks.append(_violation(marks, offset, end))
            if note:
                start = offset + len(code)
                marks.append((start, start + len(note), 0, "balloon-annotation"))
        offset += len(line) + 1
    whole = "\n".join(text.lines)
    block = balloon_block(rawsource, whole, classes=["balloon-block"], language="none")
    block["marks"] = sorted(marks, key=lambda m: (m[0], -m[1], m[2]))
    block["translatable"] = False  # kernel output: see nodes.KeepSamplesUntranslated
    return block


def _violation(marks: list[Mark], start: int, end: int) -> Mark:
    """The mark of a broken line; one mark for a run of broken lines without notes
    (a counter-example may break a rule on every line)."""
    if marks and marks[-1][3] == "balloon-violation" and marks[-1][1] == start - 1:
        start = marks.pop()[0]
    return (start, end, 0, "balloon-violation")


def field_map(
    request: SampleRequest, check: SampleCheck, lookup: FieldLookup
) -> tuple[str, dict[str, str]]:
    """The fields the sample's lines show, as the box's ``data-balloon-fields``, and
    their descriptions by key.

    The schema's name (:func:`schema_key`), then one entry per line that shows fields,
    in order, all separated by blanks: ``[LINE:]FIELD[,FIELD...]``. ``LINE`` counts the
    block's lines from 0 and is left out when it is the previous entry's line plus one.
    ``FIELD`` is ``[COLUMN=]KEY``: the field runs from its label's column (0 when left
    out) to the next field's, or to the line's end before a note, blanks around it left
    out. ``KEY`` (the key ``balloon-fields.js`` has the description under) is the
    field's JSON pointer without the first ``/`` (``/`` for the whole sample), written
    ``*`` when it is the field's label (:data:`LABEL`: ``MemTotal`` on ``MemTotal: 16 kB``),
    ``.NAME`` when it is a sibling of the key before it (``commands/start .lock``), else
    percent-encoded so that it holds no blank, comma, colon or equals sign and starts
    with no dot; it is empty for a field the schema has no words for (only its column
    matters). Lines whose fields have no words are left out; the map
    is empty when no line is left.
    """
    text = request.text
    fields = _fields_by_line(check.result.source_map)
    entries: list[str] = []
    titles: dict[str, str] = {}
    previous, last_key = -1, ""
    for index in range(text.first_output_line, len(text.lines)):
        code, _ = split_annotation(text.lines[index])
        chosen = choose_fields(code, fields.get(index - text.first_output_line + 1, []))
        shown, described = [], False
        starts = _field_starts(code, chosen)
        ends = [start for start, _ in starts[1:]] + [len(code)]
        for (column, pointer), end in zip(starts, ends):
            title, written = _title(lookup(pointer)), ""
            if title:
                key = sys.intern(pointer[1:] or "/")  # pickled once, as in shown_fields
                titles[key], described = title, True
                written, last_key = _written(key, last_key, code[column:end]), key
            shown.append(f"{column}={written}" if column else written)
        if described:
            entries.append(("" if index == previous + 1 else f"{index}:") + ",".join(shown))
            previous = index
    if not entries:
        return "", titles
    return " ".join([schema_key(check.schema), *entries]), titles


LABEL = re.compile(r"[ \t]*([!-9;<>-~]+)")
"""A field's label: the printable ASCII at the start of its part of the line, up to a
blank, colon or equals sign (``balloon.js`` reads it the same way)."""


def _written(key: str, previous: str, part: str) -> str:
    """``key`` as the map writes it: ``*`` when it is the label its part of the line
    starts with, ``.NAME`` when it is a sibling of ``previous``, else percent-encoded."""
    label = LABEL.match(part)
    if label is not None and label.group(1) == key:
        return "*"
    parent, slash, name = key.rpartition("/")
    if slash and parent and name and previous.rpartition("/")[0] == parent:
        return "." + _encoded(name)
    return _encoded(key)


def _encoded(text: str) -> str:
    """``text`` with no blank, comma, colon or equals sign, nor a dot first."""
    encoded = quote(text, safe="/~")
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def schema_key(schema: str) -> str:
    """How a box and ``balloon-fields.js`` name schema file ``schema``."""
    suffix = ".schema.json"
    return schema[: -len(suffix)] if schema.endswith(suffix) else schema


def _title(doc: FieldDoc | None) -> str:
    """A field's hover text: its description and unit. The line shows its name."""
    if doc is None:
        return ""
    unit = f"[{doc.unit}]" if doc.unit else ""
    # one object per description, shared by every document's record (pickled once)
    return sys.intern(" ".join(part for part in (doc.description.rstrip("."), unit) if part))


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
    # one string object per name: the environment pickles each once, however many
    # samples show it (pickle shares equal objects, not equal strings)
    return tuple(sorted(sys.intern(p.lstrip("/").replace("/", ".")) for p in source_map if p))


def _field_starts(code: str, fields: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """``(column, pointer)`` per field of a line: where its part of the line starts, at
    its label (the first field's part starts the line)."""
    starts = [0] + [
        _label_start(code, column, previous)
        for (previous, _), (column, _) in zip(fields, fields[1:])
    ]
    return [(start, pointer) for start, (_, pointer) in zip(starts, fields)]


def _label_start(code: str, column: int, previous_column: int) -> int:
    """Where the label of the field whose value starts at ``column`` begins: at the
    whitespace before it, but never before the previous field's value."""
    index = column - 1
    while index > previous_column and not code[index - 1].isspace():
        index -= 1
    return index if index > previous_column else column - 1


def status_line(request: SampleRequest, check: SampleCheck) -> nodes.paragraph:
    """``hv-balloon rfc · lenient layout · conforms``: format and dialect (the schema
    file on hover when ``balloon_schema_path`` may have replaced it), layout, the
    kernel, group (its capture rules ran too) and kind of sample when given, and the
    verdict. Every sample went through the parser, the schema
    and the file rules of its format: the line does not repeat it."""
    result = check.result
    words = [f"{request.layout.value} layout"]
    if request.kernel:
        words.append(f"kernel {request.kernel}")
    if request.group:
        words.append(f"group {request.group}")
    if request.template:
        words.append("template: structure only")
    if request.excerpt:
        words.append("excerpt: missing lines allowed")
    if request.expect is Expect.INVALID:
        words.append("counter-example: violates " + (", ".join(check.fired_ids) or "nothing"))
    elif check.fired:
        words.append(f"{len(check.fired)} finding(s)")
    else:
        words.append("conforms")
    text = " · ".join([f"{result.format} {result.dialect}", *words])
    paragraph = nodes.paragraph(text, "", classes=["balloon-status"])
    if request.extra_schemas:  # which file, when the project's folders may replace ours
        name, _, rest = text.partition(" · ")
        paragraph += nodes.abbreviation(name, name, explanation=f"schema {check.schema}")
        paragraph += nodes.Text(" · " + rest)
    else:
        paragraph += nodes.Text(text)
    return paragraph


def findings_list(check: SampleCheck, anchor: str) -> nodes.bullet_list | None:
    """The findings as a list under the block, so every builder shows which lines break
    which rule (HTML also marks the lines themselves); each id links to its entry in a
    ``balloon-rules`` list when the project has one. A rule with more than
    :data:`GROUPED_AFTER` findings shows the first :data:`SHOWN_PER_RULE`, then one item
    with the lines of the rest (the build's warnings still name each one)."""
    if not check.fired:
        return None
    items = nodes.bullet_list(classes=["balloon-findings"], ids=[findings_id(anchor)])
    per_rule: dict[str, list[Diagnostic]] = {}
    for diagnostic in check.fired:
        per_rule.setdefault(diagnostic.id, []).append(diagnostic)
    for diagnostic in check.fired:
        same = per_rule[diagnostic.id]
        position = next(i for i, d in enumerate(same) if d is diagnostic)
        grouped = len(same) > GROUPED_AFTER
        if grouped and position > SHOWN_PER_RULE:
            continue
        if grouped and position == SHOWN_PER_RULE:
            rest = same[SHOWN_PER_RULE:]
            text = f"and {len(rest)} more{_on_lines(rest)} "
        else:
            where = f"line {diagnostic.location.line}: " if diagnostic.location.line else ""
            text = f"{where}{diagnostic.message} "
        paragraph = nodes.paragraph(text, text)
        paragraph += nodes.Text("[")
        paragraph += rule_reference(diagnostic.id)
        paragraph += nodes.Text("]")
        items += nodes.list_item("", paragraph)
    return items


def _on_lines(findings: Sequence[Diagnostic]) -> str:
    """`` on lines 4-9, 12`` (a run of lines with an en dash); empty when none has one."""
    lines = sorted({d.location.line for d in findings if d.location.line})
    if not lines:
        return ""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    shown = [f"{run[0]}\u2013{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    return (" on lines " if len(lines) > 1 else " on line ") + ", ".join(shown)


def rule_reference(rule_id: str) -> addnodes.pending_xref:
    """A link to rule ``rule_id`` that is no warning when no rule list documents it; the
    id is plain text, in the link or alone."""
    reference = addnodes.pending_xref(
        rule_id, refdomain="balloon", reftype="rule", reftarget=rule_id, refwarn=False
    )
    reference["balloon-optional"] = True
    reference += nodes.Text(rule_id)
    return reference
