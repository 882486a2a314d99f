"""The text of a documentation sample: console prompt, output lines, placeholders, notes.

A sample is either plain output or a console form whose first line is a prompt
(``# cat /sys/kernel/debug/hv-balloon``); the prompt names the guest file, and so the
format, and is shown but not parsed. In a template sample, values may be placeholders
(``XXX``, ``YYY``, ``<n>``): each is replaced by as many zeros before parsing, so every
column stays where it was, and a finding that points into a placeholder is about a value
the writer chose not to give, and is dropped. ``// comments`` after a value are the
parser's business (it sets them aside as annotations); :func:`split_annotation` finds
where one starts, the same way, so the renderer can show it apart from the output.

Nothing here knows about Sphinx or docutils.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conformance import Diagnostic
from conformance.text import annotation_start

PROMPT_ENDS = ("#", "$")
"""A shell prompt is one word ending in one of these (``#``, ``$``, ``root@guest:~#``)."""

PLACEHOLDER = re.compile(r"<[A-Za-z][\w-]*>|(?<![\w])(?:X{2,}|Y{2,}|Z{2,}|N{2,})(?![A-Z0-9_])")
"""``<n>``, ``<pages>``, or a run of two or more X, Y, Z or N standing alone or before
a unit (``XXXkB``). Linear: each alternative starts at a character no other position
of the same run can start at (``<``, or a letter not preceded by a word character), and
its one quantifier runs over a class the next token cannot match."""


@dataclass(frozen=True)
class SampleText:
    """A sample split into the prompt and the output the parser reads."""

    lines: tuple[str, ...]
    """Every line as written (prompt included)."""
    prompt: str = ""
    """The prompt line, when the sample is in console form."""
    guest_path: str = ""
    """The file the prompt's command reads, when it names one."""

    @property
    def first_output_line(self) -> int:
        """Index in :attr:`lines` of the first output line."""
        return 1 if self.prompt else 0

    @property
    def output(self) -> tuple[str, ...]:
        return self.lines[self.first_output_line :]

    def output_text(self) -> str:
        """The output as the parser gets it: one newline after every line."""
        return "".join(line + "\n" for line in self.output)

    def line_index(self, output_line: int) -> int:
        """Index in :attr:`lines` of 1-based output line ``output_line``."""
        return output_line - 1 + self.first_output_line


def split_sample(lines: Sequence[str]) -> SampleText:
    """Tell a console-form sample from plain output."""
    if lines:
        command = prompt_command(lines[0])
        if command is not None:
            paths = [word for word in command.split() if "/" in word]
            return SampleText(tuple(lines), lines[0], paths[-1] if paths else "")
    return SampleText(tuple(lines))


def prompt_command(line: str) -> str | None:
    """The command after a shell prompt that opens ``line``, or None when no prompt does.

    String methods, not a regular expression: the prompt is the first word and must end
    in ``#`` or ``$``, and a command must follow it.
    """
    parts = line.split(None, 1)
    if len(parts) < 2 or not parts[0].endswith(PROMPT_ENDS):
        return None
    command = parts[1].rstrip()
    return None if "\n" in command else command


@dataclass(frozen=True)
class Placeholders:
    """Where the placeholders of a template sample stand: ``(line, first, last)``
    with a 1-based output line and 1-based inclusive columns."""

    spans: tuple[tuple[int, int, int], ...] = ()

    def covers(self, line: int, column: int) -> bool:
        return any(
            span_line == line and first <= column <= last for span_line, first, last in self.spans
        )


def fill_placeholders(output: Sequence[str]) -> tuple[str, Placeholders]:
    """The output with each placeholder replaced by as many zeros, and where they were.

    Zeros because every numeric parser accepts them; as many, so that the columns the
    parser reports still point into the text the reader sees.
    """
    spans: list[tuple[int, int, int]] = []
    filled: list[str] = []
    for number, line in enumerate(output, start=1):
        code, _ = split_annotation(line)
        for match in PLACEHOLDER.finditer(code):
            spans.append((number, match.start() + 1, match.end()))
        filled.append(PLACEHOLDER.sub(lambda m: "0" * len(m.group()), code) + line[len(code) :])
    return "".join(line + "\n" for line in filled), Placeholders(tuple(spans))


def structural(diagnostics: Iterable[Diagnostic], holes: Placeholders) -> list[Diagnostic]:
    """The findings that are not about a placeholder's value."""
    return [d for d in diagnostics if not holes.covers(d.location.line, d.location.column)]


def split_annotation(line: str) -> tuple[str, str]:
    """``(output, annotation)``: the annotation keeps its ``//`` and the spaces before it.

    The same rule as the parsers' (:func:`conformance.text.split_lines`): the first
    ``//`` on the line starts it.
    """
    start = annotation_start(line)
    if start < 0:
        return line, ""
    return line[:start], line[start:]
