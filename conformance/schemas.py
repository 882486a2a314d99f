"""The JSON Schemas: loading them offline, validating instances, exporting them.

Every ``*.schema.json`` file is one resource in a single :class:`referencing.Registry`,
keyed by its ``$id`` (``https://sphinxext-balloon.github.io/schemas/v1/<file>``), so the
relative ``$ref`` between files resolve without any network access. Two validators are
built per schema file, each once, when first needed, and reused for every instance: the
fast one of :mod:`conformance.validation` says whether an instance is valid; the
reference python-jsonschema one (:func:`validator`) explains an instance the fast one
rejects (or cannot judge), and only then.

Schema failures become diagnostics located through the parser's source map; a failure at
a value the parser already reported an error for is not reported twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from . import validation
from .diagnostics import Diagnostic, Severity
from .errors import SchemaError
from .model import ParseResult
from .schema_inline import inline
from .text import pointer_token

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

if TYPE_CHECKING:  # imported when first used: they cost more than the rest of a start-up
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

BASE_URI = "https://sphinxext-balloon.github.io/schemas/v1/"
META_SCHEMA = "meta/balloon-meta.schema.json"
SUFFIX = ".schema.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def schema_dir() -> Path:
    """Where the schema files are: inside the installed package, or the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schema_files", here.parent / "schemas"):
        if (candidate / META_SCHEMA).is_file():
            return candidate
    raise SchemaError(f"schema files not found next to {here}; the installation is incomplete")


