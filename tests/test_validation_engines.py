"""The fast engine (jsonschema-rs) and the reference engine (python-jsonschema) agree.

Every parsed sample under tests/data, every example of every schema, every capture.json
of the examples, and the invalid instances derived from them (negative numbers, wrong
types, missing members, both RFC Inflated counters non-zero, values beyond 64 bits) get
the same valid/invalid verdict from both engines, against the format's schema and the
dialect's. The diagnostics are python-jsonschema's either way, and without the fast
engine (no wheel, a schema it cannot load, ``BALLOON_CONFORM_VALIDATOR=python``) the
reference engine alone gives them.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from conformance import SchemaError, get_format, parse, schemas, validation

from .engines import needs_u64
from .golden import golden_path, samples

ROOT = Path(__file__).resolve().parents[1]
NAMES = [n for n in schemas.names() if not n.startswith("meta/")]
GOLDEN = [json.loads(golden_path(s).read_text()) for s in samples()]
MANIFESTS = [json.loads(p.read_text()) for p in sorted(ROOT.glob("examples/**/capture.json"))]


def _mutations(instance: Any) -> list[Any]:
    """``instance`` and copies made wrong one way each, at about four of its members
    spread over it (all of them in a small object)."""
    out = [instance]
    if not isinstance(instance, dict):
        return out
    keys = list(instance)
    for key in keys[:: max(1, len(keys) // 4)]:
        value = instance[key]
        out.append({k: v for k, v in instance.items() if k != key})
        out += [{**instance, key: wrong} for wrong in (-1, "12", 1.5, None, 2**70)]
        out += [{**instance, key: part} for part in _mutations(value)[1:4]]
    if "InflatedTotal" in instance or "InflatedFree" in instance:
        out.append({**instance, "InflatedTotal": 4096, "InflatedFree": 2048})
    out.append({**instance, "NotAKernelField": 1})
    return out


def _cases() -> list[tuple[str, Any]]:
    cases = []
    for golden in GOLDEN:
        spec = get_format(golden["format"])
        for name in (spec.schema, spec.dialect(golden["dialect"]).schema):
            cases += [(name, m) for m in _mutations(golden["instance"])]
    for name in NAMES:
        examples = schemas.document(name).get("examples", [])
        cases += [(name, m) for e in examples for m in _mutations(e)]
    broken_time = [{**m, "time": "yesterday, about noon"} for m in MANIFESTS]
    cases += [("capture.schema.json", m) for e in MANIFESTS + broken_time for m in _mutations(e)]
    unique = {(name, json.dumps(instance, sort_keys=True)): instance for name, instance in cases}
    return [(name, instance) for (name, _), instance in unique.items()]


CASES = _cases()


def _nowhere(uri: str) -> Any:
    raise KeyError(uri)


@needs_u64
def test_every_schema_loads_into_the_fast_engine() -> None:
    assert [n for n in NAMES if schemas.fast_validator(n) is None] == []


@needs_u64
def test_both_engines_give_the_same_verdict_on_the_corpus_and_its_mutations() -> None:
    verdicts = []
    for name, instance in CASES:
        fast = schemas.fast_validator(name)
        assert fast is not None
        verdict = fast.verdict(instance)
        if verdict is None:  # a value the fast engine cannot hold: the reference decides
            continue
        reference = schemas.validator(name).is_valid(instance)
        assert verdict == reference, (name, instance)
        verdicts.append(verdict)
    # the corpus is mostly valid and its mutations mostly not: both kinds were compared
    assert verdicts.count(True) > 100 and verdicts.count(False) > 1000


@needs_u64  # the release for Python 3.9 may load no schema at all (no retriever)
def test_custom_keywords_and_formats_change_no_verdict() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "x-invariant": "a sentence for people",
        "x-rule": "rfc.inflated-exclusive",
        "properties": {
            "n": {"type": "integer", "minimum": 0, "x-unit": "kB", "x-since": "2.6.0"},
            "t": {"type": "string", "format": "date-time", "x-unit": "count"},
        },
    }
    fast = validation.build(schema, _nowhere)
    assert fast is not None
    python = Draft202012Validator(schema)
    for instance in ({"n": 1, "t": "not a time"}, {"n": -1}, {"t": 3}, {"n": 2}):
        assert fast.verdict(instance) == python.is_valid(instance)
    assert fast.verdict({"n": 1, "t": "not a time"}) is True  # formats only annotate


def test_a_value_beyond_64_bits_is_left_to_the_reference_engine() -> None:
    name = get_format("virtio-balloon").dialect("rfc").schema
    instance = {"InflatedTotal": 2**70, "InflatedFree": 0}
    fast = schemas.fast_validator(name)
    if fast is not None:
        assert fast.verdict(instance) in (None, False)
    assert [e.validator for e in schemas.iter_errors(name, instance)] == ["maximum"]


def _diagnostics() -> list[list[str]]:
    """What every sample parses and validates to, in both layout modes."""
    out = []
    for sample in samples():
        for layout in ("lenient", "exact"):
            result = parse(sample.read_bytes(), format=sample.parent.name, layout=layout)
            out.append([str(d) for d in result.diagnostics])
    return out


def test_the_diagnostics_are_the_same_with_and_without_the_fast_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast = _diagnostics()
    monkeypatch.setenv(validation.ENGINE_VARIABLE, "python")
    assert _diagnostics() == fast
    assert any(fast)  # the bad samples are among them


def test_a_valid_instance_costs_no_python_jsonschema_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = next(s for s in samples() if s.name.startswith("capture-6.18"))
    if schemas.fast_validator(get_format("meminfo").dialect("2.6").schema) is None:
        pytest.skip("no fast engine for this schema here")

    def refuse(*args: Any) -> Any:
        raise AssertionError("python-jsonschema asked about a valid instance")

    monkeypatch.setattr(schemas, "validator", refuse)
    assert parse(sample.read_bytes(), format="meminfo").diagnostics == ()


def test_the_variable_turns_the_fast_engine_off(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(validation.FastValidator, "verdict", lambda self, i: asked.append(i))
    name = get_format("virtio-balloon").dialect("rfc").schema
    instance = {"InflatedTotal": 1, "InflatedFree": 0}
    assert list(schemas.iter_errors(name, instance)) == []
    used = len(asked)
    assert used == (schemas.fast_validator(name) is not None)
    monkeypatch.setenv(validation.ENGINE_VARIABLE, "python")
    assert list(schemas.iter_errors(name, instance)) == []
    assert len(asked) == used


@pytest.mark.parametrize("failure", ["no wheel", "schema it cannot load"])
def test_without_the_fast_engine_the_reference_engine_alone_works(
    monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "no wheel":
        monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # import raises ImportError
    else:

        def cannot_load(*args: Any, **kwargs: Any) -> Any:
            raise ValueError("Invalid u64 value")  # what the Python 3.9 release says

        monkeypatch.setattr(jsonschema_rs, "validator_for", cannot_load)
    name = get_format("virtio-balloon").dialect("rfc").schema
    assert validation.build(schemas.document(name), _nowhere) is None
    monkeypatch.setattr(schemas, "fast_validator", lambda n, extra=(): None)
    bad = next(s for s in samples() if s.name == "bad-both-non-zero.txt")
    result = parse(bad.read_bytes(), format="virtio-balloon")
    assert [d.id for d in result.diagnostics] == ["rfc.inflated-exclusive"]


def test_the_check_report_is_byte_identical_with_either_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from conformance.cli import main

    manifest_wrong = tmp_path / "manifest-wrong"
    shutil.copytree(ROOT / "examples" / "fleet" / "virtio-6.18-firecracker", manifest_wrong)
    manifest = json.loads((manifest_wrong / "capture.json").read_text())
    (manifest_wrong / "capture.json").write_text(json.dumps({**manifest, "page_size": "4k"}))
    captures = [str(ROOT / "examples" / "fleet"), *map(str, (ROOT / "examples/broken").iterdir())]
    captures.append(str(manifest_wrong))
    reports = []
    for engine in ("auto", "python"):
        monkeypatch.setenv(validation.ENGINE_VARIABLE, engine)
        out = tmp_path / f"{engine}.json"
        main(["check", "--output-format", "json", "--output", str(out), *captures])
        reports.append(out.read_bytes())
    assert reports[0] == reports[1]
    # findings were compared, schema findings among them, not an empty report
    assert b'"capture.manifest"' in reports[0] and b'"rfc.inflated-exclusive"' in reports[0]


def test_the_fast_engine_reads_only_the_files_a_schema_refers_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []
    real = schemas._load
    monkeypatch.setattr(schemas, "_load", lambda path: read.append(path.name) or real(path))
    for cached in (schemas._file, schemas.fast_validator, schemas._documents):
        cached.cache_clear()
    try:
        fast = schemas.fast_validator("meminfo.2.6.schema.json")
    finally:
        for cached in (schemas._file, schemas.fast_validator, schemas._documents):
            cached.cache_clear()
    if fast is None:
        pytest.skip("no fast engine for this schema here")
    meminfo = {f"meminfo.{d}.schema.json" for d in ("2.4", "2.6", "rfc")} | {"meminfo.schema.json"}
    assert sorted(read) == sorted(meminfo | {"common.schema.json"})
    with pytest.raises(SchemaError):
        schemas._file("../pyproject.toml")


@needs_u64
def test_a_schema_of_an_extra_folder_with_its_own_id(tmp_path: Path) -> None:
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.org/local/site.schema.json",
        "type": "object",
        "properties": {"n": {"$ref": schemas.BASE_URI + "common.schema.json#/$defs/u64"}},
    }
    (tmp_path / "site.schema.json").write_text(json.dumps(document))
    extra = (str(tmp_path),)
    fast = schemas.fast_validator("site.schema.json", extra)
    assert fast is not None
    for instance in ({"n": 1}, {"n": -1}, {"n": "1"}):
        reference = schemas.validator("site.schema.json", extra).is_valid(instance)
        assert fast.verdict(instance) == reference


@needs_u64
def test_a_ctrl_c_while_the_fast_engine_loads_a_schema_is_not_lost() -> None:
    """jsonschema-rs calls back into Python for referenced documents; a Ctrl-C arriving
    there must stop the run, not become 'cannot load this schema' and a silent fallback."""

    def interrupted(uri: str) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        validation.build({"$ref": "https://example.invalid/other.json"}, interrupted)
