"""Draw the pictures of a sample in each theme that docs/sphinx.rst shows.

Run: ``.venv/bin/python docs/images/themes.py`` (needs Chromium, and the ``themes`` extra:
``pip install -e '.[sphinx,themes]'``). For each theme, a one-page project with a plain
literal block, a sample and a counter-example is built with ``sphinx-build`` and drawn
by headless Chromium (scripts on, so the fields' hover titles are set as in a browser)
into ``docs/images/sample-<theme>.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
THEMES = ("alabaster", "sphinx_rtd_theme", "furo")
HV_BALLOON = """\
   host_version          : 2.0
   capabilities          : enabled hot_add
   state                 : 1 (Initialized)
   page_size             : 4096
   pages_added           : 0
   pages_onlined         : 0
   pages_ballooned       : 262144
   total_pages_committed : 977790
   max_dynamic_page_count: 268435456
"""
"""An hv-balloon file as the driver prints it, indented as a directive's content."""

PAGE = f"""\
Balloon statistics
==================

A plain literal block::

   pages_ballooned       : 262144

A sample, checked when the documentation is built:

.. balloon-sample:: hv-balloon
   :dialect: 6.0

{HV_BALLOON}
A counter-example: what no kernel prints.

.. balloon-sample:: hv-balloon
   :dialect: 6.0
   :violates: hv-balloon.committed-covers-ballooned

{HV_BALLOON.replace(": 977790", ": 1024")}"""


def draw(theme: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        (src / "index.rst").write_text(PAGE)
        (src / "conf.py").write_text(
            f'extensions = ["sphinxext_balloon"]\nhtml_theme = "{theme}"\n'
            'highlight_language = "none"\nproject = "sphinxext-balloon"\n'
        )
        html = Path(tmp) / "html"
        subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(src), str(html)],
            check=True,
        )
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            raise SystemExit("no Chromium on PATH (apt-get install -y chromium)")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--screenshot={out}", "--window-size=900,760", (html / "index.html").as_uri()],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip


def main() -> int:
    for theme in THEMES:
        out = HERE / f"sample-{theme}.png"
        draw(theme, out)
        print(f"wrote {out.relative_to(HERE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
