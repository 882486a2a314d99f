"""``json.dumps(value, indent=2, ensure_ascii=False)``, the same bytes, faster.

The JSON and SARIF reporters dump one object per capture; with ``indent`` the standard
library falls back from its C encoder to a chain of Python generators, which made writing
a fleet's report cost as much as checking a good part of it. :func:`dumps` walks the plain
values a report is made of (dicts with string keys, lists, tuples, strings, ints, bools,
None) itself and writes each string with the C string encoder the standard library uses;
anything else (a float, a key that is not a string, a subclass it does not know) is left
to :func:`json.dumps`, so the output is always exactly what that would write.
"""

from __future__ import annotations

import json
from typing import Any

STRING = _STRING = json.encoder.encode_basestring
"""What ``json.dumps(..., ensure_ascii=False)`` writes a string as (C when available)."""


class _Unusual(Exception):
    """A value this writer leaves to :func:`json.dumps`."""


class Written(str):
    """A value already written by :func:`dumps` (at the top level): set in a document
    as it is, indented where it stands. A part that many documents share (the checks a
    fleet's captures skip) is written once this way instead of once per document."""


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``."""
    try:
        return _value(value, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(_read_back(value), indent=2, ensure_ascii=False)


def _read_back(value: Any) -> Any:
    """``value`` with each :class:`Written` part read back into the value it was written
    from, for :func:`json.dumps` (which would write it as a string)."""
    if type(value) is Written:
        return json.loads(value)
    if isinstance(value, dict):
        return {key: _read_back(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_read_back(item) for item in value]
    return value


def _value(value: Any, pad: str) -> str:
    """``value`` as JSON whose lines below the first start with ``pad`` (after its
    newline): the indentation of the line ``value`` starts on."""
    kind = type(value)
    if kind is str:
        return str(_STRING(value))
    if kind is Written:
        return str.replace(value, "\n", pad)
    if kind is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    inner = pad + "  "
    if kind is dict:
        if not value:
            return "{}"
        items = []
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            # strings, the most common members, without a call of this function each
            text = _STRING(item) if type(item) is str else _value(item, inner)
            items.append(f"{_STRING(key)}: {text}")
        return "{" + inner + ("," + inner).join(items) + pad + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        try:  # a list of strings (a capture's files and rules): C calls only
            body = ("," + inner).join(map(_STRING, value))
        except TypeError:
            body = ("," + inner).join(_value(v, inner) for v in value)
        return "[" + inner + body + pad + "]"
    raise _Unusual
