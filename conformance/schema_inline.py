"""Schemas with their ``$ref`` replaced by what they refer to, for fast validation.

The schema files keep their ``$ref`` (they are the published source of truth), but
resolving a reference costs a URI join and a registry lookup on every validation: for a
meminfo instance that was more than half the validation time. :func:`inline` makes, once
per schema, an equivalent schema in which each ``{"$ref": X, ...}`` becomes
``{..., "allOf": [<X, inlined>]}``. In draft 2020-12 a ``$ref`` is an applicator that
sits beside its sibling keywords exactly as an ``allOf`` member does, annotations
included, so the validation outcome is the same. References that would recurse are left
as they are.

One exception: jsonschema counts the properties a failing ``$ref`` target evaluated for
``unevaluatedProperties``, but not those of a failing ``allOf`` member, so on an invalid
instance the two forms can report differently. A schema whose closure uses
``unevaluatedProperties`` or ``unevaluatedItems`` is therefore returned unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag, urljoin


def inline(root: dict[str, Any], documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """``root`` with every non-recursive ``$ref`` inlined; ``documents`` maps each
    schema's ``$id`` to the schema."""
    base = root.get("$id", "")
    result = _inline(root, base, documents, (base,))
    if not isinstance(result, dict) or _uses_unevaluated(result):
        return root
    return result


def _uses_unevaluated(node: Any) -> bool:
    if isinstance(node, dict):
        if "unevaluatedProperties" in node or "unevaluatedItems" in node:
            return True
        return any(_uses_unevaluated(value) for value in node.values())
    if isinstance(node, list):
        return any(_uses_unevaluated(item) for item in node)
    return False


def _inline(
    node: Any, base: str, documents: Mapping[str, dict[str, Any]], stack: tuple[str, ...]
) -> Any:
    if isinstance(node, list):
        return [_inline(item, base, documents, stack) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _inline(value, base, documents, stack) for key, value in node.items() if key != "$ref"
    }
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return out
    target_uri = urljoin(base, ref)
    found = _resolve(target_uri, documents)
    if found is None or target_uri in stack:
        out["$ref"] = ref  # recursive or unknown: the registry resolves it at run time
        return out
    target, target_base = found
    inlined = _inline(target, target_base, documents, (*stack, target_uri))
    out["allOf"] = [*out.get("allOf", []), inlined]
    return out


def _resolve(uri: str, documents: Mapping[str, dict[str, Any]]) -> tuple[Any, str] | None:
    """The subschema ``uri`` names, and the base URI its own references resolve against."""
    address, fragment = urldefrag(uri)
    document = documents.get(address)
    if document is None:
        return None
    node: Any = document
    for token in filter(None, fragment.split("/")):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node, address
