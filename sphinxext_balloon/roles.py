"""The ``:balloon-field:`` and ``:balloon-rule:`` roles: links into the extension's tables.

``:balloon-field:`hv-balloon.pages_ballooned``` is short for the domain role
``:balloon:field:`` (a field's row in a ``balloon-schema`` table), and
``:balloon-rule:`rfc.accounting``` for ``:balloon:rule:`` (a rule's entry in a
``balloon-rules`` list). Both make a ``pending_xref`` that :class:`BalloonDomain`
resolves once every document is read, so the table may be in any document.

A page must also stand alone (copied into a tree that has no table, such as the
kernel's ``Documentation/mm/``): without a table or list, :func:`fallback_target` links a
field to the first sample on the page that shows it, a rule to the first sample on the
page that breaks it, and otherwise prints the name with its description (an
``<abbr title>`` in HTML, the description in brackets in text), without a warning. Only
a field or rule the schemas and the catalogue do not know is Sphinx's usual "reference
target not found" warning.

A sample's findings link their ids the same way, but optionally: :func:`optional_target`
keeps the id as plain text, without a warning, when no rule list documents it.
"""

from __future__ import annotations

from typing import Callable, cast

from docutils import nodes
from docutils.nodes import Element, Node, system_message
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util.nodes import make_refnode

from conformance import BalloonError, get_format
from conformance.rules import describe, is_known

from . import settings
from .domain import BalloonDomain, SampleRecord, split_field_target


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
    also with ``nitpicky`` on (which warns about every other unresolved reference); a
    field or rule no table or list documents goes to :func:`fallback_target`."""
    if node.get("balloon-optional"):
        return contnode
    if node.get("refdomain") == "balloon" and node.get("reftype") in ("field", "rule"):
        return fallback_target(app, env, node, contnode)
    return None


def fallback_target(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    """A field or rule link in a build without its table or list: the first sample of the
    page that shows the field (breaks the rule), else the name with its description."""
    target, fromdoc = str(node["reftarget"]), str(node.get("refdoc", env.docname))
    domain = cast(BalloonDomain, env.get_domain("balloon"))
    shown = _in_output(app, node)
    if node["reftype"] == "field":
        description = _field_description(target, settings.extra_schemas(env.config))
        sample = domain.first_sample_showing(target, fromdoc, shown)
    else:
        description = _rule_title(target)
        sample = domain.first_sample_breaking(target, fromdoc, shown)
    if description is None:
        return None  # a name nothing knows: Sphinx warns, as for any broken link
    if sample is not None:
        title = f"{target}: {description}" if description else target
        return make_refnode(app.builder, fromdoc, sample.docname, sample.anchor, contnode, title)
    if not description:
        return contnode
    return nodes.abbreviation("", "", contnode, explanation=description)


def _in_output(app: Sphinx, node: Element) -> Callable[[SampleRecord], bool]:
    """Whether this builder's page holds a sample of the page ``node`` is in: not one in
    an ``.. only::`` of another builder (links resolve before those are taken out)."""
    root: Node = node
    while root.parent is not None:  # the document (docutils 0.16 may not set .document)
        root = root.parent
    ids = root.ids if isinstance(root, nodes.document) else {}

    def shown(sample: SampleRecord) -> bool:
        found = ids.get(sample.anchor)
        while found is not None:
            if isinstance(found, addnodes.only) and not app.builder.tags.eval_condition(
                found["expr"]
            ):
                return False
            found = found.parent
        return True

    return shown


def _field_description(target: str, extra: tuple[str, ...]) -> str | None:
    """What the schema says of ``FORMAT[:DIALECT].FIELD``: "" when it has no words for
    it, None when the format, dialect or field does not exist."""
    format_id, dialect, field = split_field_target(target)
    try:
        spec = get_format(format_id)
        schema = spec.dialect(dialect).schema if dialect else spec.schema
    except BalloonError:
        return None
    doc = settings.field_doc(schema, extra, "/" + field.replace(".", "/")) if field else None
    return None if doc is None else doc.description.rstrip(".")


def _rule_title(target: str) -> str | None:
    """The title of rule (or family member) ``target``; None for an id nothing knows."""
    return describe(target).title if is_known(target) else None
