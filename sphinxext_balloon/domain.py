"""The ``balloon`` domain: the cross-document state of the extension.

It holds the field anchors that ``balloon-schema`` tables create, so that
``:balloon-field:`hv-balloon.pages_ballooned``` resolves in any document, the rule
anchors that ``balloon-rules`` lists create, for ``:balloon-rule:`rfc.accounting```,
and the samples each document checked, with the diagnostic ids they fired (for tools
and for a future list of each rule's counter-examples). All of it is keyed by document, so
:meth:`BalloonDomain.clear_doc` and :meth:`BalloonDomain.merge_domaindata` keep
incremental and parallel builds right.

Field targets: ``FORMAT.FIELD`` (``hv-balloon.host_version.major``) finds the format's
table, or a dialect's when no table covers the whole format; ``FORMAT:DIALECT.FIELD``
(``hv-balloon:rfc.pages_ballooned_out``, ``hv-balloon:6.0.pages_ballooned``: a dialect id
may hold dots) finds that dialect's. Rule targets: a rule id
(``virtio.no-access-platform``), or any id of a family a list documents as a whole
(``parse.bad-number`` finds ``parse.*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable, NamedTuple, cast

from docutils import nodes
from docutils.nodes import Element
from sphinx.addnodes import pending_xref
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

from conformance import BalloonError, get_format

logger = logging.getLogger(__name__)


def split_field_target(target: str) -> tuple[str, str, str]:
    """``(format, dialect, field)`` of ``FORMAT.FIELD`` or ``FORMAT:DIALECT.FIELD``.

    A format id holds neither ``.`` nor ``:``, so whichever comes first ends it. A dialect
    id may hold dots (``6.0``, ``2.6.24``) and a field name too (``host_version.major``):
    the dialect is the longest of the format's dialect ids that the rest begins with,
    followed by a dot; for a format or dialect nothing knows, the rest up to its first
    dot (and the link stays unresolved, with Sphinx's warning)."""
    end = min((i for i in (target.find("."), target.find(":")) if i >= 0), default=len(target))
    format_id, separator, rest = target[:end], target[end : end + 1], target[end + 1 :]
    if separator != ":":
        return format_id, "", rest
    try:
        known = [d.id for d in get_format(format_id).dialects]
    except BalloonError:
        known = []
    for dialect in sorted(known, key=len, reverse=True):
        if rest.startswith(dialect + "."):
            return format_id, dialect, rest[len(dialect) + 1 :]
    dialect, _, field = rest.partition(".")
    return format_id, dialect, field


LISTS = ("fields", "rules", "samples", "unchecked")
"""The domain's lists, each of entries with a ``docname``."""


class FieldTarget(NamedTuple):
    """A field row of a ``balloon-schema`` table."""

    format: str
    dialect: str
    """Empty for a table of the whole format."""
    field: str
    docname: str
    anchor: str
    description: str
    line: int = 0
    """The ``balloon-schema`` directive's line in its document."""


class RuleTarget(NamedTuple):
    """An entry of a ``balloon-rules`` list: a rule, or a family (``parse.*``)."""

    id: str
    docname: str
    anchor: str
    title: str


class SampleRecord(NamedTuple):
    """A checked sample: where it is and which diagnostic ids it fired."""

    docname: str
    anchor: str
    format: str
    dialect: str
    fired: tuple[str, ...]
    problems: int = 0
    """How many problems the build showed about it (``balloon_strict`` fails on any;
    those ``suppress_warnings`` silences are not counted)."""
    fields: tuple[str, ...] = ()
    """The fields it shows (``host_version.major``): a ``:balloon-field:`` link's target
    when the build has no ``balloon-schema`` table."""
    line: int = 0
    """The directive's line in its document: "the first sample on the page"."""


class Unchecked(NamedTuple):
    """A sample the build could not check (misuse of the directive): shown, unchecked,
    with an error at the directive; ``balloon_strict`` fails on it."""

    docname: str
    line: int


class BalloonDomain(Domain):
    """Fields documented by ``balloon-schema``, rules listed by ``balloon-rules`` and
    samples checked by ``balloon-sample``."""

    name = "balloon"
    label = "Balloon statistics"
    object_types = {  # noqa: RUF012 -- Sphinx's API
        "field": ObjType("field", "field"),
        "rule": ObjType("rule", "rule"),
    }
    roles = {"field": XRefRole(), "rule": XRefRole()}  # noqa: RUF012
    initial_data = {  # noqa: RUF012
        "fields": [],
        "rules": [],
        "samples": [],
        "unchecked": [],
        "descriptions": {},
    }

    @property
    def fields(self) -> list[FieldTarget]:
        return self.data.setdefault("fields", [])  # type: ignore[no-any-return]

    @property
    def rules(self) -> list[RuleTarget]:
        return self.data.setdefault("rules", [])  # type: ignore[no-any-return]

    @property
    def samples(self) -> list[SampleRecord]:
        return self.data.setdefault("samples", [])  # type: ignore[no-any-return]

    @property
    def unchecked(self) -> list[Unchecked]:
        return self.data.setdefault("unchecked", [])  # type: ignore[no-any-return]

    def note_field(self, target: FieldTarget) -> None:
        """Record a field anchor; a second table of the same field in one document is
        the writer's choice and both stay linkable by their own anchors."""
        self.fields.append(target)

    def note_sample(self, record: SampleRecord) -> None:
        """Record a checked sample and the ids it fired."""
        self.samples.append(record)

    @property
    def descriptions(self) -> dict[str, dict[str, dict[str, str]]]:
        """Per document, per schema file: the descriptions of the fields its samples
        show, by the key their field maps use (:func:`sphinxext_balloon.render.field_map`)."""
        return self.data.setdefault("descriptions", {})  # type: ignore[no-any-return]

    def note_descriptions(self, docname: str, schema: str, titles: dict[str, str]) -> None:
        if titles:
            self.descriptions.setdefault(docname, {}).setdefault(schema, {}).update(titles)

    def all_descriptions(self) -> dict[str, dict[str, str]]:
        """Per schema file, the descriptions every document's samples need."""
        merged: dict[str, dict[str, str]] = {}
        for _, per_schema in sorted(self.descriptions.items()):
            for schema, titles in per_schema.items():
                merged.setdefault(schema, {}).update(titles)
        return merged

    def note_rule(self, target: RuleTarget) -> None:
        """Record a rule's anchor in a ``balloon-rules`` list."""
        self.rules.append(target)

    def clear_doc(self, docname: str) -> None:
        for key in LISTS:
            self.data[key] = [entry for entry in self.data.get(key, []) if entry.docname != docname]
        self.descriptions.pop(docname, None)

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        wanted = set(docnames)
        for key in LISTS:
            mine = self.data.setdefault(key, [])
            mine.extend(entry for entry in otherdata.get(key, []) if entry.docname in wanted)
        theirs = otherdata.get("descriptions", {})
        self.descriptions.update((doc, theirs[doc]) for doc in wanted if doc in theirs)

    def find_field(self, target: str) -> FieldTarget | None:
        """The table row that ``target`` names; see the module docstring for the forms."""
        format_id, dialect, rest = split_field_target(target)
        matches = [
            t
            for t in self.fields
            if t.format == format_id and (not dialect or t.dialect == dialect) and t.field == rest
        ]
        # a whole-format table first, then dialects in order: the same answer in every build
        matches.sort(key=lambda t: (t.dialect != "", t.dialect, t.docname, t.anchor))
        return matches[0] if matches else None

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: pending_xref,
        contnode: Element,
    ) -> nodes.reference | None:
        if typ == "rule":
            rule = self.find_rule(target, fromdocname)
            if rule is None:
                return None
            title = f"{rule.id}: {rule.title}"
            return make_refnode(builder, fromdocname, rule.docname, rule.anchor, contnode, title)
        found = self.find_field(target)
        if found is None:
            return None
        title = found.field + (f": {found.description}" if found.description else "")
        return make_refnode(builder, fromdocname, found.docname, found.anchor, contnode, title)

    def find_rule(self, target: str, fromdocname: str = "") -> RuleTarget | None:
        """The entry of rule ``target``, or of the family its first word names; an entry
        in the linking document first, then the same answer in every build."""
        family = target.split(".", 1)[0] + ".*"
        for wanted in (target, family):
            found = (t for t in self.rules if t.id == wanted)
            matches = sorted(found, key=lambda t: (t.docname != fromdocname, t.docname, t.anchor))
            if matches:
                return matches[0]
        return None

    def first_sample_showing(
        self, target: str, docname: str, shown: Callable[[SampleRecord], bool] = bool
    ) -> SampleRecord | None:
        """The first sample of ``docname`` that shows field ``FORMAT[:DIALECT].FIELD``,
        of those that ``shown`` says this build's output holds."""
        format_id, dialect, field = split_field_target(target)
        return self._first(
            (
                s
                for s in self.samples
                if s.docname == docname
                and s.format == format_id
                and (not dialect or s.dialect == dialect)
                and field in s.fields
            ),
            shown,
        )

    def first_sample_breaking(
        self, rule_id: str, docname: str, shown: Callable[[SampleRecord], bool] = bool
    ) -> SampleRecord | None:
        """The first sample of ``docname`` that fired ``rule_id`` (a counter-example), of
        those that ``shown`` says this build's output holds."""
        return self._first(
            (s for s in self.samples if s.docname == docname and rule_id in s.fired), shown
        )

    @staticmethod
    def _first(
        samples: Iterable[SampleRecord], shown: Callable[[SampleRecord], bool]
    ) -> SampleRecord | None:
        # grouped samples are recorded after the others: order by place in the page
        return min((s for s in samples if shown(s)), key=lambda s: s.line, default=None)

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: pending_xref,
        contnode: Element,
    ) -> list[tuple[str, nodes.reference]]:
        found = []
        for typ in ("field", "rule"):
            ref = self.resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
            if ref is not None:
                found.append((f"balloon:{typ}", ref))
        return found

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for t in self.fields:
            name = f"{t.format}:{t.dialect}.{t.field}" if t.dialect else f"{t.format}.{t.field}"
            yield name, name, "field", t.docname, t.anchor, 1
        for r in self.rules:
            yield r.id, r.id, "rule", r.docname, r.anchor, 1


