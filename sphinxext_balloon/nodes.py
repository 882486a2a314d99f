"""The extension's own nodes and their visitors for every builder.

A sample is a :class:`balloon_block`: a ``literal_block`` holding text and inline nodes,
so every builder prints it as it prints any literal block. HTML gets three things of its
own:

- the block is written inside exactly the wrapper the same build gives a plain literal
  block (``div.highlight-none`` > ``div.highlight`` > ``pre`` in Sphinx's themes), so
  each theme's shaded box applies: the wrapper is taken from Sphinx's own rendering of a
  one-word block, never written out here;
- the parts of the text (prompt, notes, fields, lines that break a rule) are ``marks``
  (offsets) written as spans; a field carries its description and unit as a ``title``,
  which is both the hover text and, by HTML-AAM's accessible description computation,
  what assistive technology reads as the span's description; a broken line has its rules
  as ``title`` and points with ``aria-describedby`` at the findings list under the
  sample. No hidden text inside the line, which text browsers would show inline, and no
  second copy of the descriptions (a hidden list for ``aria-describedby`` doubled them).

Every other builder writes the block as a literal block (the sample text alone); the
descriptions are in the schema table.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

MARK = "balloonwrappermark"
"""A word the highlighter leaves as it is: where the sample goes in the wrapper."""


class balloon_block(nodes.literal_block):
    """A checked sample: a literal block of one text, its parts in ``marks``."""


Mark = tuple[int, int, int, str, str, str]
"""A part of a sample's text: start and end offsets, nesting rank at equal bounds (a
line before its fields), class, hover ``title`` and the id that ``aria-describedby``
names (both may be empty)."""


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

    for start, end, _, cls, title, described in marks:
        upto(start)
        attributes = f' aria-describedby="{described}"' if described else ""
        attributes += f' class="{cls}"'
        attributes += f' title="{translator.attval(title)}"' if title else ""
        out.append(f"<span{attributes}>")
        ends.append(end)
    upto(len(text))
    return "".join(out)


def depart_plain(translator: Any, node: nodes.Element) -> None:
    """Nothing to close: the visitor wrote the whole node, or skipped it."""


def visit_block_plain(translator: Any, node: balloon_block) -> None:
    translator.visit_literal_block(node)


def depart_block_plain(translator: Any, node: balloon_block) -> None:
    translator.depart_literal_block(node)


BLOCK_HTML = (visit_block_html, depart_plain)
BLOCK_PLAIN = (visit_block_plain, depart_block_plain)
