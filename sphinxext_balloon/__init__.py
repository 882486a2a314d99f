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

from typing import Any

from sphinx.application import Sphinx

from conformance import __version__

from . import assets, outcome, settings, warm
from .directives import SampleDirective
from .domain import BalloonDomain, duplicate_tables
from .group import check_groups
from .nodes import (
    BLOCK_HTML,
    BLOCK_PLAIN,
    BOX_HTML,
    BOX_PLAIN,
    KeepSamplesUntranslated,
    balloon_block,
    balloon_box,
)
from .roles import FieldRole, RuleRole, optional_target
from .rules_list import RulesDirective
from .schema_table import SchemaDirective


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    settings.add_config_values(app)
    app.add_domain(BalloonDomain)
    # epub, singlehtml and dirhtml use the html visitors
    plain = BLOCK_PLAIN
    app.add_node(balloon_block, html=BLOCK_HTML, latex=plain, text=plain, man=plain, texinfo=plain)
    box = BOX_PLAIN
    app.add_node(balloon_box, html=BOX_HTML, latex=box, text=box, man=box, texinfo=box)
    app.add_directive("balloon-sample", SampleDirective)
    app.add_directive("balloon-schema", SchemaDirective)
    app.add_directive("balloon-rules", RulesDirective)
    app.add_role("balloon-field", FieldRole())
    app.add_role("balloon-rule", RuleRole())
    app.add_transform(KeepSamplesUntranslated)
    assets.add_files(app)
    app.connect("builder-inited", assets.copy_static)
    app.connect("env-updated", assets.write_descriptions)
    app.connect("env-before-read-docs", warm.warm_readers)  # -j N only
    app.connect("build-finished", warm.thaw)
    app.connect("build-finished", outcome.fail_strict_build)
    app.connect("env-check-consistency", duplicate_tables)
    app.connect("doctree-read", check_groups)
    app.connect("missing-reference", optional_target)
    app.connect("env-get-outdated", settings.reread_for_schemas)
    return {
        "version": __version__,
        "env_version": 6,  # 6: unchecked samples, table lines and schema listing kept
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
