"""A wheel built from the tree installs into a fresh venv and works there, schemas included."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    tool = env_dir / "bin" / "balloon-conform"
    # run from elsewhere, so nothing of the source tree is importable
    listing = subprocess.run(
        [str(tool), "schema", "list"], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    assert "hv-balloon/6.0" in listing.stdout
    sample = ROOT / "tests" / "data" / "hv-balloon" / "template-6.0-x86_64-hot-add.txt"
    parsed = subprocess.run(
        [str(tool), "parse", "--meta", str(sample)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert '"dialect": "6.0"' in parsed.stdout
    located = subprocess.run(
        [str(python), "-c", "import conformance.schemas as s; print(s.schema_dir())"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "site-packages/conformance/schema_files" in located.stdout
