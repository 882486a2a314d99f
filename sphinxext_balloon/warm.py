"""What the reader processes of a parallel build share: built in the main process before
Sphinx forks them.

``sphinx-build -j N`` reads the documents in chunks, each in a process forked from the
main one after ``env-before-read-docs``. What the checks build on a process's first
sample (the schema registry, the format's parser module, each dialect's compiled
validator: about 50 ms for one format) would be built again in every chunk. Built here,
once, the chunks inherit it. Only the formats the documents name
(``.. balloon-sample:: FORMAT``) are loaded; a serial build (``-j 1``) skips all of
this and builds the same things on its first sample, once.

Then the objects of the main process are frozen (:func:`gc.freeze`, as Python's
documentation advises before a fork): the garbage collector of each forked reader and
writer no longer walks the heap it inherited, and so no longer copies its pages (the
extension makes that heap larger: the checker, its schemas and validators). They are
thawed when the build finishes. On the 500-sample benchmark this turned what ``-j 2``
adds to the processor time of a build from +0.5 s into -0.3 s.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from conformance import BalloonError, get_format, schemas, validation

from . import settings

DIRECTIVE = re.compile(r"^[ \t]*\.\.[ \t]+balloon-sample::[ \t]*(\S*)", re.MULTILINE)
"""A sample in a document's source, and the format it names (empty: told by its prompt)."""


def warm_readers(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """``env-before-read-docs``: with ``-j N`` and documents to read in several
    processes, build what their samples' checks need before the fork."""
    if app.parallel <= 1 or len(docnames) < 2:
        return
    named = named_formats(Path(env.doc2path(name)) for name in docnames)
    if named is None:
        return  # no sample to check
    extra = settings.extra_schemas(app.config)
    schemas.registry(extra)
    for format_id in sorted(named):
        try:
            spec = get_format(format_id)
        except BalloonError:
            continue  # the directive reports it, where it stands
        for dialect in spec.dialects:
            settings.schema_files(dialect.schema, extra)
            if validation.enabled():
                schemas.fast_validator(dialect.schema, extra)
    _freeze()


_FROZEN: list[bool] = []
"""Whether this module froze the collector's objects (and so thaws them): one entry."""


def _freeze() -> None:
    """Freeze what the main process holds, unless someone else manages freezing."""
    if gc.get_freeze_count() or _FROZEN:
        return
    gc.collect()  # no garbage frozen with the rest
    gc.freeze()
    _FROZEN.append(True)


def thaw(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished``: the objects frozen for the build are collectable again."""
    if _FROZEN:
        _FROZEN.clear()
        gc.unfreeze()


def named_formats(sources: Iterable[Path]) -> set[str] | None:
    """The formats the sources' samples name; None when they hold no sample at all."""
    found: set[str] | None = None
    for source in sources:
        try:
            text = source.read_text("utf-8", errors="replace")
        except OSError:
            continue  # the reader reports it
        for match in DIRECTIVE.finditer(text):
            found = found if found is not None else set()
            if match.group(1):
                found.add(match.group(1))
    return found
