"""The ``balloon-schema`` directive: the fields of a format's schema as a table.

``.. balloon-schema:: hv-balloon`` documents the whole format (every dialect's fields,
with the first kernel of each dialect that has them); ``.. balloon-schema:: hv-balloon
rfc`` one dialect. Columns: field, type, unit, description, first kernel (``x-since``).
Each field row carries an anchor that ``:balloon-field:`` links to, and the table
depends on the schema files it was made from.
"""

from __future__ import annotations

from typing import cast

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from conformance import BalloonError, get_format, schemas
from conformance.schemadoc import FieldDoc, field_rows

from . import settings
from .domain import BalloonDomain, FieldTarget, field_anchor

HEADINGS = ("Field", "Type", "Unit", "Description", "First kernel")
WIDTHS = (22, 10, 10, 46, 12)


class SchemaDirective(SphinxDirective):
    """``.. balloon-schema:: FORMAT [DIALECT]``."""

    required_arguments = 1
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        extra = settings.extra_schemas(self.config)
        format_id = self.arguments[0]
        dialect = self.arguments[1] if len(self.arguments) > 1 else ""
        try:
            spec = get_format(format_id)
            name = spec.dialect(dialect).schema if dialect else spec.schema
            title = spec.title + (f", dialect {dialect}" if dialect else "")
            rows = field_rows(schemas.registry(extra), settings.schema_uri(name, extra))
            files = settings.schema_files(name, extra)
        except BalloonError as exc:
            raise self.error(f"balloon-schema: {exc}") from None
        for file in files:
            self.env.note_dependency(str(file))
        table = self._table(title, format_id, dialect, rows)
        self.set_source_info(table)
        return [table]

    def _table(self, title: str, format_id: str, dialect: str, rows: list[FieldDoc]) -> nodes.table:
        table = nodes.table(classes=["balloon-schema"])
        table += nodes.title(title, title)
        group = nodes.tgroup(cols=len(HEADINGS))
        table += group
        for width in WIDTHS:
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += _row(*(nodes.Text(heading) for heading in HEADINGS))
        group += head
        body = nodes.tbody()
        group += body
        domain = cast(BalloonDomain, self.env.get_domain("balloon"))
        for row in rows:
            anchor = self._anchor(format_id, dialect, row.name)
            target = nodes.target("", "", ids=[anchor])
            self.state.document.note_explicit_target(target)
            name = nodes.literal(row.name, row.name)
            body += _row(
                nodes.inline("", "", target, name),
                nodes.Text(row.type),
                nodes.Text(row.unit),
                nodes.Text(row.description),
                nodes.Text(", ".join(row.since)),
            )
            domain.note_field(
                FieldTarget(
                    format_id,
                    dialect,
                    row.name,
                    self.env.docname,
                    anchor,
                    row.description,
                    self.lineno,
                )
            )
        return table

    def _anchor(self, format_id: str, dialect: str, field: str) -> str:
        """The row's id; a second table of the same schema in a document gets new ones."""
        anchor = field_anchor(format_id, dialect, field)
        if anchor in self.state.document.ids:
            anchor += f"-{self.env.new_serialno('balloon-field')}"
        return anchor


def _row(*cells: nodes.Node) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", cell)
        row += entry
    return row
