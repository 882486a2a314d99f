"""Inlined schemas validate exactly as the published ones do."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance import schemas
from conformance.schema_inline import inline

from .golden import golden_path, samples

NAMES = [n for n in schemas.names() if not n.startswith("meta/")]
GOLDEN = [json.loads(golden_path(s).read_text()) for s in samples()]


def _mutations(instance: Any) -> list[Any]:
    """The instance, and copies with one member removed or changed to a wrong value."""
    out = [instance]
    if isinstance(instance, dict):
        for key in list(instance)[:3]:
            out.append({k: v for k, v in instance.items() if k != key})
            out.append({**instance, key: -1})
            out.append({**instance, key: "x"})
    return out


def _cases(name: str) -> list[Any]:
    """Examples of the schema and the parsed samples of its format, each mutated."""
    fmt = name.split(".", 1)[0]
    instances = [g["instance"] for g in GOLDEN if g["format"] == fmt][:6]
    examples = schemas.document(name).get("examples", [])
    return [m for i in instances + examples for m in _mutations(i)]


@pytest.mark.parametrize("name", NAMES)
def test_same_verdicts_as_the_published_schema(name: str) -> None:
    original = Draft202012Validator(schemas.document(name), registry=schemas.registry())
    fast = schemas.validator(name)
    for case in _cases(name):
        assert sorted(e.message for e in fast.iter_errors(case)) == sorted(
            e.message for e in original.iter_errors(case)
        )


def test_recursive_references_stay() -> None:
    base = "https://example.org/s.json"
    tree = {"$id": base, "type": "object", "properties": {"child": {"$ref": "#"}}}
    assert inline(tree, {base: tree})["properties"]["child"] == {"$ref": "#"}


def test_a_reference_becomes_an_all_of_member_beside_its_siblings() -> None:
    base = "https://example.org/s.json"
    doc = {
        "$id": base,
        "$defs": {"u8": {"type": "integer", "maximum": 255}},
        "properties": {"a": {"$ref": "#/$defs/u8", "minimum": 1}},
    }
    assert inline(doc, {base: doc})["properties"]["a"] == {
        "minimum": 1,
        "allOf": [{"type": "integer", "maximum": 255}],
    }
