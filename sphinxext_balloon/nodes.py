"""The extension's own nodes and their visitors for every builder.

A sample is a :class:`balloon_box` (a container: caption, block, status line, findings)
around a :class:`balloon_block`: a ``literal_block`` holding the text, so every builder
prints it as it prints any literal block. HTML gets three things of its own:

- the block is written inside exactly the wrapper the same build gives a plain literal
  block (``div.highlight-none`` > ``div.highlight`` > ``pre`` in Sphinx's themes), so
  each theme's shaded box applies: the wrapper is taken from Sphinx's own rendering of a
  one-word block, never written out here;
- the parts of the text (prompt, notes, lines that break a rule) are ``marks`` (offsets)
  written as light spans, with no attribute but their class;
- the box carries the sample's fields as a compact map (``data-balloon-fields``, see
  :func:`sphinxext_balloon.render.field_map`) and, when the sample has findings, an
  ``aria-describedby`` naming the findings list under the block. The descriptions
  themselves are in one file per build (``_static/balloon-fields.js``), which
  ``balloon.js`` turns into hover titles on the field lines once the page has loaded.
  Without JavaScript the block is the sample's text alone: no hidden text inside the
  line, which text browsers would show inline, and no copy of the descriptions per page.

Every other builder writes the box as a container and the block as a literal block (the
sample text alone); the descriptions are in the schema table.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform

MARK = "balloonwrappermark"
"""A word the highlighter leaves as it is: where the sample goes in the wrapper."""


class balloon_block(nodes.literal_block):
    """A checked sample: a literal block of one text, its parts in ``marks``."""


class balloon_box(nodes.container):
    """A checked sample's container; HTML writes its field map and findings link."""


UNCHECKED = "balloon-unchecked"
"""The class of the plain literal block that shows a sample the build could not check."""


class KeepSamplesUntranslated(SphinxTransform):
    """Kernel output is not prose: no sample is a message to translate.

    ``gettext_additional_targets = ["literal-block"]`` marks every literal block
    translatable (Sphinx's ``ExtraTranslatableNodes``, priority 10); this undoes it for
    the samples before the translations are applied (``Locale``, priority 20), so a
    catalogue never offers a sample (or its directive's source, the block's rawsource)
    and a translated build shows the samples as they were checked."""

    default_priority = 15

    def apply(self, **kwargs: Any) -> None:
        # findall() since docutils 0.18; traverse() before (Sphinx 3.4.3 pins 0.16)
        walk = getattr(self.document, "findall", None) or self.document.traverse
        for node in walk(nodes.literal_block):
            if isinstance(node, balloon_block) or UNCHECKED in node["classes"]:
                node["translatable"] = False


FIELDS, DESCRIBED = "balloon-fields", "balloon-described"
"""The box's attributes: the field map, and the id of the findings list that describes
the block."""

Mark = tuple[int, int, int, str]
"""A part of a sample's text: start and end offsets, nesting rank at equal bounds (an
outer part first) and class."""


def visit_box_html(translator: Any, node: balloon_box) -> None:
    """The container's own start tag, with the data the page's script and screen
    readers read added to it (the tag and its classes stay the docutils version's)."""
    attributes = {}
    if node.get(FIELDS):
        attributes["data-balloon-fields"] = node[FIELDS]
    if node.get(DESCRIBED):
        attributes["aria-describedby"] = node[DESCRIBED]
    translator.visit_container(node)
    tag = translator.body[-1]
    end = tag.index(">")
    added = "".join(f' {name}="{translator.attval(value)}"' for name, value in attributes.items())
    translator.body[-1] = tag[:end] + added + tag[end:]


def depart_box_html(translator: Any, node: balloon_box) -> None:
    translator.depart_container(node)


def visit_block_html(translator: Any, node: balloon_block) -> None:
    """The wrapper, the marked text, the wrapper's end: the children are written here."""
    # highlighting the probe costs a millisecond: once per page and kind of block
    known: dict[Any, tuple[str, str]] = translator.__dict__.setdefault("balloon_wrappers", {})
    key = tuple(node["classes"])
    if node["ids"] or key not in known:  # ids are written in the wrapper: not shared
        known[key] = _wrapper(translator, node)
    prefix, suffix = known[key]
    translator.body.append(prefix + _marked(translator, node.astext(), node.get("marks", [])))
    translator.body.append(suffix)
    raise nodes.SkipNode


def _wrapper(translator: Any, node: balloon_block) -> tuple[str, str]:
    """What the translator writes before and after the text of a plain literal block
    with the sample's ids and classes: its own rendering of a block holding one word."""
    probe = nodes.literal_block(MARK, MARK, language="none")
    probe["ids"] = list(node["ids"])
    probe["classes"] = list(node["classes"])
    probe.source, probe.line = node.source, node.line
    start = len(translator.body)
    try:
        translator.visit_literal_block(probe)
    except nodes.SkipNode:  # a highlighted block is written at once
        pass
    else:  # docutils' own writer: opened, then the text, then closed
        translator.body.append(MARK)
        translator.depart_literal_block(probe)
    written = "".join(translator.body[start:])
    del translator.body[start:]
    prefix, found, suffix = written.partition(MARK)
    if not found:  # a translator that rewrites the text: a bare pre is still a block
        return translator.starttag(node, "pre", "", CLASS="literal-block"), "</pre>\n"
    return prefix, suffix


def _marked(translator: Any, text: str, marks: list[Mark]) -> str:
    """``text`` with a ``span`` per mark; marks come sorted, outer before inner."""
    out: list[str] = []
    ends: list[int] = []  # the open spans' ends, innermost last
    position = 0

    def upto(limit: int) -> None:
        nonlocal position
        while ends and ends[-1] <= limit:
            out.append(translator.encode(text[position : ends[-1]]) + "</span>")
            position = ends.pop()
        out.append(translator.encode(text[position:limit]))
        position = limit

    for start, end, _, cls in marks:
        upto(start)
        out.append(f'<span class="{cls}">')
        ends.append(end)
    upto(len(text))
    return "".join(out)


def depart_plain(translator: Any, node: nodes.Element) -> None:
    """Nothing to close: the visitor wrote the whole node, or skipped it."""


def visit_block_plain(translator: Any, node: balloon_block) -> None:
    translator.visit_literal_block(node)


def depart_block_plain(translator: Any, node: balloon_block) -> None:
    translator.depart_literal_block(node)


def visit_box_plain(translator: Any, node: balloon_box) -> None:
    translator.visit_container(node)


def depart_box_plain(translator: Any, node: balloon_box) -> None:
    translator.depart_container(node)


BLOCK_HTML = (visit_block_html, depart_plain)
BOX_HTML = (visit_box_html, depart_box_html)
BOX_PLAIN = (visit_box_plain, depart_box_plain)
BLOCK_PLAIN = (visit_block_plain, depart_block_plain)
