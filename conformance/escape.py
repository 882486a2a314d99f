"""Text from a capture made fit for a terminal, a report and any encoding.

File names and file contents are untrusted: an escape sequence would recolour or move
the cursor of the terminal that shows a finding, a bidirectional override would make a
line read differently from what it says, a line separator would forge a second finding,
and a byte that is not UTF-8 would make a JSON document or an XML file unreadable.
:func:`escape` writes every character that :meth:`str.isprintable` rejects (C0 and C1
controls, DEL, U+2028/U+2029, the bidirectional controls, unassigned code points ...)
as a Python escape (``\\x1b``, ``\\u202e``) and each undecodable byte that
``surrogateescape`` kept as ``\\xNN``; spaces of other widths (category Zs) stay. Every
:class:`~conformance.diagnostics.Diagnostic` passes its text through it when it is made,
so no reporter can forget; reporters add the escaping of their own syntax (XML, JSON,
workflow commands) on top.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE_BYTES = range(0xDC80, 0xDD00)
"""Where ``surrogateescape`` puts an undecodable byte 0x80-0xFF."""

_CANDIDATE = re.compile(r"[^\x20-\x7e\n]")
"""What may need escaping in JSON text: anything but printable ASCII and line breaks."""
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
"""The ASCII characters JSON text may hold as they are."""


def _escaped(char: str) -> str:
    code = ord(char)
    if code in _SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return repr(char)[1:-1]


def shown(char: str) -> bool:
    """Whether ``char`` may reach a terminal as it is: printable, or a space of another
    width (U+00A0, U+202F ...), which moves nothing and reads as a space."""
    return char.isprintable() or unicodedata.category(char) == "Zs"


def escape(text: str) -> str:
    """``text`` with each character that is not :func:`shown` written as an escape.

    Idempotent: what it writes is printable, so escaping twice changes nothing more."""
    if text.isprintable():
        return text
    return "".join(c if shown(c) else _escaped(c) for c in text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters in the middle, keeping its start and
    its (more distinctive) end, with a hash of the whole so that two long names that
    differ only in the part cut out stay distinct."""
    if len(text) <= limit:
        return text
    import hashlib  # a long name is rare: not imported at start-up for it

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    marker = f"...{digest}..."
    room = max(limit - len(marker), 2)
    head = room // 3
    return text[:head] + marker + text[len(text) - (room - head) :]


def safe_text(text: str, limit: int = 300) -> str:
    """``text`` fit for a terminal and any encoding, at most about ``limit`` characters:
    names and messages from a capture are untrusted."""
    return shorten(escape(text), limit)


def json_text(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with each character that
    is not printable, outside the line breaks of indentation, written as ``\\uXXXX``.

    ``json.dumps`` escapes C0 controls but leaves DEL, C1 controls, U+2028, the
    bidirectional controls and lone surrogates as they are; outside strings JSON text
    holds only printable ASCII and whitespace, so every such character is inside a
    string, where ``\\uXXXX`` means the same character to a JSON reader."""
    # nearly every report is printable ASCII: two C passes say so, before a regular
    # expression that looks at each character
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN_ASCII):
        return text
    return _CANDIDATE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if shown(char):
        return char
    code = ord(char)
    if code > 0xFFFF:  # a surrogate pair, as JSON spells characters beyond the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"
