"""The extension's configuration values and the schema files behind them.

``balloon_strict``
    Report non-conforming samples as errors instead of warnings.
``balloon_schema_path``
    Extra schema folders (relative to ``conf.py``), for out-of-tree drivers' schemas or
    local overrides; a file there with the name of a bundled schema replaces it.
``balloon_capture_root``
    A folder outside the source tree that ``balloon-sample :file:`` may read from
    (captures kept next to the documentation rather than inside it).

Paths are made absolute once, when the configuration is read, so that directives in
parallel reader processes and the environment's change detection see the same values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

from conformance import BalloonError, schemas
from conformance.schemadoc import FieldDoc, describe, referenced_documents


def add_config_values(app: Sphinx) -> None:
    """Declare the configuration values; changing any of them rereads every document."""
    app.add_config_value("balloon_strict", False, "env")
    app.add_config_value("balloon_schema_path", [], "env")
    app.add_config_value("balloon_capture_root", "", "env")
    app.connect("config-inited", _absolute_paths)


def _absolute_paths(app: Sphinx, config: Config) -> None:
    confdir = Path(app.confdir)
    folders = []
    for entry in config.balloon_schema_path:
        folder = (confdir / entry).resolve()
        if not folder.is_dir():
            raise ConfigError(f"balloon_schema_path: {entry!r} is not a folder ({folder})")
        folders.append(str(folder))
    config.balloon_schema_path = folders
    try:  # a broken schema file is a configuration problem: say so before reading
        schemas.names(tuple(folders))
    except BalloonError as exc:
        raise ConfigError(f"balloon_schema_path: {exc}") from None
    if config.balloon_capture_root:
        root = (confdir / config.balloon_capture_root).resolve()
        if not root.is_dir():
            raise ConfigError(f"balloon_capture_root: {root} is not a folder")
        config.balloon_capture_root = str(root)


LISTING = "balloon_schema_listing"
"""The environment's record of the schema files each extra folder held at the last read."""


def schema_listing(config: Config) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """Each extra schema folder with the schema files in it and their times of change."""
    listing = []
    for folder in extra_schemas(config):
        files = []
        try:
            for path in sorted(Path(folder).rglob("*.json")):
                files.append((path.relative_to(folder).as_posix(), path.stat().st_mtime_ns))
        except OSError:
            pass
        listing.append((folder, tuple(files)))
    return tuple(listing)


def reread_for_schemas(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """``env-get-outdated``: when a schema file of an extra folder came, went or changed
    since the last build, the schemas are read again and every document with a sample,
    table or rule link is too. A new file (an override of a bundled schema) is nobody's
    dependency until it is read, and a folder cannot be one (Sphinx rereads a document
    whose dependency is not a file at every build); and a process that builds again
    (``sphinx-autobuild``) would go on with the schemas it read first."""
    now = schema_listing(app.config)
    before = getattr(env, LISTING, None)
    setattr(env, LISTING, now)
    if before is None or before == now:
        return []
    schemas.forget()
    schema_files.cache_clear()
    field_doc.cache_clear()
    domain = env.get_domain("balloon")
    lists = (domain.samples, domain.unchecked, domain.fields)
    return sorted({entry.docname for entries in lists for entry in entries})


def extra_schemas(config: Config) -> tuple[str, ...]:
    return tuple(config.balloon_schema_path)


def capture_root(config: Config) -> Path | None:
    return Path(config.balloon_capture_root) if config.balloon_capture_root else None


def schema_uri(name: str, extra: tuple[str, ...]) -> str:
    """The ``$id`` of schema file ``name`` (the registry's key for it)."""
    document: dict[str, Any] = schemas.document(name, extra)
    return str(document.get("$id", schemas.BASE_URI + name))


@lru_cache(maxsize=256)
def schema_files(name: str, extra: tuple[str, ...]) -> tuple[Path, ...]:
    """The files of schema ``name`` and of every schema it refers to: what a sample
    checked against it depends on. Once per process: every sample of a format asks,
    and the schemas are loaded once per process too (``conformance.schemas``)."""
    uris = referenced_documents(schemas.registry(extra), schema_uri(name, extra))
    names = {file: schema_uri(file, extra) for file in schemas.names(extra)}
    folders = [Path(folder) for folder in reversed(extra)] + [schemas.schema_dir()]
    files = []
    for file, uri in sorted(names.items()):
        if uri not in uris:
            continue
        # the last folder that has the file wins, as when the schemas are loaded
        found = next((f / file for f in folders if (f / file).is_file()), None)
        if found is not None:
            files.append(found)
    return tuple(files)


@lru_cache(maxsize=4096)
def field_doc(name: str, extra: tuple[str, ...], pointer: str) -> FieldDoc | None:
    """What schema file ``name`` says about the instance member at ``pointer``."""
    return describe(schemas.registry(extra), schema_uri(name, extra), pointer)
