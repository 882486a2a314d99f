"""sphinxext_balloon: memory-balloon statistics in Sphinx documentation, checked at build time.

In ``conf.py``::

    extensions = ["sphinxext_balloon"]

gives the ``balloon-sample`` directive (a sample validated with the checker's parsers,
schemas and rules; ``:group:`` checks a page's samples of one guest together), the
``balloon-schema`` directive (a format's fields as a table), the ``balloon-rules``
directive (the rule catalogue) and the ``:balloon-field:`` and ``:balloon-rule:`` roles
(links to a field's row, a rule's entry). See :mod:`sphinxext_balloon.settings` for the
configuration values.
"""

from __future__ import annotations

from pathlib import Path
from shutil import copyfile
from typing import Any

from sphinx.application import Sphinx

from conformance import __version__

from . import outcome, settings
from .directives import SampleDirective
from .domain import BalloonDomain, duplicate_tables
from .group import check_groups
from .nodes import BLOCK_HTML, BLOCK_PLAIN, balloon_block
from .roles import FieldRole, RuleRole, optional_target
from .rules_list import RulesDirective
from .schema_table import SchemaDirective

STATIC = Path(__file__).resolve().parent / "static"
CSS = "balloon.css"


def _copy_static(app: Sphinx) -> None:
    """``builder-inited``: put the stylesheet into ``_static/`` of an HTML build (epub,
    dirhtml and singlehtml too), before the pages are written and an epub is packed.

    Copied here rather than through ``html_static_path``: appending to the user's
    configuration makes Sphinx 8 and later see "the configuration has changed" and
    reread every document on every build."""
    if app.builder.format == "html":
        target = Path(app.outdir) / "_static"
        target.mkdir(parents=True, exist_ok=True)
        copyfile(STATIC / CSS, target / CSS)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    settings.add_config_values(app)
    app.add_domain(BalloonDomain)
    # epub, singlehtml and dirhtml use the html visitors
    plain = BLOCK_PLAIN
    app.add_node(balloon_block, html=BLOCK_HTML, latex=plain, text=plain, man=plain, texinfo=plain)
    app.add_directive("balloon-sample", SampleDirective)
    app.add_directive("balloon-schema", SchemaDirective)
    app.add_directive("balloon-rules", RulesDirective)
    app.add_role("balloon-field", FieldRole())
    app.add_role("balloon-rule", RuleRole())
    app.add_css_file(CSS)
    app.connect("builder-inited", _copy_static)
    app.connect("build-finished", outcome.fail_strict_build)
    app.connect("env-check-consistency", duplicate_tables)
    app.connect("doctree-read", check_groups)
    app.connect("missing-reference", optional_target)
    return {
        "version": __version__,
        "env_version": 4,  # 4: no description-list node in the doctrees
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
