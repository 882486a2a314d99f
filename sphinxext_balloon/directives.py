"""The ``balloon-sample`` directive: a documentation example, checked at build time.

::

    .. balloon-sample:: hv-balloon
       :caption: Hyper-V balloon statistics
       :name: hv-balloon-example

       # cat /sys/kernel/debug/hv-balloon
       host_version : 2.0                // Hyper-V version the Guest is running under
       ...

A finding is a warning (``type="balloon"``, ``subtype=<diagnostic id>``) at the line of
the document, or of the ``:file:``, where the offending sample line stands, so ``-W``
fails the build and ``suppress_warnings = ["balloon.layout.whitespace"]`` works. Misuse of
the directive is an error at the directive, never a traceback.

Besides the parser and the schema, the file rules of the sample's format run on it.
``:group: NAME`` makes the samples of a group in a document one capture for the capture
rules (:mod:`sphinxext_balloon.group` reports and renders them once the document is
read); ``:excerpt:`` says the sample shows only some lines of the file; ``:kernel:``
names the kernel release it comes from (shown, and the group's kernel for the rules).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple, cast

from docutils import nodes
from docutils.parsers.rst import DirectiveError, directives
from sphinx.util.docutils import SphinxDirective

from conformance import BalloonError, DetectionError, Layout, format_for_path, format_ids
from conformance.capture import MAX_FILE_BYTES
from conformance.check import kernel_version
from conformance.escape import escape, safe_text

from . import settings
from .checking import Expect, SampleRequest, check_sample
from .domain import BalloonDomain, Unchecked
from .group import MEMBER, Member
from .nodes import UNCHECKED, balloon_box
from .outcome import Placement, finish, report
from .sample import SampleText, split_sample

MAX_RELEASE = 64
"""Longest ``:kernel:`` value: uname's release field holds 64 characters."""


def _ids(argument: str | None) -> tuple[str, ...]:
    """``:violates: hv-balloon.state-name, schema.const`` as a tuple of ids."""
    ids = tuple(part.strip() for part in (argument or "").replace(",", " ").split())
    if not ids:
        raise ValueError("name at least one diagnostic id")
    return ids


def _kernel(argument: str | None) -> str:
    """``:kernel: 6.18.44-fc-v669``: a release as ``uname -r`` prints it."""
    release = (argument or "").strip()
    if kernel_version(release) is None or len(release) > MAX_RELEASE:
        raise ValueError(
            f"{safe_text(release, 60)!r} is not a kernel release such as 6.18.44 "
            f"(MAJOR.MINOR[.PATCH] with up to nine digits each, at most {MAX_RELEASE} "
            "characters in all)"
        )
    return release


def _choice(*values: str) -> Callable[[str | None], str]:
    def convert(argument: str | None) -> str:
        return str(directives.choice(argument or "", values))

    return convert


class _Refused(NamedTuple):
    """An option docutils would refuse before the directive runs (unknown, or a value its
    converter rejects), kept for :meth:`SampleDirective.run` to refuse instead: there the
    sample is still shown, unchecked, and ``balloon_strict`` counts it."""

    message: str


class _Options(dict[str, Callable[..., Any]]):
    """An ``option_spec`` whose every refusal reaches the directive as a :class:`_Refused`
    value. docutils looks each option name up in it and calls what it finds."""

    def __init__(self, spec: dict[str, Callable[..., Any]]) -> None:
        super().__init__((name, _kept(name, convert)) for name, convert in spec.items())

    def __missing__(self, name: str) -> Callable[..., Any]:
        known = ", ".join(f":{option}:" for option in sorted(self))
        return lambda value: _Refused(f"unknown option :{safe_text(name, 60)}: (known: {known})")


def _kept(name: str, convert: Callable[..., Any]) -> Callable[[str | None], Any]:
    def run(value: str | None) -> Any:
        try:
            return convert(value)
        except (ValueError, TypeError) as exc:
            why = " ".join(str(arg) for arg in exc.args)
            return _Refused(f"invalid option value :{name}: {safe_text(value or '', 60)!r}: {why}")

    return run


