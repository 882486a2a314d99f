"""The ``balloon-rules`` directive: the rule catalogue as a definition list, one anchor per rule.

::

    .. balloon-rules::
       :scope: capture
       :prefix: rfc., virtio.

lists the rules of ``conformance.rules.RULES`` (all of them without options); arguments
name ids instead (``.. balloon-rules:: parse.missing-line rfc.accounting``, any diagnostic
id, described by :func:`conformance.rules.describe`), and ``:families:`` adds the checks
of the parsers and schemas as families (``parse.*``, ``schema.*`` ...). Each entry gives
the id, severity, scope, the sentence or kernel source the rule rests on, the drift it
tolerates and a violation; ``:balloon-rule:`` links to it. Plain docutils nodes, so every
builder prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from conformance.escape import safe_text
from conformance.rules import (
    EXPLANATIONS,
    FAMILIES,
    RULES,
    RuleInfo,
    Scope,
    describe,
    is_known,
    suggest,
)

from .domain import BalloonDomain, RuleTarget, rule_anchor

SCOPES = tuple(scope.value for scope in Scope)


def _words(argument: str | None) -> tuple[str, ...]:
    words = tuple(part for part in (argument or "").replace(",", " ").split() if part)
    if not words:
        raise ValueError("give at least one value")
    return words


def _scopes(argument: str | None) -> tuple[str, ...]:
    words = _words(argument)
    for word in words:
        if word not in SCOPES:
            raise ValueError(f"{word!r} is not a scope (one of {', '.join(SCOPES)})")
    return words


class RulesDirective(SphinxDirective):
    """``.. balloon-rules:: [ID ...]`` with ``:scope:``, ``:prefix:``, ``:explained:`` (each
    explained finding of the parsers, schemas and capture reader after the rules) and
    ``:families:`` (each family of those findings, last)."""

    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {  # noqa: RUF012 -- docutils reads this class attribute
        "scope": _scopes,
        "prefix": _words,
        "families": directives.flag,
        "explained": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        entries = self._entries()
        if not entries:
            raise self.error("balloon-rules: no rule matches the arguments and options")
        listing = nodes.definition_list(classes=["balloon-rules"])
        self.set_source_info(listing)
        domain = cast(BalloonDomain, self.env.get_domain("balloon"))
        for info in entries:
            anchor = self._anchor(info.id)
            term = _term(info, anchor)
            self.state.document.note_explicit_target(term)
            listing += nodes.definition_list_item("", term, _definition(info))
            domain.note_rule(RuleTarget(info.id, self.env.docname, anchor, info.title))
        return [listing]

    def _entries(self) -> list[RuleInfo]:
        if self.arguments:
            named = _words(self.arguments[0])
            unknown = [rule_id for rule_id in named if not is_known(rule_id)]
            if unknown:
                close = suggest(unknown[0])
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                raise self.error(
                    f"balloon-rules: unknown id {safe_text(unknown[0], 80)!r}{hint} "
                    "(balloon-conform rules lists the rules)"
                )
            infos = [describe(rule_id) for rule_id in named]
        else:
            infos = [rule.info for rule in RULES]
            if "explained" in self.options:  # the anchors SARIF's helpUri points at
                infos += [describe(i) for i in sorted(set(EXPLANATIONS) - {r.id for r in RULES})]
            if "families" in self.options:
                infos += [describe(family + ".*") for family in FAMILIES]
        scopes: Sequence[str] = self.options.get("scope", ())
        prefixes: Sequence[str] = self.options.get("prefix", ())
        return [
            info
            for info in infos
            if (not scopes or info.scope.value in scopes)
            and (not prefixes or info.id.startswith(tuple(prefixes)))
        ]

    def _anchor(self, rule_id: str) -> str:
        """The entry's id; a second list of the same rule in a document gets new ones."""
        anchor = rule_anchor(rule_id)
        if anchor in self.state.document.ids:
            anchor += f"-{self.env.new_serialno('balloon-rule')}"
        return anchor


def _term(info: RuleInfo, anchor: str) -> nodes.term:
    """``rfc.accounting (error, capture scope)``, holding the entry's anchor."""
    term = nodes.term("", "", nodes.literal(info.id, info.id), ids=[anchor])
    term += nodes.Text(f" ({info.severity.value}, {info.scope.value} scope)")
    return term


def _definition(info: RuleInfo) -> nodes.definition:
    """The rule's title, what it rests on, what it tolerates, a violation."""
    definition = nodes.definition()
    definition += nodes.paragraph(info.title, info.title)
    fields = nodes.field_list()
    fields += _field("Rests on", nodes.paragraph(info.source, info.source))
    if info.tolerance:
        fields += _field("Tolerates", nodes.paragraph(info.tolerance, info.tolerance))
    if info.example:
        fields += _field("Violation", _example(info.example))
    definition += fields
    return definition


def _example(text: str) -> nodes.Element:
    """A one-line violation inline; several lines as a block, which keeps them apart."""
    if "\n" in text:
        return nodes.literal_block(text, text, language="none")
    return nodes.paragraph("", "", nodes.literal(text, text))


def _field(name: str, body: nodes.Element) -> nodes.field:
    return nodes.field("", nodes.field_name(name, name), nodes.field_body("", body))
