"""Without ``referencing`` (python-jsonschema before 4.18, what Debian 12 and Ubuntu 24.04
ship), the schema documentation the extension shows comes from
:class:`conformance.schemas.PlainRegistry`: it must say what the ``referencing`` registry
says. ``make test-floors`` runs the Sphinx tests where that registry is the only one."""

from __future__ import annotations

import pytest

from conformance import schemas
from conformance.schemadoc import describe, field_rows, referenced_documents


def _uris() -> list[str]:
    # the formats' schemas; the meta-schema refers to draft 2020-12's, which only
    # referencing holds
    return sorted(uri for uri in schemas._by_id() if "/meta/" not in uri)


@pytest.mark.parametrize("uri", _uris())
def test_plain_registry_documents_fields_as_referencing_does(uri: str) -> None:
    pytest.importorskip("referencing")
    plain = schemas.PlainRegistry(schemas._by_id())
    full = schemas.registry()
    rows = field_rows(full, uri)
    assert field_rows(plain, uri) == rows
    for row in rows:
        assert describe(plain, uri, row.pointer) == describe(full, uri, row.pointer)
    assert referenced_documents(plain, uri) == referenced_documents(full, uri)


def test_plain_registry_reports_what_it_cannot_follow() -> None:
    plain = schemas.PlainRegistry(schemas._by_id())
    with pytest.raises(schemas.Unresolvable):
        plain.lookup(schemas.BASE_URI + "no-such.schema.json")
    uri = schemas.BASE_URI + "hv-balloon.6.0.schema.json"
    with pytest.raises(LookupError):
        plain.resolver(uri).lookup("#/properties/no_such_field")
    assert describe(plain, uri, "/no_such_field") is None
