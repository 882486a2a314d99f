"""Reading ``capture.json``, a capture's manifest: what is not sound is said, and left out.

The check and the series read the manifest's plain members as they are: the kernel
release and the page size choose and size the rules, the time orders a series, the boot
id and the uptime cut it at reboots. So they are held here, where the manifest is read,
to capture.schema.json and to what the schema only annotates (a ``date-time`` format):
a member that breaks them, and a name given more than once (JSON leaves it to the reader
which value counts), is a ``capture.manifest`` error at the line of its name, and is
left out, as if capture.json did not have it. Nothing after this module sees it.

The records (``host``, ``files``) are kept as they are read: the check validates them
against the schema and says where inside they break it, and the rules read them only
through :meth:`conformance.view.CaptureView.sound_manifest`, which keeps them off a
record that does (so the host rules say that the record is malformed, not missing). A
name given twice inside a record leaves the whole record out: the schema cannot see it.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from . import schemas
from .diagnostics import Diagnostic, Location, Severity
from .escape import safe_text

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

ID = "capture.manifest"
SCHEMA = "capture.schema.json"
LEFT_OUT = "a member that is not valid is not used: the check goes on as if it were absent"
_WHITESPACE = re.compile(r"[ \t\n\r]*")
"""What JSON allows between tokens (as :mod:`json` itself skips it)."""
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)


@dataclass(frozen=True)
class _Member:
    """One top-level member as written: where its name is, and the names given more
    than once inside its value."""

    name: str
    value: Any
    line: int
    column: int
    repeated: tuple[str, ...]


def read_manifest(data: bytes, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The sound members of the manifest ``data`` and the errors found in it, located in
    the file ``path``; None for the manifest when it is not a JSON object."""
    problems = _Problems(path)
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_constant=_not_json)
        members = _members(text) if isinstance(value, dict) else []
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problems.add(f"not valid JSON: {safe_text(str(exc), 200)}")
        return None, problems.found
    if not isinstance(value, dict):
        problems.add("not a JSON object")
        return None, problems.found
    kept = _single(members, problems)
    for name in _unsound(kept, problems):
        del kept[name]
    return {name: member.value for name, member in kept.items()}, problems.found


class _Problems:
    """The errors found in one manifest, each at a line of it when there is one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[Diagnostic] = []

    def add(self, message: str, at: _Member | None = None, hint: str = "") -> None:
        where = Location(self.path, at.line, at.column) if at else Location(self.path)
        self.found.append(Diagnostic(ID, Severity.ERROR, message, where, hint))


def _single(members: list[_Member], problems: _Problems) -> dict[str, _Member]:
    """The members whose names are given once, inside them too; an error for each other."""
    by_name: dict[str, list[_Member]] = {}
    for member in members:
        by_name.setdefault(member.name, []).append(member)
    kept = {}
    for name, given in by_name.items():
        where = schemas.path_of([name])
        if len(given) > 1:
            lines = ", ".join(str(m.line) for m in given)
            message = (
                f"{where}: given {len(given)} times (lines {lines}); JSON does not say which counts"
            )
            problems.add(message, given[-1], LEFT_OUT)
        elif given[0].repeated:
            inside = ", ".join(repr(safe_text(n, 60)) for n in given[0].repeated[:5])
            message = f"{where}: a name is given more than once inside it ({inside})"
            problems.add(message, given[0], LEFT_OUT)
        else:
            kept[name] = given[0]
    return kept


def _unsound(kept: dict[str, _Member], problems: _Problems) -> set[str]:
    """The plain members of ``kept`` that break the schema or its formats, each said."""
    records, formats = _shapes()
    manifest = {name: member.value for name, member in kept.items()}
    unsound: set[str] = set()
    told: set[str] = set()
    for error in schemas.iter_errors(SCHEMA, manifest):
        name = error.absolute_path[0] if error.absolute_path else None
        message = f"{schemas.json_path(error)}: {said(error)}"
        # a record is validated by the check; a message said twice (a wrong type where
        # an enumeration is, each with the enumeration's sentence) is said once
        if isinstance(name, str) and name not in records and message not in told:
            problems.add(message, kept[name], LEFT_OUT)
            unsound.add(name)
            told.add(message)
    for name, (sound, sentence) in formats.items():
        value = manifest.get(name)
        if name not in unsound and isinstance(value, str) and not sound(value):
            message = f"{schemas.path_of([name])}: {_shown(value)}, but {name} {sentence}"
            problems.add(message, kept[name], LEFT_OUT)
            unsound.add(name)
    return unsound


def said(error: Any) -> str:
    """What a schema error in a manifest says of its value: an enumeration is a oneOf of
    described consts, whose own message ("not valid under any of the given schemas")
    names no value; its x-invariant lists them."""
    invariant = error.schema.get("x-invariant") if isinstance(error.schema, dict) else None
    if not isinstance(invariant, str):
        return str(error.message)
    return f"{_shown(error.instance)}, but {invariant}"


def _shown(value: Any) -> str:
    found = repr(value)
    return found if len(found) <= 80 else found[:77] + "..."


def is_date_time(value: str) -> bool:
    """Whether ``value`` is a date and time with its zone (RFC 3339) that Python reads
    (a series is ordered by it, and this Python's ``fromisoformat`` must take it)."""
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "date-time": (is_date_time, "is a date and time with its zone, as 2026-11-27T17:50:00+00:00"),
}
"""The ``format`` annotations of the schema that are held here, with what they say."""


@cache
def _shapes() -> tuple[frozenset[str], dict[str, tuple[Callable[[str], bool], str]]]:
    """The records of the schema (left to the check), and its plain members that have a
    format held here."""
    properties = schemas.document(SCHEMA).get("properties", {})
    records = frozenset(n for n, s in properties.items() if s.get("type") == "object")
    held = {n: s.get("format") for n, s in properties.items()}
    formats = {n: _FORMATS[f] for n, f in held.items() if f in _FORMATS}
    return records, formats


def _decoder(repeated: list[str]) -> json.JSONDecoder:
    """A strict JSON decoder: NaN and Infinity are not JSON (and an ``uptime`` of NaN
    compares as no number does); each object's names given twice go to ``repeated``."""

    def pairs(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in items:
            if name in found:
                repeated.append(name)
            found[name] = value
        return found

    return json.JSONDecoder(object_pairs_hook=pairs, parse_constant=_not_json)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _members(text: str) -> list[_Member]:
    """The top-level members of ``text``, a JSON object already decoded once (so
    well-formed), in their order, with the line and column of each name."""
    repeated: list[str] = []
    decoder = _decoder(repeated)
    members = []
    index = _skip(text, _skip(text, 0) + 1)  # past "{"
    line, line_start, counted = 1, 0, 0
    while text[index] != "}":
        line += text.count("\n", counted, index)
        line_start = max(line_start, text.rfind("\n", counted, index) + 1)
        counted = start = index
        name, index = decoder.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        repeated.clear()
        value, index = decoder.raw_decode(text, index)
        column = start - line_start + 1
        members.append(_Member(name, value, line, column, tuple(dict.fromkeys(repeated))))
        index = _skip(text, index)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return members


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index
