"""Every whole-file fast path gives exactly what the line reader gives.

A format's fast path reads a file printed exactly as the kernel prints it and leaves every
other file to the line reader. Here each one is held to the line reader on the corpus
under ``tests/data/``, the example fleet, and mutations of both (whitespace, a digit, an
unknown line, a missing or doubled line, numbers past their C type, non-ASCII, CRLF, an
empty file ...): the same dialect, instance (key order included), diagnostics,
annotations and source map, through :func:`conformance.parse` as ``check`` calls it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import parse
from conformance.capture import read_capture
from conformance.formats import (
    get_format,
    hv_balloon,
    meminfo,
    virtio_balloon,
    virtio_features,
    vmmemctl,
    vmstat,
)
from conformance.model import ParseResult

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

FAST_PATHS: dict[str, tuple[tuple[Any, str, object], ...]] = {
    "hv-balloon": ((hv_balloon, "kernel_file", None),),
    "meminfo": ((meminfo, "kernel_file", None), (meminfo._Reader, "_kernel_line", False)),
    "virtio-balloon": ((virtio_balloon, "kernel_file", None),),
    "virtio-features": ((virtio_features, "_kernel_line", None),),
    "vmstat": ((vmstat, "_kernel_file", None), (vmstat, "_kernel_line", False)),
    "vmmemctl": ((vmmemctl, "_kernel_file", None),),
}
"""Per format, the functions that take its fast paths and what each returns to decline."""

LINE_READERS: dict[str, tuple[Any, str]] = {
    "hv-balloon": (hv_balloon, "_parse_lines"),
    "meminfo": (meminfo, "split_lines"),
    "virtio-balloon": (virtio_balloon, "_parse_lines"),
    "virtio-features": (virtio_features, "split_lines"),
    "vmstat": (vmstat, "split_lines"),
    "vmmemctl": (vmmemctl, "_parse_lines"),
}
"""Per format, a function only its line reader calls."""

CONTEXTS: dict[str, tuple[dict[str, str], ...]] = {
    "virtio-features": (
        {},
        {"device": "0x0005\n"},
        {"device": "0x0001\n"},
        {"device": "0x00ff"},
        {"device": "five"},
        {"device": ""},
    ),
}
"""Per format, the neighbouring files each sample is also read with."""

LINE_READ_DIALECTS = {"meminfo": ("2.4",)}
"""Dialects a format's fast path leaves to the line reader: 2.4 meminfo's header rows."""

HUGE = (str(2**32 - 1), str(2**32), str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64))


def samples(format_id: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """``(name, data, context)`` of the corpus files and the example fleet's files."""
    found = [(p.name, p.read_bytes(), {}) for p in sorted((DATA / format_id).glob("*.txt"))]
    for folder in sorted((ROOT / "examples" / "fleet").iterdir()):
        if folder.is_dir():
            found += [
                (f"{folder.name}/{f.format}", f.data, dict(f.context))
                for f in read_capture(folder).files
                if f.format == format_id
            ]
    return found


