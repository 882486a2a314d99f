"""The one custom node, ``balloon_span``, and its visitors for every builder.

A sample is an ordinary ``literal_block`` holding text and inline nodes, so every
builder prints it. Only one thing needs HTML of its own: a field of the sample carries
its schema description and unit, shown on hover (``title``) and read out by screen
readers (visually hidden text, which ``user-select: none`` keeps out of copied text).
``balloon_span`` holds that text in attributes; HTML writes it, every other builder
writes only the span's children, i.e. the sample text itself.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes


class balloon_span(nodes.inline):
    """A part of a sample with an explanation: ``title`` for hover, ``speech`` for screen
    readers (said after the text)."""


def visit_span_html(translator: Any, node: balloon_span) -> None:
    attributes = {"title": node.get("title", "")}
    translator.body.append(translator.starttag(node, "span", "", **attributes))


def depart_span_html(translator: Any, node: balloon_span) -> None:
    speech = node.get("speech", "")
    if speech:
        # the leading space separates the field from its explanation when read aloud
        hidden = translator.encode(" " + speech)
        translator.body.append(f'<span class="balloon-sr">{hidden}</span>')
    translator.body.append("</span>")


def visit_span_plain(translator: Any, node: balloon_span) -> None:
    """Other builders print the sample text alone; the explanation is in the table."""


def depart_span_plain(translator: Any, node: balloon_span) -> None:
    """Nothing to close."""


HTML = (visit_span_html, depart_span_html)
PLAIN = (visit_span_plain, depart_span_plain)
