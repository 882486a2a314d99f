"""Sphinx configuration of the sphinxext-balloon documentation.

Build it with the warnings as errors, so an example that stops matching what a kernel
prints fails the build::

    sphinx-build -W -b html docs docs/_build/html
"""

from __future__ import annotations

from conformance import __version__

project = "sphinxext-balloon"
author = "sphinxext-balloon contributors"
copyright = "the sphinxext-balloon contributors"
version = release = __version__

extensions = ["sphinxext_balloon"]

exclude_patterns = ["_build"]
# the samples that balloon-sample :file: reads are not documents
source_suffix = {".rst": "restructuredtext"}
master_doc = "index"  # Sphinx 3.4.3 has no root_doc

html_title = f"sphinxext-balloon {release}"
nitpicky = True
