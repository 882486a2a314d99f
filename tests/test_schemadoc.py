"""conformance.schemadoc: field documentation looked up through $ref / allOf / anyOf."""

from __future__ import annotations

from typing import Any

import pytest
from referencing import Registry, Resource

from conformance import schemas
from conformance.schemadoc import FieldDoc, describe, field_rows, referenced_documents

BASE = schemas.BASE_URI


@pytest.fixture(scope="module")
def registry() -> Registry[Any]:
    return schemas.registry()


def test_own_keywords_win_over_the_ref_target(registry: Registry[Any]) -> None:
    doc = describe(registry, BASE + "hv-balloon.6.0.schema.json", "/pages_ballooned")
    # the property says 4KiB-pages; common.schema.json#/$defs/u32 says count
    assert doc == FieldDoc(
        "/pages_ballooned",
        type="integer",
        unit="4KiB-pages",
        description=doc.description if doc else "",
        since=("6.0",),
    )
    assert doc is not None and doc.description.startswith("Pages currently given to the host")


def test_members_are_found_through_ref(registry: Registry[Any]) -> None:
    doc = describe(registry, BASE + "hv-balloon.rfc.schema.json", "/host_version/major")
    assert doc is not None
    assert (doc.type, doc.unit, doc.name, doc.depth) == (
        "integer",
        "version",
        "host_version.major",
        2,
    )
    item = describe(registry, BASE + "hv-balloon.6.0.schema.json", "/capabilities/0")
    assert item is not None and item.type == "enum"


def test_unknown_members_and_schemas(registry: Registry[Any]) -> None:
    assert describe(registry, BASE + "hv-balloon.6.0.schema.json", "/pages_ballooned_out") is None
    assert describe(registry, BASE + "no-such.schema.json", "/x") is None
    assert field_rows(registry, BASE + "no-such.schema.json") == []


def test_rows_of_a_whole_format_merge_its_dialects(registry: Registry[Any]) -> None:
    rows = {row.name: row for row in field_rows(registry, BASE + "hv-balloon.schema.json")}
    assert rows["host_version"].since == ("6.0", "RFC")
    assert rows["pages_ballooned"].since == ("6.0",)
    assert rows["pages_ballooned_out"].since == ("RFC",)
    # members take their parent's first kernels
    assert rows["state.code"].since == ("6.0", "RFC")
    assert rows["page_size"].unit == "bytes" and rows["page_size"].type == "integer"
    names = list(rows)
    assert names.index("host_version") < names.index("host_version.major")


def test_first_kernels_are_listed_oldest_first_whatever_the_if_then_order(
    registry: Registry[Any],
) -> None:
    # virtio-features tries 6.17 first, then 2.6.24, and 3.19 last
    rows = {row.name: row for row in field_rows(registry, BASE + "virtio-features.schema.json")}
    assert rows["bits"].since == ("2.6.24", "3.19", "6.17")
    rows = {row.name: row for row in field_rows(registry, BASE + "vmmemctl.schema.json")}
    assert rows["stats.timer"].since == ("2.6.34", "4.20")


def test_a_oneof_of_described_consts_is_an_enum(registry: Registry[Any]) -> None:
    # a declared type wins; the description is the member's own, not its first value's
    doc = describe(registry, BASE + "vmmemctl.schema.json", "/capabilities/used/names/0")
    assert doc is not None and (doc.type, doc.description) == ("string", "The name of one set bit.")
    doc = describe(registry, BASE + "hv-balloon.schema.json", "/capabilities/1")
    assert doc is not None and doc.type == "enum" and doc.description.startswith("One capab")


def test_anyof_allof_and_cycles() -> None:
    draft = "https://json-schema.org/draft/2020-12/schema"
    root = {
        "$schema": draft,
        "$id": "urn:t/root",
        "allOf": [{"$ref": "urn:t/part"}],
        "anyOf": [{"properties": {"b": {"description": "from anyOf", "x-since": "2"}}}],
        "properties": {"a": {"$ref": "#/$defs/a", "x-since": "1"}},
        "$defs": {"a": {"description": "A", "x-unit": "kB", "$ref": "#/$defs/a"}},
    }
    part = {"$schema": draft, "$id": "urn:t/part", "properties": {"c": {"const": "x"}}}
    registry: Registry[Any] = Registry().with_resources(
        [(doc["$id"], Resource.from_contents(doc)) for doc in (root, part)]  # type: ignore[index]
    )
    rows = field_rows(registry, "urn:t/root")
    assert [(r.name, r.description, r.unit, r.since, r.type) for r in rows] == [
        ("a", "A", "kB", ("1",), ""),
        ("c", "", "", (), "string"),
        ("b", "from anyOf", "", ("2",), ""),
    ]
    assert referenced_documents(registry, "urn:t/root") == ["urn:t/part", "urn:t/root"]


def test_referenced_documents(registry: Registry[Any]) -> None:
    names = [
        u.rsplit("/", 1)[1]
        for u in referenced_documents(registry, BASE + "hv-balloon.6.0.schema.json")
    ]
    assert names == [
        "common.schema.json",
        "hv-balloon.6.0.schema.json",
        "hv-balloon.rfc.schema.json",
        "hv-balloon.schema.json",
    ]
