"""The ``balloon`` domain: the cross-document state of the extension.

It holds the field anchors that ``balloon-schema`` tables create, so that
``:balloon-field:`hv-balloon.pages_ballooned``` resolves in any document, and the
samples each document checked, with the diagnostic ids they fired, for the rule pages
of issue #3 (a rule's counter-examples). All of it is keyed by document, so
:meth:`BalloonDomain.clear_doc` and :meth:`BalloonDomain.merge_domaindata` keep
incremental and parallel builds right.

Field targets: ``FORMAT.FIELD`` (``hv-balloon.host_version.major``) finds the format's
table, or a dialect's when no table covers the whole format; ``FORMAT:DIALECT.FIELD``
(``hv-balloon:rfc.pages_ballooned_out``) finds that dialect's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from docutils import nodes
from docutils.nodes import Element
from sphinx.addnodes import pending_xref
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util.nodes import make_refnode


class FieldTarget(NamedTuple):
    """A field row of a ``balloon-schema`` table."""

    format: str
    dialect: str
    """Empty for a table of the whole format."""
    field: str
    docname: str
    anchor: str
    description: str


class SampleRecord(NamedTuple):
    """A checked sample: where it is and which diagnostic ids it fired."""

    docname: str
    anchor: str
    format: str
    dialect: str
    fired: tuple[str, ...]


class BalloonDomain(Domain):
    """Fields documented by ``balloon-schema`` and samples checked by ``balloon-sample``."""

    name = "balloon"
    label = "Balloon statistics"
    object_types = {"field": ObjType("field", "field")}  # noqa: RUF012 -- Sphinx's API
    roles = {"field": XRefRole()}  # noqa: RUF012
    initial_data = {"fields": [], "samples": []}  # noqa: RUF012

    @property
    def fields(self) -> list[FieldTarget]:
        return self.data.setdefault("fields", [])  # type: ignore[no-any-return]

    @property
    def samples(self) -> list[SampleRecord]:
        return self.data.setdefault("samples", [])  # type: ignore[no-any-return]

    def note_field(self, target: FieldTarget) -> None:
        """Record a field anchor; a second table of the same field in one document is
        the writer's choice and both stay linkable by their own anchors."""
        self.fields.append(target)

    def note_sample(self, record: SampleRecord) -> None:
        self.samples.append(record)

    def clear_doc(self, docname: str) -> None:
        self.data["fields"] = [t for t in self.fields if t.docname != docname]
        self.data["samples"] = [s for s in self.samples if s.docname != docname]

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        wanted = set(docnames)
        self.fields.extend(t for t in otherdata.get("fields", []) if t.docname in wanted)
        self.samples.extend(s for s in otherdata.get("samples", []) if s.docname in wanted)

    def find_field(self, target: str) -> FieldTarget | None:
        """The table row that ``target`` names; see the module docstring for the forms."""
        head, _, rest = target.partition(".")
        format_id, _, dialect = head.partition(":")
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
        found = self.find_field(target)
        if found is None:
            return None
        title = found.field + (f": {found.description}" if found.description else "")
        return make_refnode(builder, fromdocname, found.docname, found.anchor, contnode, title)

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: pending_xref,
        contnode: Element,
    ) -> list[tuple[str, nodes.reference]]:
        found = self.resolve_xref(env, fromdocname, builder, "field", target, node, contnode)
        return [("balloon:field", found)] if found is not None else []

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for t in self.fields:
            name = f"{t.format}:{t.dialect}.{t.field}" if t.dialect else f"{t.format}.{t.field}"
            yield name, name, "field", t.docname, t.anchor, 1


def field_anchor(format_id: str, dialect: str, field: str) -> str:
    """The HTML id of a field row: ``balloon-field-hv-balloon-6-0-pages-ballooned``."""
    return nodes.make_id("-".join(("balloon-field", format_id, dialect, field)))
