"""sourcemeta's JSON Schema CLI (``jsonschema``, pinned in tests/js/package.json) finds
nothing to say about schemas/: ``metaschema`` validates every schema against its
``$schema`` (our meta-schema, so the closed keyword set and the annotation vocabulary are
checked by a second implementation), and ``lint`` applies its rules but for the ones
listed in :data:`TASTE`, which are a matter of house style here, each with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from conformance import schemas

from .test_schema_consumers import node_tools

TASTE = {
    # Descriptions are sentences (DESIGN.md: what the kernel means, in one or two
    # sentences), and sentences end with a full stop.
    "description_trailing_period": "",
    # Property names are the kernel's own labels (Active(anon), 2m-lock, 4k,
    # isolated(anon)), which an instance must keep to mean the same line.
    "simple_properties_identifiers": "",
    # The shared $defs of an "any dialect" schema and of common.schema.json are
    # referenced from the dialect files; the rule only sees references inside one file.
    # test_every_definition_is_referenced checks them across files.
    "orphan_definitions": "",
    # A required name is declared by the shared definition a $ref brings in
    # ($defs/fields, $defs/dump, $defs/capabilities), or is a key an if/then uses to tell
    # dialects apart; a name declared nowhere fails the schemas/tests valid instances.
    "required_properties_in_properties": "",
    # Each allOf entry scopes an x-invariant / x-rule sentence to one constraint; lifted
    # into the parent, the sentence would explain every failure of the parent.
    "unnecessary_allof_wrapper": "",
}
NO_EXAMPLES = ("report.schema.json", "meta/balloon-meta.schema.json")
"""Schemas whose instances carry a $schema member, which examples must not (a validator
may read it as a dialect switch): their valid instances are in schemas/tests only."""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    target = node_tools()
    script = target / "node_modules" / "@sourcemeta" / "jsonschema" / "npm" / "cli.js"
    node = shutil.which("node") or "node"
    return subprocess.run(
        [node, str(script), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _problems(done: subprocess.CompletedProcess[str]) -> list[str]:
    try:
        answer: Any = json.loads(done.stdout)
    except ValueError:
        return [done.stdout.strip() or done.stderr.strip() or f"exit status {done.returncode}"]
    errors = answer.get("errors", []) if isinstance(answer, dict) else []
    return [f"{e.get('path', '')}: {e.get('id', '')} {e.get('message', e)}" for e in errors]


def test_metaschema_accepts_every_schema() -> None:
    folder = str(schemas.schema_dir())
    done = _cli("metaschema", folder, "--extension", ".schema.json", "--resolve", folder)
    assert done.returncode == 0, _problems(done) or done.stderr


def test_metaschema_rejects_a_misspelt_keyword(tmp_path: Path) -> None:
    """The check above can fail: the CLI reads our meta-schema through --resolve."""
    document = schemas.document("vmstat.schema.json")
    broken = tmp_path / "vmstat.schema.json"
    broken.write_text(json.dumps({**document, "minimun": 1}), encoding="utf-8")
    folder = str(schemas.schema_dir())
    done = _cli("metaschema", str(broken), "--extension", ".schema.json", "--resolve", folder)
    assert done.returncode != 0
    assert "minimun" in done.stdout


def _lint(*paths: str, exclude: list[str]) -> subprocess.CompletedProcess[str]:
    folder = str(schemas.schema_dir())
    excluded = [arg for rule in exclude for arg in ("--exclude", rule)]
    return _cli("lint", *paths, "--extension", ".schema.json", "--resolve", folder, *excluded)


def test_lint_reports_nothing_but_house_style() -> None:
    folder = schemas.schema_dir()
    # each file named: --ignore would also hide the meta-schema from --resolve
    files = [str(folder / name) for name in schemas.names() if name not in NO_EXAMPLES]
    done = _lint(*files, exclude=sorted(TASTE))
    assert (done.returncode, _problems(done)) == (0, [])
    others = [str(folder / name) for name in NO_EXAMPLES]
    done = _lint(*others, exclude=[*sorted(TASTE), "top_level_examples"])
    assert (done.returncode, _problems(done)) == (0, [])


def test_lint_finds_what_it_was_kept_for(tmp_path: Path) -> None:
    """A type beside a const, an allOf around a lone $ref and a bare enum with a type
    are reported: the rules left on are the ones the schemas were fixed for."""
    document = schemas.document("vmstat.schema.json")
    properties = dict(document["properties"])
    properties["x_const"] = {"description": "x", "type": "integer", "const": 0, "x-unit": "count"}
    properties["x_ref"] = {"description": "x", "allOf": [{"$ref": "common.schema.json#/$defs/u64"}]}
    properties["x_enum"] = {"description": "x", "type": "string", "enum": ["a", "b"]}
    broken = tmp_path / "vmstat.schema.json"
    broken.write_text(json.dumps({**document, "properties": properties}), encoding="utf-8")
    done = _lint(str(broken), exclude=sorted(TASTE))
    found = {line.split(": ", 1)[1].split()[0] for line in _problems(done)}
    assert done.returncode != 0
    assert found == {"const_with_type", "unnecessary_allof_ref_wrapper_modern", "enum_with_type"}


def test_every_definition_is_referenced() -> None:
    """What orphan_definitions would check, across files: every $defs entry of every
    schema is the target of some $ref."""
    targets = set()
    for name in schemas.names():
        for ref in schemas.references(schemas.document(name)):
            file, _, pointer = ref.partition("#")
            targets.add((file.rsplit("/", 1)[-1] or name.rsplit("/", 1)[-1], pointer))
    unused = [
        (name, key)
        for name in schemas.names()
        for key in schemas.document(name).get("$defs", {})
        if (name.rsplit("/", 1)[-1], f"/$defs/{key}") not in targets
    ]
    assert unused == []


DOC = Path(__file__).resolve().parent.parent / "docs" / "schemas.rst"


def _documented_commands() -> list[list[str]]:
    """The ``jsonschema`` command lines of docs/schemas.rst's shell block, split."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("  .. code-block:: shell") + 2
    block = []
    for line in lines[start:]:
        if line and not line.startswith("     "):
            break
        block.append(line.strip())
    joined = " ".join(block).replace("\\ ", "")
    return [("jsonschema " + part).split() for part in joined.split("jsonschema ")[1:]]


def test_documented_commands_run_clean_from_the_repository_root() -> None:
    commands = _documented_commands()
    assert [c[1] for c in commands] == ["metaschema", "lint"]
    excluded = {c[i + 1] for c in commands for i, a in enumerate(c) if a == "--exclude"}
    assert excluded == {*TASTE, "top_level_examples"}
    root = schemas.schema_dir().parent
    for command in commands:
        args = [str(root / a) if a == "schemas" else a for a in command[1:]]
        done = _cli(*args)
        assert done.returncode == 0, (command, _problems(done))
