"""The ``:balloon-field:`` role: a link to a field's row in a ``balloon-schema`` table.

``:balloon-field:`hv-balloon.pages_ballooned``` is short for the domain role
``:balloon:field:``; both make a ``pending_xref`` that :class:`BalloonDomain` resolves
once every document is read, so the table may be in any document. A target no table
documents is reported by Sphinx's usual "reference target not found" warning.
"""

from __future__ import annotations

from docutils import nodes
from docutils.nodes import Node, system_message
from sphinx.roles import XRefRole


class FieldRole(XRefRole):
    """``:balloon-field:`FORMAT.FIELD``` and ``:balloon-field:`FORMAT:DIALECT.FIELD```."""

    def __init__(self) -> None:
        super().__init__(innernodeclass=nodes.literal, warn_dangling=True)

    def run(self) -> tuple[list[Node], list[system_message]]:
        # XRefRole takes domain and type from the role's name; ours has a dash, not a colon
        self.name = "balloon:field"
        return super().run()
