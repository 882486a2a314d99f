"""The schemas as other tools consume them: every engine gives every test instance the
verdict its folder states (``schemas/tests/<schema>/{valid,invalid}/``, SchemaStore style).

Engines: this package's validator, python jsonschema with only the exported files (the
bundled file, and a ``referencing`` registry over the ``$id``-relative folder),
jsonschema-rs, ajv 8 (``Ajv2020``, default strict mode) under Node, and check-jsonschema
when it is installed. The ways shown in docs/consuming-schemas.rst are the ones run here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from conformance import schemas
from conformance.schemas import BASE_URI

from .engines import needs_u64

HERE = Path(__file__).resolve().parent
CASES_DIR = schemas.schema_dir() / "tests"
JS_DIR = HERE / "js"
INSTANCE_SCHEMAS = [n for n in schemas.names() if not n.startswith("meta/")]


def _cases() -> list[tuple[str, str, bool, Any]]:
    """(schema file, case name, expected verdict, instance) for every test instance."""
    found = []
    for folder in sorted(p for p in CASES_DIR.iterdir() if p.is_dir()):
        for verdict in ("valid", "invalid"):
            for path in sorted((folder / verdict).glob("*.json")):
                instance = json.loads(path.read_text(encoding="utf-8"))
                case = f"{folder.name}/{verdict}/{path.stem}"
                found.append((folder.name + schemas.SUFFIX, case, verdict == "valid", instance))
    return found


CASES = _cases()
IDS = [case for _, case, _, _ in CASES]


def test_every_schema_ships_valid_and_invalid_instances() -> None:
    folders = {p.name + schemas.SUFFIX for p in CASES_DIR.iterdir() if p.is_dir()}
    assert folders <= set(INSTANCE_SCHEMAS)
    # common.schema.json only holds $defs: its root accepts every instance.
    for name in INSTANCE_SCHEMAS:
        verdicts = {expected for schema, _, expected, _ in CASES if schema == name}
        assert verdicts == ({True} if name == "common.schema.json" else {True, False}), name


@pytest.mark.parametrize("name,case,expected,instance", CASES, ids=IDS)
def test_package_validator_gives_the_expected_verdict(
    name: str, case: str, expected: bool, instance: Any
) -> None:
    errors = [e.message for e in schemas.iter_errors(name, instance)]
    assert (errors == []) is expected, errors


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    schemas.export(directory)
    return directory


@functools.cache
def _python_bundled(exported: Path, name: str) -> jsonschema.Draft202012Validator:
    """python jsonschema with nothing but one exported bundled file."""
    document = json.loads((exported / "bundled" / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(document)


@functools.cache
def _python_registry(exported: Path, name: str) -> jsonschema.Draft202012Validator:
    """python jsonschema with a referencing registry over the $id-relative files."""
    folder = exported / "schemas"
    resources = []
    for path in folder.rglob("*.schema.json"):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], DRAFT202012.create_resource(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    root = json.loads((folder / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(root, registry=registry)


@pytest.mark.parametrize("name,case,expected,instance", CASES, ids=IDS)
def test_python_jsonschema_alone_agrees(
    exported: Path, name: str, case: str, expected: bool, instance: Any
) -> None:
    for validator in (_python_bundled(exported, name), _python_registry(exported, name)):
        assert validator.is_valid(instance) is expected


@needs_u64
@pytest.mark.parametrize("name,case,expected,instance", CASES, ids=IDS)
def test_jsonschema_rs_agrees(
    exported: Path, name: str, case: str, expected: bool, instance: Any
) -> None:
    assert _rs_bundled(exported, name).is_valid(instance) is expected


@functools.cache
def _rs_bundled(exported: Path, name: str) -> Any:
    document = json.loads((exported / "bundled" / name).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(document)


def node_tools() -> Path:
    """tests/js installed with `npm ci` into a cache folder outside the repository, keyed
    by the lock file; skips the caller when node, npm or the registry is unavailable."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    lock = (JS_DIR / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "sphinxext-balloon" / ("js-" + hashlib.sha256(lock).hexdigest()[:16])
    if not (target / "node_modules" / "ajv").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_DIR / name, target / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci failed (offline?): {done.stderr.strip()[-300:]}")
    shutil.copyfile(JS_DIR / "validate.mjs", target / "validate.mjs")
    return target


