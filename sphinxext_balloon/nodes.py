"""The extension's own nodes and their visitors for every builder.

A sample is a :class:`balloon_block`: a ``literal_block`` holding text and inline nodes,
so every builder prints it as it prints any literal block. HTML gets three things of its
own:

- the block is written inside exactly the wrapper the same build gives a plain literal
  block (``div.highlight-none`` > ``div.highlight`` > ``pre`` in Sphinx's themes), so
  each theme's shaded box applies: the wrapper is taken from Sphinx's own rendering of a
  one-word block, never written out here;
- a :class:`balloon_span` (a field, a line that breaks a rule) carries its explanation
  as a hover ``title`` and points screen readers at it with ``aria-describedby``; no
  hidden text inside the line, which text browsers would show inline;
- a :class:`balloon_descriptions` after the block holds the field descriptions those
  ``aria-describedby`` name, each once per page (a ``hidden`` list: assistive technology
  reads a referenced description also when it is hidden).

Every other builder writes only the span's children (the sample text) and skips the
description list; the descriptions are in the schema table.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

MARK = "balloonwrappermark"
"""A word the highlighter leaves as it is: where the sample goes in the wrapper."""


class balloon_block(nodes.literal_block):
    """A checked sample: a literal block of text and :class:`balloon_span` parts."""


class balloon_span(nodes.inline):
    """A part of a sample with an explanation: ``title`` for hover, ``describedby``
    the id of the element that explains it to screen readers."""


class balloon_descriptions(nodes.Element):
    """The descriptions of a sample's fields, ``entries`` of ``(id, text)``."""


def visit_block_html(translator: Any, node: balloon_block) -> None:
    prefix, suffix = _wrapper(translator, node)
    translator.body.append(prefix)
    translator.context.append(suffix)


def depart_block_html(translator: Any, node: balloon_block) -> None:
    translator.body.append(translator.context.pop())


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


def visit_span_html(translator: Any, node: balloon_span) -> None:
    attributes = {"title": node.get("title", "")}
    if node.get("describedby"):
        attributes["aria-describedby"] = node["describedby"]
    translator.body.append(translator.starttag(node, "span", "", **attributes))


def depart_span_html(translator: Any, node: balloon_span) -> None:
    translator.body.append("</span>")


def visit_descriptions_html(translator: Any, node: balloon_descriptions) -> None:
    # one description per page: a later sample's fields point at the first one
    written: set[str] = translator.__dict__.setdefault("balloon_described", set())
    items = []
    entries: list[tuple[str, str]] = node.get("entries", [])
    for anchor, text in entries:
        if anchor not in written:
            written.add(anchor)
            items.append(f'<li id="{anchor}">{translator.encode(text)}</li>')
    if items:
        translator.body.append('<ul class="balloon-descriptions" hidden>' + "".join(items))
        translator.body.append("</ul>\n")
    raise nodes.SkipNode


def visit_plain(translator: Any, node: nodes.Element) -> None:
    """Other builders print the sample text alone; the explanation is in the table."""


def depart_plain(translator: Any, node: nodes.Element) -> None:
    """Nothing to close."""


def skip(translator: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def visit_block_plain(translator: Any, node: balloon_block) -> None:
    translator.visit_literal_block(node)


def depart_block_plain(translator: Any, node: balloon_block) -> None:
    translator.depart_literal_block(node)


SPAN_HTML = (visit_span_html, depart_span_html)
SPAN_PLAIN = (visit_plain, depart_plain)
BLOCK_HTML = (visit_block_html, depart_block_html)
BLOCK_PLAIN = (visit_block_plain, depart_block_plain)
DESCRIPTIONS_HTML = (visit_descriptions_html, depart_plain)
DESCRIPTIONS_PLAIN = (skip, depart_plain)
