"""Every sample under tests/data parses to its golden instance and diagnostics."""

from __future__ import annotations

import json

import pytest

from conformance import format_ids, get_format, parse, schemas

from .golden import _context, compute, golden_path, samples

SAMPLES = samples()
GOOD = [s for s in SAMPLES if not s.stem.startswith("bad-")]
BAD = [s for s in SAMPLES if s.stem.startswith("bad-")]
IDS = {"ids": lambda p: f"{p.parent.name}/{p.name}"}


def test_every_format_has_samples() -> None:
    covered = {sample.parent.name for sample in SAMPLES}
    assert covered == set(format_ids())


def test_every_dialect_has_a_sample() -> None:
    covered = {(g["format"], g["dialect"]) for g in map(_golden, SAMPLES)}
    wanted = {(spec.id, d.id) for spec in map(get_format, format_ids()) for d in spec.dialects}
    assert wanted <= covered, f"dialects without a sample: {sorted(wanted - covered)}"


@pytest.mark.parametrize("sample", SAMPLES, **IDS)
def test_sample_matches_golden(sample):  # type: ignore[no-untyped-def]
    assert golden_path(sample).exists(), (
        f"no golden file; run: python -m tests.golden {sample.name}"
    )
    assert compute(sample) == _golden(sample)


@pytest.mark.parametrize("sample", GOOD, **IDS)
def test_instance_validates_against_its_schema(sample):  # type: ignore[no-untyped-def]
    golden = _golden(sample)
    spec = get_format(golden["format"])
    errors = list(schemas.iter_errors(spec.dialect(golden["dialect"]).schema, golden["instance"]))
    assert errors == [], [e.message for e in errors]
    # and against the format-level schema that accepts any dialect
    assert list(schemas.iter_errors(spec.schema, golden["instance"])) == []


@pytest.mark.parametrize("sample", GOOD, **IDS)
def test_good_samples_have_no_error(sample):  # type: ignore[no-untyped-def]
    """Real and template output raises no error in the lenient layout: no false alarm."""
    lenient = _golden(sample)["diagnostics"]["lenient"]
    assert [d for d in lenient if ": error: " in d] == []


@pytest.mark.parametrize("sample", BAD, **IDS)
def test_bad_samples_are_caught(sample):  # type: ignore[no-untyped-def]
    """A sample of bad input draws at least one error, or a warning in the exact layout."""
    found = _golden(sample)["diagnostics"]
    assert any(": error: " in d for d in found["lenient"]) or any(
        ": warning: " in d for d in found["exact"]
    )


@pytest.mark.parametrize("sample", GOOD, **IDS)
def test_render_round_trip(sample):  # type: ignore[no-untyped-def]
    """Rendering the instance in the exact layout and parsing it back gives it again,
    with no layout finding: the renderer is the kernel's template."""
    golden = _golden(sample)
    spec = get_format(golden["format"])
    text = spec.render(golden["instance"], golden["dialect"])
    again = parse(
        text, format=spec.id, dialect=golden["dialect"], layout="exact", context=_context(sample)
    )
    assert again.instance == golden["instance"]
    assert [d for d in again.diagnostics if d.id.startswith("layout.")] == []


def _golden(sample):  # type: ignore[no-untyped-def]
    return json.loads(golden_path(sample).read_text())