def annotation_keywords() -> list[str]:
    """Our annotation keywords, as the meta-schema's vocabulary declares them."""
    meta = schemas.document(schemas.META_SCHEMA)
    return sorted(meta["$defs"]["annotations"]["properties"])


@pytest.fixture(scope="module")
def ajv(exported: Path) -> dict[str, Any]:
    target = node_tools()
    job = {
        "folder": str(exported / "schemas"),
        "bundled": str(exported / "bundled"),
        "keywords": annotation_keywords(),
        "meta": BASE_URI + schemas.META_SCHEMA,
        "cases": [[BASE_URI + name, instance] for name, _, _, instance in CASES],
    }
    done = subprocess.run(
        ["node", "validate.mjs"],
        cwd=target,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_ajv_strict_compiles_every_schema(ajv: dict[str, Any]) -> None:
    assert ajv["errors"] == {}
    assert sorted(ajv["compiled"]) == sorted(BASE_URI + n for n in schemas.names())
    assert ajv["bundled"] == dict.fromkeys(schemas.names())


def test_ajv_gives_every_instance_the_expected_verdict(ajv: dict[str, Any]) -> None:
    wrong = [case for (_, case, expected, _), got in zip(CASES, ajv["verdicts"]) if got != expected]
    assert wrong == []


def test_check_jsonschema_offline_with_the_bundled_files(exported: Path) -> None:
    """The command docs/consuming-schemas.rst shows, once per schema over its test folder."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    tool = tool or shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install '.[test]' installs it)")
    wrong = []
    for folder in sorted(p for p in CASES_DIR.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*/*.json"))
        schema = exported / "bundled" / (folder.name + schemas.SUFFIX)
        done = subprocess.run(
            [tool, "--no-cache", "-o", "json", "--schemafile", str(schema), *map(str, files)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        failed = {Path(e["filename"]) for e in json.loads(done.stdout)["errors"]}
        wrong += [f for f in files if (f in failed) is (f.parent.name == "valid")]
    assert wrong == []


DOC = HERE.parent / "docs" / "consuming-schemas.rst"


def _doc_blocks(language: str) -> list[str]:
    """The code blocks of docs/consuming-schemas.rst in ``language``, dedented."""
    blocks, lines = [], DOC.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.strip() == f".. code-block:: {language}":
            body = []
            for following in lines[index + 2 :]:
                if following and not following.startswith("   "):
                    break
                body.append(following[3:])
            blocks.append("\n".join(body).strip() + "\n")
    return blocks


@pytest.fixture()
def consumer_dir(tmp_path: Path) -> Path:
    """A folder with out/ (the export) and meminfo.json, as the docs assume."""
    schemas.export(tmp_path / "out")
    example = schemas.document("meminfo.schema.json")["examples"][0]
    (tmp_path / "meminfo.json").write_text(json.dumps(example), encoding="utf-8")
    return tmp_path


def _break(folder: Path) -> None:
    (folder / "meminfo.json").write_text(json.dumps({"MemTotal": -1}), encoding="utf-8")


def test_documented_python_way_runs(consumer_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [code] = _doc_blocks("python")
    monkeypatch.chdir(consumer_dir)
    exec(compile(code, str(DOC), "exec"), {})
    _break(consumer_dir)
    with pytest.raises(jsonschema.ValidationError):
        exec(compile(code, str(DOC), "exec"), {})


def test_documented_check_jsonschema_way_runs(consumer_dir: Path) -> None:
    [block] = _doc_blocks("console")
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install '.[test]' installs it)")
    argv = [tool, *block.removeprefix("$ check-jsonschema").split()]
    assert subprocess.run(argv, cwd=consumer_dir, capture_output=True).returncode == 0
    _break(consumer_dir)
    assert subprocess.run(argv, cwd=consumer_dir, capture_output=True).returncode == 1


def test_documented_ajv_way_runs(consumer_dir: Path) -> None:
    [code] = _doc_blocks("javascript")
    target = node_tools()
    script = target / "doc-example.mjs"  # beside node_modules, so "ajv" resolves
    script.write_text(code, encoding="utf-8")
    run = [shutil.which("node") or "node", str(script)]
    done = subprocess.run(run, cwd=consumer_dir, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _break(consumer_dir)
    assert subprocess.run(run, cwd=consumer_dir, capture_output=True).returncode == 1
