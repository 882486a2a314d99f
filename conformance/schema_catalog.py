"""The schema catalog: every schema file listed in SchemaStore's catalog format.

``balloon-conform schema export DIR`` writes it as ``DIR/catalog.json`` beside the
``schemas/`` and ``bundled/`` folders. Each entry has SchemaStore's members (``name``,
``description``, ``url``, ``versions``, ``fileMatch``) and three of ours that catalog
readers ignore: ``format``, ``dialect`` and ``kernels`` (the kernel range whose files the
schema describes). A ``url`` is the schema's ``$id``: a name, not a download; the
``path`` and ``bundled`` members say where the exported files are, relative to the
catalog.
"""

from __future__ import annotations

from typing import Any

from . import schemas
from .formats import FORMATS
from .model import FormatSpec

CATALOG_SCHEMA = "https://json.schemastore.org/schema-catalog.json"
VERSION = "v1"
"""The schema set's version, the last segment of :data:`schemas.BASE_URI`."""

_OTHERS = {
    "capture.schema.json": ("capture", ["capture.json"]),
    "report.schema.json": ("report", ["*.balloon-report.json"]),
}


def catalog() -> dict[str, Any]:
    """The catalog document: one entry per schema file, the meta-schema included."""
    entries = []
    covered = set()
    for spec in FORMATS:
        entries.append(_entry(spec.schema, spec.id, "any", _kernels(spec, None), spec.id))
        covered.add(spec.schema)
        for dialect in spec.dialects:
            if dialect.schema not in covered:
                kernels = _kernels(spec, dialect.id)
                name = f"{spec.id}.{dialect.id}"
                entries.append(_entry(dialect.schema, spec.id, dialect.id, kernels, name))
                covered.add(dialect.schema)
    for name in schemas.names():
        if name not in covered:
            kind, matches = _OTHERS.get(name, (None, []))
            entries.append(_entry(name, kind, None, None, None, matches))
    return {"$schema": CATALOG_SCHEMA, "version": 1, "schemas": entries}


def _entry(
    name: str,
    format_id: str | None,
    dialect: str | None,
    kernels: str | None,
    match: str | None,
    file_match: list[str] | None = None,
) -> dict[str, Any]:
    document = schemas.document(name)
    url = schemas.BASE_URI + name
    return {
        "name": document["title"],
        "description": document["description"],
        "url": url,
        "versions": {VERSION: url},
        "fileMatch": file_match if file_match is not None else [f"*.{match}.json"],
        "format": format_id,
        "dialect": dialect,
        "kernels": kernels,
        "path": "schemas/" + name,
        "bundled": "bundled/" + name,
    }


def _kernels(spec: FormatSpec, dialect_id: str | None) -> str:
    """The kernels whose files a dialect describes: from its first kernel to the next
    dialect's; 'RFC' dialects were never merged. ``None`` asks for the whole format."""
    mainline = sorted(
        (d for d in spec.dialects if d.first_kernel[:1].isdigit()),
        key=lambda d: tuple(int(p) for p in d.first_kernel.split(".")),
    )
    if dialect_id is None:
        first = f"{mainline[0].first_kernel} and later" if mainline else "none"
        rfc = any(not d.first_kernel[:1].isdigit() for d in spec.dialects)
        return first + (", and RFC patches never merged" if rfc else "")
    dialect = spec.dialect(dialect_id)
    if dialect not in mainline:
        return "RFC patches never merged (vendor kernels)"
    after = mainline[mainline.index(dialect) + 1 :]
    if after:
        return f"{dialect.first_kernel} up to before {after[0].first_kernel}"
    return f"{dialect.first_kernel} and later"