def _why(exc: BaseException) -> str:
    """What went wrong, without the (maybe very long) file name an OSError repeats."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return safe_text(str(exc), 200)


def _shown(path: Path) -> str:
    return safe_text(str(path), 200)


class SampleDirective(SphinxDirective):
    """``.. balloon-sample:: [FORMAT]``: validate and render one sample."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True  # more than one word: refused in run(), not before
    option_spec = _Options(  # docutils reads this class attribute
        {
            "dialect": directives.unchanged_required,
            "layout": _choice("exact", "lenient"),
            "file": directives.path,
            "caption": directives.unchanged_required,
            "name": directives.unchanged_required,
            "expect": _choice("valid", "invalid"),
            "violates": _ids,
            "template": directives.flag,
            "excerpt": directives.flag,
            "group": directives.unchanged_required,
            "kernel": _kernel,
        }
    )

    def run(self) -> list[nodes.Node]:
        try:
            self._refuse_misuse()
            return self._checked()
        except DirectiveError as exc:
            domain = cast(BalloonDomain, self.env.get_domain("balloon"))
            domain.unchecked.append(Unchecked(self.env.docname, self.lineno))
            # the reader still sees the sample, unchecked, where the writer put it
            error = self.state.document.reporter.system_message(
                exc.level, exc.msg, line=self.lineno
            )
            if not self.content:
                return [error]
            text = "\n".join(self.content)
            block = nodes.literal_block(text, text, classes=[UNCHECKED])
            block["translatable"] = False  # see nodes.KeepSamplesUntranslated
            self.set_source_info(block)
            return [block, error]

    def _refuse_misuse(self) -> None:
        """Options docutils would have refused, and more than one argument."""
        for value in self.options.values():
            if isinstance(value, _Refused):
                raise self.error(f"balloon-sample: {value.message}")
        if self.arguments and len(self.arguments[0].split()) > 1:
            raise self.error(
                f"balloon-sample: one argument, the format, not "
                f"{safe_text(self.arguments[0], 60)!r}"
            )

    def _checked(self) -> list[nodes.Node]:
        request, origin = self._request()
        try:
            check = check_sample(request)
            files = settings.schema_files(check.schema, request.extra_schemas)
        except DetectionError as exc:
            reason = str(exc).split(";")[0]  # what follows is advice for the command line
            known = ", ".join(format_ids())
            raise self.error(
                f"balloon-sample: {reason}; name the format: .. balloon-sample:: FORMAT "
                f"(known: {known})"
            ) from None
        except BalloonError as exc:
            raise self.error(f"balloon-sample: {exc}") from None
        for file in files:
            self.env.note_dependency(str(file))
        placement = self._placement(request.text, origin)
        box = self._box(request)
        if request.group:  # judged, reported and filled once the whole group is known
            box[MEMBER] = Member(
                request, check, placement, self.block_text, self._path(request, origin)
            )
        else:
            shown = report(check.problems, placement, check.result.format, self.config)
            finish(self.env, box, request, check, self.block_text, shown)
        return [box]

    # -- reading ------------------------------------------------------------------
    def _request(self) -> tuple[SampleRequest, Path | None]:
        """The sample and its options; ``origin`` is the sample file, if any."""
        violates: tuple[str, ...] = self.options.get("violates", ())
        expect = Expect(self.options.get("expect", "invalid" if violates else "valid"))
        if violates and expect is Expect.VALID:
            raise self.error(
                "balloon-sample: :violates: names the checks a counter-example "
                "breaks; it needs :expect: invalid (or no :expect:)"
            )
        lines, data, origin = self._lines()
        text = split_sample(lines)
        format_id = self._format(text)
        return SampleRequest(
            text=text,
            format=format_id,
            dialect=self.options.get("dialect"),
            layout=Layout(self.options.get("layout", "lenient")),
            template="template" in self.options,
            expect=expect,
            violates=violates,
            extra_schemas=settings.extra_schemas(self.config),
            data=data,
            excerpt="excerpt" in self.options,
            group=self.options.get("group", "").strip(),
            kernel=self.options.get("kernel", "").strip(),
        ), origin

    def _lines(self) -> tuple[list[str], bytes | None, Path | None]:
        if "file" not in self.options:
            if not self.content:
                raise self.error("balloon-sample: give the sample as content or with :file:")
            # the same bound as a :file: sample's: the checks' work grows with the text
            size = sum(len(line.encode("utf-8", "surrogatepass")) + 1 for line in self.content)
            if size > MAX_FILE_BYTES:
                raise self.error(
                    f"balloon-sample: the sample is larger than {MAX_FILE_BYTES} bytes; "
                    "no kernel statistics file is"
                )
            return list(self.content), None, None
        if self.content:
            raise self.error("balloon-sample: give the sample as content or with :file:, not both")
        path = self._file(self.options["file"])
        self.env.note_dependency(str(path))
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise self.error(f"balloon-sample: cannot read {_shown(path)}: {_why(exc)}") from None
        if len(data) > MAX_FILE_BYTES:
            raise self.error(
                f"balloon-sample: {path} is larger than {MAX_FILE_BYTES} bytes; "
                "no kernel statistics file is"
            )
        return file_lines(data), data, path

    def _file(self, name: str) -> Path:
        """``name`` relative to the document (``/`` = the source folder), if allowed.

        Any failure of the file system (a name too long, a loop of links, no permission)
        is an error at the directive: the build goes on."""
        try:
            path, inside = self._resolve(name)
            regular = inside and path.is_file()
        except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a link loop
            message = f"balloon-sample: cannot read {safe_text(name)!r}: {_why(exc)}"
            raise self.error(message) from None
        if not inside:
            raise self.error(
                f"balloon-sample: {safe_text(name)!r} is outside the source folder; "
                "set balloon_capture_root to read captures from elsewhere"
            )
        if not regular:
            reason = _unreadable(path)  # a loop of links is no file to Python 3.13's is_file
            if reason:
                raise self.error(f"balloon-sample: cannot read {safe_text(name)!r}: {reason}")
            raise self.error(f"balloon-sample: no file {safe_text(name)!r} ({_shown(path)})")
        return path

    def _resolve(self, name: str) -> tuple[Path, bool]:
        """The file ``name`` leads to, links followed, and whether it is inside a folder
        the samples may come from."""
        _, absolute = self.env.relfn2path(name, self.env.docname)
        path = Path(absolute).resolve()
        allowed = [Path(self.env.srcdir).resolve()]
        root = settings.capture_root(self.config)
        if root is not None:
            allowed.append(root)
        return path, any(path == folder or folder in path.parents for folder in allowed)

    def _format(self, text: SampleText) -> str | None:
        named = self.arguments[0] if self.arguments else None
        spec = format_for_path(text.guest_path) if text.guest_path else None
        if named and spec is not None and spec.id != named:
            raise self.error(
                f"balloon-sample: the prompt reads {text.guest_path} "
                f"({spec.id}), but the directive names {named}"
            )
        return named or (spec.id if spec is not None else None)

    # -- reporting ----------------------------------------------------------------
    def _placement(self, text: SampleText, origin: Path | None) -> Placement:
        """``source:line`` of the directive, then of each output line of the sample."""
        source, line = self.get_source_info()
        lines = [f"{source}:{line}"]
        for index in range(text.first_output_line, len(text.lines)):
            lines.append(self._location(index, origin) or lines[0])
        return Placement(tuple(lines))

    def _location(self, index: int, origin: Path | None) -> str:
        """``source:line`` of the document (or file) line that holds sample line ``index``."""
        if origin is not None:  # a name in the source folder may hold control characters
            return f"{escape(str(origin))}:{index + 1}"
        # the content keeps, per line, the file and 0-based line it came from (includes too)
        source, offset = self.content.info(index)
        if offset is None:  # docutils' "just past the end"; not reached for real lines
            return ""
        return f"{source}:{offset + 1}"

    def _path(self, request: SampleRequest, origin: Path | None) -> str:
        """The sample's name in its group's capture: where it is, and what it shows; a
        ``:file:`` sample by its file, with the directive's line as context."""
        where = f"{self.env.doc2path(self.env.docname, False)}:{self.lineno}"
        if origin is not None:
            srcdir = Path(self.env.srcdir).resolve()
            shown = origin.relative_to(srcdir) if srcdir in origin.parents else origin
            return f"{shown.as_posix()} ({where})"
        return f"{where} ({request.text.guest_path})" if request.text.guest_path else where

    # -- rendering ----------------------------------------------------------------
    def _box(self, request: SampleRequest) -> balloon_box:
        """The sample's container with its caption and anchor; :func:`finish` fills it."""
        classes = ["balloon-sample"]
        if request.expect is Expect.INVALID:
            classes.append("balloon-counterexample")
        box = balloon_box(classes=classes)
        self.set_source_info(box)
        if "caption" in self.options:
            caption, messages = self.state.inline_text(self.options["caption"], self.lineno)
            rubric = nodes.rubric(
                self.options["caption"], "", *caption, classes=["balloon-caption"]
            )
            box += rubric
            box += messages
        # with a caption, :ref: takes it as the link text; without one, give a text
        self.add_name(box[0] if "caption" in self.options else box)
        if not box["ids"]:
            box["ids"].append(f"balloon-sample-{self.env.new_serialno('balloon-sample')}")
        return box


def file_lines(data: bytes) -> list[str]:
    """The lines of a sample file as ``balloon-conform`` numbers them: split at ``\n``
    only (a form feed or a lone ``\r`` is inside a line, for the parser to judge), a
    ``\r`` before it kept, bytes that are not UTF-8 shown replaced (the parser reads the
    bytes themselves and says where they are)."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines[-1] == "":  # the newline that ends the last line starts no other
        lines.pop()
    return lines


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be looked at, when the file system says more than "absent"."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return _why(exc)
    return None
