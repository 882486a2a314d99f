"""The files an HTML build of the extension needs in its ``_static/`` folder.

- ``balloon.css``: how samples, their parts and their findings look;
- ``balloon.js``: turns each sample's field map (``data-balloon-fields``) into hover
  titles on its field lines once the page has loaded (progressive enhancement: without
  it the sample is its text alone);
- ``balloon-fields.js``: the descriptions those titles come from, written once per build
  from what every document's samples need (the domain's ``descriptions``, merged across
  parallel readers and kept for documents an incremental build does not read again).

The static files are copied rather than named in ``html_static_path``: appending to the
user's configuration makes Sphinx 8 and later see "the configuration has changed" and
reread every document on every build.
"""

from __future__ import annotations

import json
from pathlib import Path
from shutil import copyfile
from typing import cast

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .domain import BalloonDomain

STATIC = Path(__file__).resolve().parent / "static"
CSS = "balloon.css"
SCRIPT = "balloon.js"
DESCRIPTIONS = "balloon-fields.js"
GLOBAL = "BALLOON_FIELDS"
"""The name ``balloon-fields.js`` gives the descriptions, and ``balloon.js`` reads."""


def add_files(app: Sphinx) -> None:
    """Name the files in every HTML page: the descriptions before the script using them."""
    app.add_css_file(CSS)
    app.add_js_file(DESCRIPTIONS)
    app.add_js_file(SCRIPT)


def _static(app: Sphinx) -> Path | None:
    """``_static/`` of an HTML build (epub, dirhtml and singlehtml too), else None."""
    if app.builder.format != "html":
        return None
    target = Path(app.outdir) / "_static"
    target.mkdir(parents=True, exist_ok=True)
    return target


def copy_static(app: Sphinx) -> None:
    """``builder-inited``: the stylesheet and the script, before any page is written."""
    target = _static(app)
    if target is not None:
        for name in (CSS, SCRIPT):
            copyfile(STATIC / name, target / name)


def write_descriptions(app: Sphinx, env: BuildEnvironment) -> None:
    """``env-updated``: every document is read, in whichever process; the descriptions
    are known and written once, before the pages (and an epub's archive) are."""
    target = _static(app)
    if target is None:
        return
    domain = cast(BalloonDomain, env.get_domain("balloon"))
    data = json.dumps(domain.all_descriptions(), sort_keys=True, separators=(",", ":"))
    text = f"window.{GLOBAL} = {data};\n"
    path = target / DESCRIPTIONS
    if not path.is_file() or path.read_text("utf-8") != text:
        path.write_text(text, "utf-8")
