"""What a schema says about each field, for documentation: description, unit, type, since.

The format schemas spread what they say about a field over several places: a property's
own ``description`` and ``x-unit``, the ``$defs`` entry it refers to, the ``common``
integer ranges, and for a whole format the ``anyOf`` or ``if``/``then``/``else`` of its
dialects. :func:`describe` looks one member up by JSON pointer through ``$ref`` / ``allOf`` /
``anyOf`` / ``oneOf`` / ``then`` / ``else``;
:func:`field_rows` flattens a schema into one row per field (what ``balloon-schema``
prints); :func:`referenced_documents` names every schema document a schema depends on.

The nearest statement wins: a property's own keyword before its ``$ref`` target's, a
``$ref`` target before ``allOf`` branches, ``allOf`` before ``anyOf`` / ``oneOf``. Only
``x-since`` is collected from every place, because a field of a whole format first
appeared in one kernel per dialect; the kernels are listed oldest first. A ``oneOf`` of
``const`` values is an enumeration (type ``enum``).

Pure functions of a :class:`referencing.Registry`; no file access, no Sphinx.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from .records import replace

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

try:
    from referencing.exceptions import Unresolvable
except ImportError:  # python-jsonschema before 4.18: conformance.schemas.PlainRegistry
    from .schemas import Unresolvable  # type: ignore[assignment]

from .schemas import references
from .text import pointer_token

if TYPE_CHECKING:
    from referencing import Registry

    # referencing exports no name for the resolver a lookup returns; _core is where it lives
    from referencing._core import Resolver

MAX_DEPTH = 4
"""How deep field_rows descends into nested objects; the kernel files nest two levels."""

_BRANCHES = ("allOf", "anyOf", "oneOf")
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


@dataclass(frozen=True)
class FieldDoc:
    """What the schema says about one field."""

    pointer: str
    """JSON pointer of the field in an instance, e.g. ``/host_version/major``."""
    type: str = ""
    unit: str = ""
    description: str = ""
    since: tuple[str, ...] = ()
    """``x-since`` values (first kernel of each dialect that has the field), in order."""

    @property
    def name(self) -> str:
        """The pointer as a dotted name: ``host_version.major``."""
        return ".".join(_unescape(token) for token in self.pointer.split("/")[1:])

    @property
    def depth(self) -> int:
        return self.pointer.count("/")


@dataclass(frozen=True)
class _View:
    """A subschema together with the resolver that knows its base URI."""

    contents: Mapping[str, Any]
    resolver: Resolver[Any]


def _root(registry: Registry[Any], uri: str) -> _View | None:
    try:
        resolved = registry.resolver(base_uri=uri).lookup(uri)
    except Unresolvable:
        return None
    if not isinstance(resolved.contents, Mapping):
        return None
    return _View(resolved.contents, resolved.resolver)


def _expand(view: _View, seen: set[int] | None = None) -> Iterator[_View]:
    """``view`` itself, then everything it is made of, nearest first."""
    seen = set() if seen is None else seen
    if id(view.contents) in seen:  # a $ref cycle must not loop
        return
    seen.add(id(view.contents))
    yield view
    ref = view.contents.get("$ref")
    if isinstance(ref, str):
        try:
            target = view.resolver.lookup(ref)
        except Unresolvable:
            target = None
        if target is not None and isinstance(target.contents, Mapping):
            yield from _expand(_View(target.contents, target.resolver), seen)
    for keyword in _BRANCHES:
        branches = view.contents.get(keyword)
        if isinstance(branches, list):
            for branch in branches:
                if isinstance(branch, Mapping):
                    yield from _expand(_View(branch, view.resolver), seen)
    # a whole format picks its dialect with if/then/else, nested where it has more than two
    for keyword in ("else", "then"):
        branch = view.contents.get(keyword)
        if isinstance(branch, Mapping):
            yield from _expand(_View(branch, view.resolver), seen)


def _children(views: list[_View], token: str) -> list[_View]:
    """The subschemas that describe member ``token`` of an instance of ``views``."""
    found: list[_View] = []
    for outer in views:
        for view in _expand(outer):
            properties = view.contents.get("properties")
            items = view.contents.get("items")
            if isinstance(properties, Mapping) and isinstance(properties.get(token), Mapping):
                found.append(_View(properties[token], view.resolver))
            elif token.isdigit() and isinstance(items, Mapping):
                found.append(_View(items, view.resolver))
    return found


def _first(views: list[_View], keyword: str) -> Any:
    for outer in views:
        for view in _expand(outer):
            if keyword in view.contents:
                return view.contents[keyword]
    return None


def _type_of(views: list[_View]) -> str:
    declared = _first(views, "type")
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list):
        return " or ".join(str(t) for t in declared)
    if _first(views, "enum") is not None or _is_enumeration(_first(views, "oneOf")):
        return "enum"
    const = _first(views, "const")
    for python_type, name in _JSON_TYPES:
        if const is not None and isinstance(const, python_type):
            return name
    return "object" if _first(views, "properties") is not None else ""


def _kernel_order(since: str) -> tuple[int, tuple[int, ...], str]:
    """Mainline versions oldest first, then 'RFC' and 'dev' (never merged), whatever
    order the dialects come in the schema."""
    parts = since.split(".")
    if all(part.isdigit() for part in parts):
        return (0, tuple(int(part) for part in parts), "")
    return (1, (), since)


def _is_enumeration(branches: Any) -> bool:
    """A ``oneOf`` of ``const`` values, each with its description: how the schemas
    write an enumeration, so that every value is explained."""
    return (
        isinstance(branches, list)
        and bool(branches)
        and all(isinstance(b, Mapping) and "const" in b for b in branches)
    )


def _doc(pointer: str, views: list[_View]) -> FieldDoc:
    since: list[str] = []
    for outer in views:
        for view in _expand(outer):
            value = view.contents.get("x-since")
            if isinstance(value, str) and value not in since:
                since.append(value)
    since.sort(key=_kernel_order)
    description = _first(views, "description")
    unit = _first(views, "x-unit")
    return FieldDoc(
        pointer=pointer,
        type=_type_of(views),
        unit=unit if isinstance(unit, str) else "",
        description=description if isinstance(description, str) else "",
        since=tuple(since),
    )


def describe(registry: Registry[Any], uri: str, pointer: str) -> FieldDoc | None:
    """What schema ``uri`` says about the instance member at ``pointer``, or None when
    the schema has no such member."""
    root = _root(registry, uri)
    if root is None:
        return None
    views = [root]
    for token in pointer.split("/")[1:]:
        views = _children(views, _unescape(token))
        if not views:
            return None
    return _doc(pointer, views)


def _property_names(views: list[_View]) -> list[str]:
    names: list[str] = []
    for outer in views:
        for view in _expand(outer):
            properties = view.contents.get("properties")
            if isinstance(properties, Mapping):
                names.extend(name for name in properties if name not in names)
    return names


def field_rows(registry: Registry[Any], uri: str) -> list[FieldDoc]:
    """Every field of schema ``uri``, parents before their members, in schema order.

    Members of nested objects without an ``x-since`` of their own take their parent's."""
    root = _root(registry, uri)
    return [] if root is None else list(_rows([root], "", (), 1))


def _rows(
    views: list[_View], pointer: str, since: tuple[str, ...], depth: int
) -> Iterator[FieldDoc]:
    if depth > MAX_DEPTH:
        return
    for name in _property_names(views):
        children = _children(views, name)
        row = _doc(f"{pointer}/{pointer_token(name)}", children)
        # a member of an object is as old as the object unless it says otherwise
        row = row if row.since else replace(row, since=since)
        yield row
        yield from _rows(children, row.pointer, row.since, depth + 1)


def referenced_documents(registry: Registry[Any], uri: str) -> list[str]:
    """URIs of ``uri``'s document and of every document it reaches through ``$ref``."""
    found: list[str] = []
    pending = [urldefrag(uri).url]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        try:
            contents = registry.contents(current)
        except (LookupError, Unresolvable):
            continue
        found.append(current)
        pending.extend(urldefrag(urljoin(current, ref)).url for ref in references(contents))
    return sorted(found)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
