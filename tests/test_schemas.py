"""The schema files: well formed, documented, self-consistent, usable by other tools."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from conformance import format_ids, get_format, schemas
from conformance.schemas import BASE_URI

from .engines import holds_u64, needs_u64
from .golden import golden_path, samples

NAMES = [n for n in schemas.names() if not n.startswith("meta/")]


def test_every_schema_passes_draft_2020_12_and_our_meta_schema() -> None:
    assert schemas.check_schemas() == []


def _meta_errors(document: Any) -> list[str]:
    return sorted(e.message for e in schemas.validator(schemas.META_SCHEMA).iter_errors(document))


def test_meta_schema_rejects_an_undocumented_property() -> None:
    bad = {
        "$schema": BASE_URI + schemas.META_SCHEMA,
        "$id": BASE_URI + "x.schema.json",
        "title": "x",
        "description": "x",
        "examples": [{}],
        "properties": {"a": {"type": "integer", "description": "a"}, "b": {"type": "string"}},
    }
    assert _meta_errors(bad) == [
        "'description' is a required property",
        "'x-unit' is a required property",
    ]


@pytest.mark.parametrize("typo", ["x-unti", "minimun", "descripton"])
def test_meta_schema_rejects_a_misspelt_keyword_at_any_depth(typo: str) -> None:
    document = copy.deepcopy(schemas.document("virtio-features.schema.json"))
    assert _meta_errors(document) == []
    # deep inside a constraint: $defs/feature/allOf/0/then/properties/kind
    kind = document["$defs"]["feature"]["allOf"][0]["then"]["properties"]["kind"]
    kind[typo] = 0
    assert _meta_errors(document) == [f"{typo!r} is not one of {_keywords()!r}"]


def _keywords() -> list[str]:
    keywords: list[str] = schemas.document(schemas.META_SCHEMA)["$defs"]["keyword"]["enum"]
    return keywords


def test_meta_schema_rejects_an_undefined_unit_and_a_schema_in_examples() -> None:
    document = copy.deepcopy(schemas.document("virtio-balloon.schema.json"))
    document["properties"]["InflatedFree"]["x-unit"] = "KiB"
    document["examples"].append({"$schema": document["$id"]})
    errors = _meta_errors(document)
    assert len(set(errors)) == 2
    assert any("'KiB' is not valid under any of the given schemas" in e for e in errors)


def test_every_schema_names_the_meta_schema_and_shared_integers_carry_no_unit() -> None:
    for name in NAMES:
        assert schemas.document(name)["$schema"] == BASE_URI + schemas.META_SCHEMA
    shared = [*schemas.document("common.schema.json")["$defs"].values()]
    shared.append(schemas.document("vmmemctl.schema.json")["$defs"]["int"])
    for definition in shared:
        assert "x-unit" not in definition


def test_every_format_and_dialect_names_an_existing_schema() -> None:
    for format_id in format_ids():
        spec = get_format(format_id)
        assert spec.schema in NAMES
        for dialect in spec.dialects:
            assert dialect.schema in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_examples_validate(name: str) -> None:
    for example in schemas.document(name).get("examples", []):
        assert [e.message for e in schemas.iter_errors(name, example)] == []
        assert schemas.validator(name).is_valid(example)  # the reference engine too


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("schemas")
    schemas.export(directory)
    return directory


def _rs_bundled(exported: Path, name: str) -> Any:
    """An independent (Rust) validator built from one exported, self-contained file."""
    document = json.loads((exported / "bundled" / name).read_text())
    return jsonschema_rs.validator_for(document, retriever=_no_network)


def _no_network(uri: str) -> Any:
    raise ValueError(f"the exported schema should not need {uri}")


def _rs_from_directory(exported: Path, name: str) -> Any:
    """An independent validator over the exported $id-relative folder, every file
    registered under its $id (our meta-schema among them)."""
    folder = exported / "schemas"
    documents = [json.loads(p.read_text()) for p in folder.rglob("*" + schemas.SUFFIX)]
    registry = jsonschema_rs.Registry([(d["$id"], d) for d in documents])
    document = json.loads((folder / name).read_text())
    return jsonschema_rs.validator_for(document, registry=registry)


def test_export_writes_every_schema_twice(exported: Path) -> None:
    files = sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*.json"))
    assert files == sorted(
        ["schemas/" + n for n in schemas.names()] + ["bundled/" + n for n in schemas.names()]
    )


def _conforming(golden: Any) -> bool:
    """Goldens without schema findings (an excerpt such as `grep balloon /proc/vmstat`
    parses, but is not a whole file)."""
    return not any("[schema." in line for line in golden["diagnostics"]["lenient"])


PARSED = [
    (s, golden)
    for s in samples()
    if not s.stem.startswith("bad-")
    for golden in [json.loads(golden_path(s).read_text())]
    if _conforming(golden)
]


@needs_u64
@pytest.mark.parametrize("sample,golden", PARSED, ids=lambda v: getattr(v, "name", ""))
def test_independent_validator_accepts_every_parsed_instance(
    exported: Path, sample: Path, golden: Any
) -> None:
    spec = get_format(golden["format"])
    for name in (spec.schema, spec.dialect(golden["dialect"]).schema):
        for validator in (_rs_bundled(exported, name), _rs_from_directory(exported, name)):
            errors = [e.message for e in validator.iter_errors(golden["instance"])]
            assert errors == [], (name, errors)


@needs_u64
@pytest.mark.parametrize("name", NAMES)
def test_independent_validator_agrees_on_examples_and_a_broken_copy(
    exported: Path, name: str
) -> None:
    validator = _rs_bundled(exported, name)
    for example in schemas.document(name).get("examples", []):
        assert validator.is_valid(example)
        if isinstance(example, dict) and example:
            broken = {**example, next(iter(example)): "not a value any kernel prints"}
            python_says = schemas.validator(name).is_valid(broken)  # the reference engine
            assert validator.is_valid(broken) == python_says


def _x_rules(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["x-rule"]} if isinstance(node.get("x-rule"), str) else set()
        return found.union(*(_x_rules(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_x_rules(v) for v in node))
    return set()


def test_every_x_rule_is_a_documented_rule() -> None:
    from conformance.rules import RULES

    named = set().union(*(_x_rules(schemas.document(n)) for n in NAMES))
    schema_backed = {rule.id for rule in RULES if rule.check is None}
    assert named == schema_backed


def test_schema_invariant_is_reported_under_its_rule_id() -> None:
    from conformance import parse

    result = parse("InflatedTotal: 1024 kB\nInflatedFree: 2048 kB\n", format="virtio-balloon")
    assert [(d.id, d.location.line) for d in result.diagnostics] == [("rfc.inflated-exclusive", 2)]


def test_ids_are_versioned() -> None:
    assert BASE_URI == "https://sphinxext-balloon.github.io/schemas/v1/"
    for name in schemas.names():
        assert schemas.document(name)["$id"] == BASE_URI + name


def test_catalog_lists_every_schema_in_schemastore_format() -> None:
    from conformance.schema_catalog import catalog

    document = catalog()
    assert document["version"] == 1
    entries = {e["url"]: e for e in document["schemas"]}
    assert sorted(entries) == sorted(BASE_URI + n for n in schemas.names())
    for entry in entries.values():
        assert {"name", "description", "url", "versions", "fileMatch"} <= set(entry)
        assert entry["versions"] == {"v1": entry["url"]}
    assert entries[BASE_URI + "vmmemctl.4.4.schema.json"]["kernels"] == "4.4 up to before 4.20"
    assert entries[BASE_URI + "meminfo.rfc.schema.json"]["dialect"] == "rfc"
    assert entries[BASE_URI + "hv-balloon.schema.json"]["dialect"] == "any"


def _subschemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, object) of every object in a schema document, its instances (examples,
    enum and const values) left out."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in ("examples", "enum", "const"):
                yield from _subschemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _subschemas(value, f"{path}/{index}")


def _anchored_patterns(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, schema in _subschemas(node):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and pattern.endswith("$"):
            yield path, schema


@pytest.mark.parametrize("name", schemas.names())
def test_every_anchored_pattern_also_rejects_a_trailing_newline(name: str) -> None:
    """Python's `$` matches before a final newline, ECMAScript's does not: each `$`
    pattern is paired with an exact maxLength or a newline-rejecting `not`."""
    for path, node in _anchored_patterns(schemas.document(name)):
        guard = node.get("not", {}).get("pattern")
        exact = re.search(r"[*+]|\{\d*,", node["pattern"]) is None and "maxLength" in node
        assert exact or (guard and re.search(guard, "x\n")), (name, path)


ANY_DIALECT = [
    (spec.id, dialect.id, dialect.schema)
    for spec in map(get_format, format_ids())
    if len(spec.dialects) > 1
    for dialect in spec.dialects
]


def _dialect_cases(format_id: str, dialect: str) -> list[Path]:
    """schemas/tests/<format>/invalid/dialect-<dialect>-*.json: instances of one dialect
    with one value out of range, checked against the "any dialect" schema."""
    folder = schemas.schema_dir() / "tests" / format_id / "invalid"
    return sorted(folder.glob(f"dialect-{dialect}-*.json"))


def _dialect_taken(document: Any, path: list[Any]) -> str:
    """The dialect file an error's schema path enters from the "any dialect" document:
    the first ``$ref`` on the path (python jsonschema leaves the ``$ref`` step out of
    the path, jsonschema-rs's evaluation path names it)."""
    node = document
    for step in path:
        if isinstance(node, dict) and step not in node and "$ref" in node:
            return str(node["$ref"])
        if step == "$ref":
            return str(node["$ref"])
        node = node[step]
    return ""


MODERN_JSONSCHEMA = importlib.util.find_spec("referencing") is not None
"""jsonschema 4.18 or later (Debian 12 and Ubuntu 24.04 ship 4.10.3, make test-floors)."""


@pytest.mark.parametrize("format_id,dialect,dialect_schema", ANY_DIALECT)
def test_any_dialect_schema_errors_name_the_dialects_own_constraint(
    exported: Path, format_id: str, dialect: str, dialect_schema: str
) -> None:
    """The "any dialect" schemas pick their dialect with if/then/else on the keys that
    tell the dialects apart, so the error is the dialect's own "minimum", not "is not
    valid under any of the given schemas", in python jsonschema and in jsonschema-rs."""
    from jsonschema.exceptions import best_match

    name = format_id + schemas.SUFFIX
    document = schemas.document(name)
    python = schemas.validator(name)  # a registry, or jsonschema 4.10's RefResolver
    cases = _dialect_cases(format_id, dialect)
    assert cases, f"no schemas/tests/{format_id}/invalid/dialect-{dialect}-*.json"
    for path in cases:
        instance = json.loads(path.read_text(encoding="utf-8"))
        errors = list(python.iter_errors(instance))
        own = [e for e in errors if e.validator == "minimum"]
        assert len(own) == 1, (path.name, errors)
        assert _dialect_taken(document, list(own[0].absolute_schema_path)) == dialect_schema
        if not MODERN_JSONSCHEMA:
            # jsonschema 4.10 also reports the properties only the failing branch had
            # evaluated as unevaluated (as the spec drops a failing branch's annotations)
            # and ranks that error first: the dialect's own error is there, not first
            continue
        best = best_match(errors)
        assert best is not None and best.validator == "minimum", (path.name, best)
        assert [e.validator for e in schemas.iter_errors(name, instance)] == ["minimum"]
        if holds_u64():
            errors = list(_rs_bundled(exported, name).iter_errors(instance))
            assert [e.schema_path[-1] for e in errors] == ["minimum"], path.name
            taken = _dialect_taken(document, list(errors[0].evaluation_path))
            assert taken == dialect_schema, path.name


@needs_u64
def test_the_fast_engine_loads_every_schema_despite_our_meta_schema() -> None:
    """jsonschema-rs refuses a $schema it was not given; the fast path hands it the
    documents as plain draft 2020-12, so no schema falls back to the slow path."""
    assert [n for n in schemas.names() if schemas.fast_validator(n) is None] == []


def _enumerations(node: Any) -> Iterator[tuple[str, str, list[Any]]]:
    """(path, keyword, branches) of every ``enum``, and of every ``oneOf``/``anyOf``
    whose branches each fix a value (a ``const``, or only ``const`` properties)."""
    for path, schema in _subschemas(node):
        if "enum" in schema:
            yield path, "enum", schema["enum"]
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and all(map(_fixes_a_value, branches)):
                yield path, keyword, branches


def _fixes_a_value(branch: Any) -> bool:
    if not isinstance(branch, dict):
        return False
    properties = branch.get("properties")
    if isinstance(properties, dict) and properties:
        return all(isinstance(p, dict) and "const" in p for p in properties.values())
    return "const" in branch


@pytest.mark.parametrize("name", NAMES)
def test_enumerations_explain_each_value(name: str) -> None:
    """An enumeration is a oneOf (or anyOf) of const values, each with its description,
    never a bare enum (the meta-schema's closed keyword list is not an instance's)."""
    for path, keyword, branches in _enumerations(schemas.document(name)):
        assert keyword != "enum", (name, path)
        assert all(isinstance(b.get("description"), str) for b in branches), (name, path)


def test_enumeration_check_sees_a_bare_enum_and_an_undescribed_value() -> None:
    found = list(
        _enumerations({"properties": {"a": {"enum": [1]}, "b": {"oneOf": [{"const": 1}]}}})
    )
    assert [(path, keyword) for path, keyword, _ in found] == [
        ("/properties/a", "enum"),
        ("/properties/b", "oneOf"),
    ]


def _deprecated(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("deprecated") is True:
            yield path
        for key, value in node.items():
            yield from _deprecated(value, f"{path}/{key}")


def test_fields_kernels_print_as_constant_zero_are_deprecated() -> None:
    """fs/proc/meminfo.c prints NFS_Unstable and Bounce as 0, and VmallocChunk since
    about 4.4 (kernel-formats.md section 5.2; WritebackTmp in the newest trees);
    mm/vmstat.c's vmstat_show() appends "nr_unstable 0" as a deprecated counter since
    5.8. show_mem dropped its unstable fields instead of printing 0."""
    found = {name: sorted(_deprecated(schemas.document(name))) for name in NAMES}
    fields = "/$defs/fields/properties/"
    assert {name: paths for name, paths in found.items() if paths} == {
        "meminfo.schema.json": sorted(
            fields + f for f in ("NFS_Unstable", "Bounce", "WritebackTmp", "VmallocChunk")
        ),
        "vmstat.schema.json": ["/properties/nr_unstable"],
    }


def test_vmstat_requires_the_gauges_every_kernel_prints_and_no_event_counter() -> None:
    """nr_dirty, nr_writeback, nr_mapped and nr_page_table_pages are in vmstat_text[]
    without an #ifdef from 2.6.0 on; the event counters depend on
    CONFIG_VM_EVENT_COUNTERS since 2.6.18, so a vmstat without them is valid."""
    document = schemas.document("vmstat.schema.json")
    required = ["nr_dirty", "nr_writeback", "nr_mapped", "nr_page_table_pages"]
    assert document["required"] == required
    assert all(name in document["description"] for name in required)
    assert "CONFIG_VM_EVENT_COUNTERS" in document["description"]
    without_events = schemas.schema_dir() / "tests/vmstat/valid/no-event-counters.json"
    instance = json.loads(without_events.read_text(encoding="utf-8"))
    assert "pgfault" not in instance and schemas.validator("vmstat.schema.json").is_valid(instance)


def test_a_value_outside_an_enumeration_is_reported_with_the_values_allowed(
    tmp_path: Path,
) -> None:
    """python jsonschema says only "not valid under any of the given schemas" of a oneOf;
    the check reports the enumeration's x-invariant, which lists the values."""
    from conformance.capture import read_capture
    from conformance.check import check_capture

    manifest = {"hypervisor": "qemu", "files": {"proc/meminfo": {"status": "gone"}}}
    (tmp_path / "capture.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = check_capture(read_capture(tmp_path, name="c"))
    found = sorted(d.message for d in result.diagnostics if d.id == "capture.manifest")
    assert found == [
        "$.files['proc/meminfo'].status: 'gone', but status is one of read, absent, "
        "not-mounted, permission-denied, driver-not-loaded, too-large, unreadable or not-kept",
        "$.hypervisor: 'qemu', but hypervisor is one of kvm, hyperv, vmware, xen, none or unknown",
    ]