@cache
def _documents(extra: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Every schema document by its file name relative to its folder."""
    documents: dict[str, dict[str, Any]] = {}
    for folder in (schema_dir(), *map(Path, extra)):
        for path in sorted(folder.rglob("*" + SUFFIX)):
            documents[path.relative_to(folder).as_posix()] = _load(path)
    return documents


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot load schema {path}: {exc}") from exc
    return loaded


@cache
def _file(name: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document in file ``name``, from the last folder holding it (as in
    :func:`_documents`), without reading the other files: one validation at start-up
    needs a few of them, not all."""
    if name.endswith(SUFFIX) and ".." not in name.split("/") and not name.startswith("/"):
        for folder in reversed((schema_dir(), *map(Path, extra))):
            if (folder / name).is_file():
                return _load(folder / name)
    raise SchemaError(f"no schema file {name!r}")


def forget() -> None:
    """Drop every schema read so far, to read the files again: for a long-lived process
    whose schema folders changed (a documentation build that rebuilds on edits)."""
    for cached in (_documents, _file, registry, _by_id, inlined, validator, fast_validator):
        cached.cache_clear()


def names(extra: tuple[str, ...] = ()) -> list[str]:
    """File names of all schemas (the meta-schema included), sorted."""
    return sorted(_documents(extra))


def document(name: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The schema document stored in file ``name`` (e.g. ``hv-balloon.6.0.schema.json``)."""
    try:
        return _documents(extra)[name]
    except KeyError:
        raise SchemaError(f"no schema file {name!r}") from None


@cache
def registry(extra: tuple[str, ...] = ()) -> Registry:
    """One registry holding every schema as a resource under its ``$id``. Their
    ``$schema`` names our meta-schema, a draft 2020-12 dialect ``referencing`` cannot
    detect by itself, so each is read as draft 2020-12. Without ``referencing``
    (python-jsonschema before 4.18, as Debian 12 and Ubuntu 24.04 ship it), a
    :class:`PlainRegistry` of the same documents answers the same lookups."""
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012
    except ImportError:
        return PlainRegistry(_by_id(extra))  # type: ignore[return-value]

    resources = [
        (doc.get("$id", BASE_URI + name), DRAFT202012.create_resource(doc))
        for name, doc in _documents(extra).items()
    ]
    return Registry().with_resources(resources).crawl()


class Unresolvable(LookupError):
    """A ``$ref`` that :class:`PlainRegistry` cannot follow."""


@dataclass(frozen=True)
class Resolved:
    """What :meth:`PlainRegistry.lookup` finds: the subschema and where it lives."""

    contents: Any
    resolver: PlainRegistry


@dataclass(frozen=True)
class PlainRegistry:
    """The part of :class:`referencing.Registry` the schema documentation uses, for
    installations without ``referencing``: absolute ``$id`` documents, ``$ref`` as a
    URI relative to the referring document, fragments as JSON pointers."""

    documents: Mapping[str, Any]
    base: str = ""

    def resolver(self, base_uri: str = "") -> PlainRegistry:
        return PlainRegistry(self.documents, base_uri)

    def contents(self, uri: str) -> Any:
        try:
            return self.documents[uri]
        except KeyError:
            raise Unresolvable(uri) from None

    def lookup(self, ref: str) -> Resolved:
        uri, fragment = urldefrag(urljoin(self.base, ref))
        node = self.contents(uri)
        for token in fragment.split("/")[1:] if fragment else ():
            token = token.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(token) if isinstance(node, list) else token]
            except (KeyError, IndexError, ValueError, TypeError):
                raise Unresolvable(ref) from None
        return Resolved(node, self.resolver(uri))


@cache
def _by_id(extra: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    return {doc.get("$id", BASE_URI + n): doc for n, doc in _documents(extra).items()}


@cache
def inlined(name: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Schema ``name`` with its references inlined (same outcome, faster to validate)."""
    return inline(document(name, extra), _by_id(extra))


@cache
def validator(name: str, extra: tuple[str, ...] = ()) -> Draft202012Validator:
    """The reference (python-jsonschema) validator for schema file ``name``, built once."""
    from jsonschema import Draft202012Validator

    schema = inlined(name, extra)
    try:
        return Draft202012Validator(schema, registry=registry(extra))
    except TypeError:  # before 4.18: its RefResolver, with every document in its store
        from jsonschema import RefResolver

        resolver = RefResolver(schema.get("$id", ""), schema, store=_by_id(extra))
        return Draft202012Validator(schema, resolver=resolver)


@cache
def fast_validator(name: str, extra: tuple[str, ...] = ()) -> validation.FastValidator | None:
    """The fast (jsonschema-rs) validator for schema file ``name``, built once from the
    files it refers to (it resolves ``$ref`` once, when it compiles); None where that
    engine is missing or cannot load the schema."""

    def retrieve(uri: str) -> dict[str, Any]:
        if uri.startswith(BASE_URI):
            try:
                found = _file(uri[len(BASE_URI) :], extra)
            except SchemaError:
                found = {}
            if found.get("$id") == uri:
                return _plain_draft(found)
        return _plain_draft(_by_id(extra)[uri])  # an $id that is not its file's name

    return validation.build(_plain_draft(_file(name, extra)), retrieve)


def _plain_draft(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` naming draft 2020-12 as its ``$schema``: jsonschema-rs refuses a
    custom meta-schema it was not given, and ours only adds annotations."""
    return {**document, "$schema": DRAFT_2020_12}


def iter_errors(name: str, instance: Any, extra: tuple[str, ...] = ()) -> Iterator[ValidationError]:
    """python-jsonschema's errors for ``instance`` against schema file ``name``; none,
    and no python-jsonschema work, when the fast engine finds it valid."""
    fast = fast_validator(name, extra) if validation.enabled() else None
    if fast is not None and fast.verdict(instance) is True:
        return iter(())
    return validator(name, extra).iter_errors(instance)


def validate(
    result: ParseResult, schema_name: str, extra: tuple[str, ...] = ()
) -> list[Diagnostic]:
    """Schema findings for a parse result, located through its source map."""
    parsed_errors = {
        d.pointer for d in result.diagnostics if d.severity is Severity.ERROR and d.pointer
    }
    findings = []
    for error in iter_errors(schema_name, result.instance, extra):
        pointer = "".join(f"/{_escape(part)}" for part in error.absolute_path)
        explained = [pointer]
        if error.validator == "required" and isinstance(error.instance, dict):
            pointer, explained = _required(error, pointer)
        if any(known in parsed_errors for p in explained for known in _self_and_parents(p)):
            continue
        findings.append(_diagnostic(error, pointer, result, inlined(schema_name, extra)))
    return findings


def _required(error: ValidationError, parent: str) -> tuple[str, list[str]]:
    """Where a ``required`` failure points (the member it names; jsonschema yields one
    error per missing member) and the pointers whose parse errors explain it: every
    missing member, since members derived from a value the parser could not read go
    missing together (virtio ``set_bits`` with an unreadable ``bits``)."""
    required: Any = error.validator_value
    instance: Any = error.instance
    absent = [p for p in required if p not in instance]
    own = [p for p in absent if error.message == f"{p!r} is a required property"]
    pointer = parent + (f"/{_escape(own[0])}" if own else "")
    return pointer, [f"{parent}/{_escape(p)}" for p in absent]


def _diagnostic(
    error: ValidationError, pointer: str, result: ParseResult, root: dict[str, Any]
) -> Diagnostic:
    explanation = _explanation(error, root)
    message = explanation.get("x-invariant") or _plain(error)
    rule = explanation.get("x-rule")
    where = pointer or "/"
    return Diagnostic(
        id=rule if isinstance(rule, str) else f"schema.{error.validator}",
        severity=Severity.ERROR,
        message=f"{where}: {message}",
        location=result.locate(pointer),
        hint="schema path: " + "/".join(str(p) for p in error.absolute_schema_path),
        pointer=pointer,
    )


def _explanation(error: ValidationError, root: dict[str, Any]) -> dict[str, Any]:
    """The subschema whose ``x-invariant`` sentence (and ``x-rule`` id, when it names a
    documented rule) best explains ``error``: the failing subschema itself, else the
    deepest one on the schema path inside the root document; {} when none has one."""
    if isinstance(error.schema, dict) and isinstance(error.schema.get("x-invariant"), str):
        return error.schema
    found: dict[str, Any] = {}
    node: Any = root
    for step in error.absolute_schema_path:
        if isinstance(node, dict) and isinstance(node.get("x-invariant"), str):
            found = node
        if step == "$ref":
            break
        inside_dict = isinstance(node, dict) and step in node
        inside_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
        if not (inside_dict or inside_list):
            break
        node = node[step]
    return found


_PLAIN_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*\Z")


def json_path(error: ValidationError) -> str:
    """The JSONPath of the value ``error`` is about (``$.files['proc/meminfo'].status``),
    written as jsonschema 4.18 and later write ``error.json_path``, on every version:
    4.10 (Debian 12's) writes the same member as ``$.files.proc/meminfo``."""
    return path_of(error.absolute_path)


def path_of(parts: Iterable[str | int]) -> str:
    """The JSONPath of the member at ``parts`` (names and indexes), as :func:`json_path`
    writes it."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_NAME.match(part):
            path += "." + part
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def _plain(error: ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        return deepest.message
    return error.message


def _escape(part: object) -> str:
    return pointer_token(str(part))


def _self_and_parents(pointer: str) -> Iterator[str]:
    """``pointer`` and every pointer it lies within (``/a/b``, ``/a``, ``""``): looked up
    in a set, not compared with every parse error (quadratic with one error per line)."""
    yield pointer
    end = pointer.rfind("/")
    while end >= 0:
        yield pointer[:end]
        end = pointer.rfind("/", 0, end)


def check_schemas(extra: tuple[str, ...] = ()) -> list[str]:
    """Problems with the schema files themselves: draft 2020-12 and our meta-schema."""
    from jsonschema import Draft202012Validator

    problems = []
    meta = validator(META_SCHEMA, extra)
    for name, doc in _documents(extra).items():
        try:
            Draft202012Validator.check_schema(doc)
        except Exception as exc:
            problems.append(f"{name}: not a valid draft 2020-12 schema: {exc}")
        if name != META_SCHEMA and not name.startswith("meta/"):
            problems.extend(f"{name}: {json_path(e)}: {e.message}" for e in meta.iter_errors(doc))
        if doc.get("$id") != BASE_URI + name:
            problems.append(f"{name}: $id should be {BASE_URI + name}")
    return problems


def bundle(name: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A self-contained compound document: ``name`` with every schema it refers to
    embedded in ``$defs`` under its own ``$id`` (JSON Schema 2020-12, section 9.3).
    Each names plain draft 2020-12 as its ``$schema``, so that it loads with no other
    file: our meta-schema only adds annotations, which change no verdict."""
    root = {**document(name, extra), "$schema": DRAFT_2020_12}
    wanted = sorted(_referenced(name, extra) - {name})
    defs = dict(root.get("$defs", {}))
    for other in wanted:
        defs[f"bundled:{other}"] = {**document(other, extra), "$schema": DRAFT_2020_12}
    if defs:
        root["$defs"] = defs
    return root


def _referenced(name: str, extra: tuple[str, ...], seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    for ref in references(document(name, extra)):
        target = ref.split("#", 1)[0]
        if target.startswith(BASE_URI):
            target = target[len(BASE_URI) :]
        elif target.startswith("https:"):
            continue  # the draft 2020-12 meta-schema, which every validator holds
        if target:
            _referenced(target, extra, seen)
    return seen


def references(node: Any) -> Iterator[str]:
    """Every ``$ref`` value in a schema document, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def export(directory: Path, extra: tuple[str, ...] = ()) -> list[Path]:
    """Write every schema to ``directory/schemas/`` (``$id``-relative layout, so relative
    ``$ref`` resolve from there) and a self-contained copy of each to the sibling
    ``directory/bundled/``: a tool that loads one folder finds each ``$id`` once."""
    written = []
    for name in names(extra):
        for target, doc in (
            (directory / "schemas" / name, document(name, extra)),
            (directory / "bundled" / name, bundle(name, extra)),
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            written.append(target)
    return written