def mutations(text: str, lines: bool = True) -> Iterator[tuple[str, str]]:
    """``(what, text)`` of the text and of changes the kernel never makes to it; with
    ``lines``, also of changes to each of its lines."""
    yield "as is", text
    yield "empty", ""
    yield "blank", "\n"
    yield "crlf", text.replace("\n", "\r\n")
    yield "no final newline", text.rstrip("\n")
    yield "extra newline", text + "\n"
    yield "bom", "\ufeff" + text
    yield "nul", text.replace("\n", "\0\n", 1)
    yield "annotation", text.replace("\n", " // note\n", 1)
    yield "unknown line", text + "bogus_key: 1\n"
    yield "unknown name", text + "bogus_key 1\n"
    yield "non-ascii", text.replace("a", "\u00e4", 1)
    if not lines:
        return
    split = text.split("\n")
    body = split[:-1] if split[-1] == "" else split
    # every line of a small file; of a long one the first few, the last, and eight
    # spread between (so that every kind of line of a vmmemctl generation is met)
    spread = range(0, len(body), max(1, len(body) // 8))
    picked = range(len(body)) if len(body) <= 16 else sorted({*range(4), *spread, len(body) - 1})
    for at in picked:
        yield from _line_mutations(body, at)


def _line_mutations(body: list[str], at: int) -> Iterator[tuple[str, str]]:
    def joined(new: list[str]) -> str:
        return "".join(line + "\n" for line in new)

    line = body[at]
    yield f"line {at + 1} missing", joined(body[:at] + body[at + 1 :])
    yield f"line {at + 1} twice", joined(body[: at + 1] + body[at:])
    if at + 1 < len(body):
        yield f"line {at + 1} swapped", joined([*body[:at], body[at + 1], line, *body[at + 2 :]])
    for what, new in (
        ("trailing space", line + " "),
        ("leading space", " " + line),
        ("tab", line.replace(" ", "\t", 1)),
        ("space doubled", line.replace(" ", "  ", 1)),
        ("space dropped", line.replace(" ", "", 1)),
        ("letter", line.replace("e", "E", 1)),
        ("cr", line + "\r"),
        *_digit_mutations(line),
    ):
        yield f"line {at + 1} {what}", joined([*body[:at], new, *body[at + 1 :]])


def _digit_mutations(line: str) -> Iterator[tuple[str, str]]:
    """The line with one of its numbers changed: a leading zero, another digit, a sign,
    and numbers at and past the limits of the C types the kernel prints."""
    for match in re.finditer("[0-9]+", line):
        head, digits, tail = line[: match.start()], match[0], line[match.end() :]
        where = f"number {match.start()}"
        yield f"{where} leading zero", head + "0" + digits + tail
        yield f"{where} digit", head + digits[:-1] + str((int(digits[-1]) + 1) % 10) + tail
        yield f"{where} minus", head + "-" + digits + tail
        yield f"{where} 41 digits", head + "9" * 41 + tail
        yield f"{where} 5000 digits", head + "9" * 5000 + tail  # past int()'s own limit
        # what int() reads but no printf writes: digit groups, a letter, a plus, a form feed
        yield f"{where} underscore", head + digits + "_0" + tail
        yield f"{where} letter", head + digits + "a" + tail
        yield f"{where} plus", head + "+" + digits + tail
        yield f"{where} form feed", head + "\f" + digits + tail
        for number in HUGE:
            yield f"{where} -> {number}", head + number + tail


def both(
    format_id: str,
    data: str | bytes,
    context: dict[str, str],
    dialect: str | None,
    validate: bool = True,
    layout: str = "exact",
) -> tuple[ParseResult | str, ParseResult | str]:
    """What the fast path and the line reader make of ``data`` (or the error they raise).
    Validation adds nothing to tell them apart once instance and source map are equal."""

    def run() -> ParseResult | str:
        try:
            return parse(
                data,
                format=format_id,
                dialect=dialect,
                layout=layout,
                context=context,
                validate=validate,
            )
        except Exception as exc:  # an unknown dialect id: both must raise the same
            return f"{type(exc).__name__}: {exc}"

    fast = run()
    with pytest.MonkeyPatch.context() as patch:
        for module, name, declined in FAST_PATHS[format_id]:
            patch.setattr(module, name, lambda *args, declined=declined: declined)
        general = run()
    return fast, general


def assert_same(fast: ParseResult | str, general: ParseResult | str) -> None:
    if isinstance(fast, str) or isinstance(general, str):
        assert fast == general
        return
    assert (fast.dialect, fast.instance, fast.diagnostics, fast.annotations) == (
        general.dialect,
        general.instance,
        general.diagnostics,
        general.annotations,
    )
    # the same key order, which reports and JSON output show
    assert json.dumps(fast.instance) == json.dumps(general.instance)
    assert dict(fast.source_map) == dict(general.source_map)


@pytest.mark.parametrize("format_id", sorted(FAST_PATHS))
def test_the_fast_path_reads_every_sample_and_mutation_as_the_line_reader(format_id: str) -> None:
    checked = 0
    for name, data, context in samples(format_id):
        for dialect in (None, *get_format(format_id).dialect_ids):
            assert_same(*both(format_id, data, context, dialect))
        for other in CONTEXTS.get(format_id, ()):
            assert_same(*both(format_id, data, other, None))
        text = data.decode("utf-8", errors="replace")
        # each line changed in the files the fast path reads, whose neighbours it must
        # refuse; the others' (read by the line reader) changed as a whole only
        for what, mutated in mutations(text, lines=takes(format_id, data, context)):
            # str and bytes differ in decoding only: both forms of the whole-file changes
            forms = (
                (mutated.encode("utf-8"),)
                if what.startswith("line")
                else (mutated, mutated.encode())
            )
            # a fast path takes no heed of the layout: the lenient one on whole-file changes
            layouts = ("exact",) if what.startswith("line") else ("exact", "lenient")
            for form, layout in itertools.product(forms, layouts):
                fast, general = both(format_id, form, context, None, False, layout)
                try:
                    assert_same(fast, general)
                except AssertionError as exc:
                    raise AssertionError(f"{name}, {what}, {layout}: {exc}") from exc
                checked += 1
    assert checked > 100


def takes(format_id: str, data: bytes, context: dict[str, str]) -> bool:
    """Whether the fast path reads ``data`` whole, without the line reader."""
    module, name = LINE_READERS[format_id]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, _refused)
        try:
            parse(data, format=format_id, layout="exact", context=context, validate=False)
        except AssertionError:
            return False
    return True


@pytest.mark.parametrize("format_id", sorted(LINE_READERS))
def test_the_example_fleet_is_read_without_the_line_reader(format_id: str) -> None:
    """Every file of the example fleet is printed as its kernel prints it: the fast
    path reads it whole, and the line reader is never called."""
    module, name = LINE_READERS[format_id]
    fleet = [s for s in samples(format_id) if "/" in s[0]]
    assert fleet
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, _refused)
        for _, data, context in fleet:
            parse(data, format=format_id, layout="exact", context=context)


def _refused(*args: object, **kwargs: object) -> None:
    raise AssertionError("the line reader was called")


@pytest.mark.parametrize("format_id", sorted(LINE_READERS))
def test_every_sample_the_line_reader_finds_nothing_in_is_read_whole(format_id: str) -> None:
    """A file printed as the kernel prints it (no finding in the exact layout) is read by
    the fast path, whatever its generation or dialect: one it declined would be read
    right, but at the line reader's cost."""
    declined = []
    for name, data, context in samples(format_id):
        _, general = both(format_id, data, context, None, False)
        assert not isinstance(general, str)
        by_design = general.dialect in LINE_READ_DIALECTS.get(format_id, ())
        if not general.diagnostics and not by_design and not takes(format_id, data, context):
            declined.append(name)
    assert declined == []
