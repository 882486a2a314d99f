"""The ``:balloon-field:`` and ``:balloon-rule:`` roles: links into the extension's tables.

``:balloon-field:`hv-balloon.pages_ballooned``` is short for the domain role
``:balloon:field:`` (a field's row in a ``balloon-schema`` table), and
``:balloon-rule:`rfc.accounting``` for ``:balloon:rule:`` (a rule's entry in a
``balloon-rules`` list). Both make a ``pending_xref`` that :class:`BalloonDomain`
resolves once every document is read, so the table may be in any document. A target
nothing documents is reported by Sphinx's usual "reference target not found" warning.

A sample's findings link their ids the same way, but optionally: :func:`optional_target`
keeps the id as plain text, without a warning, when no rule list documents it.
"""

from __future__ import annotations

from docutils import nodes
from docutils.nodes import Element, Node, system_message
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole


class FieldRole(XRefRole):
    """``:balloon-field:`FORMAT.FIELD``` and ``:balloon-field:`FORMAT:DIALECT.FIELD```."""

    target_type = "field"

    def __init__(self) -> None:
        super().__init__(innernodeclass=nodes.literal, warn_dangling=True)

    def run(self) -> tuple[list[Node], list[system_message]]:
        # XRefRole takes domain and type from the role's name; ours has a dash, not a colon
        self.name = "balloon:" + self.target_type
        return super().run()


class RuleRole(FieldRole):
    """``:balloon-rule:`RULE-ID```: a rule, or any id of a documented family."""

    target_type = "rule"


def optional_target(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    """``missing-reference``: a finding's id that no list documents stays plain text,
    also with ``nitpicky`` on (which warns about every other unresolved reference)."""
    if node.get("balloon-optional"):
        return contnode
    return None