def rule_anchor(rule_id: str) -> str:
    """The HTML id of a rule's entry: ``balloon-rule-virtio-no-access-platform``."""
    return nodes.make_id("balloon-rule-" + rule_id.replace("*", "family"))


def field_anchor(format_id: str, dialect: str, field: str) -> str:
    """The HTML id of a field row: ``balloon-field-hv-balloon-6-0-pages-ballooned``."""
    return nodes.make_id("-".join(("balloon-field", format_id, dialect, field)))


def duplicate_tables(app: Any, env: BuildEnvironment) -> None:
    """``env-check-consistency``: one warning for each schema whose whole table stands on
    more than one page, naming them all (its ``:balloon-field:`` links go to the first)."""
    domain = cast(BalloonDomain, env.get_domain("balloon"))
    pages: dict[tuple[str, str], dict[str, int]] = {}
    for target in domain.fields:
        lines = pages.setdefault((target.format, target.dialect), {})
        lines[target.docname] = min(lines.get(target.docname, target.line), target.line)
    for (format_id, dialect), docnames in sorted(pages.items()):
        if len(docnames) < 2:
            continue
        names = sorted(docnames)
        table = f"{format_id} {dialect}".strip()
        logger.warning(
            f"balloon-schema: the table of {table} is on {len(names)} pages: "
            f"{', '.join(str(env.doc2path(n, False)) for n in names)}; field links go to "
            f"{env.doc2path(names[0], False)}",
            location=(names[-1], docnames[names[-1]] or None),
            type="balloon",
            subtype="duplicate-table",
        )
