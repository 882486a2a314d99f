"""The ``balloon-conform`` command line: the output edge of the library.

Exit status: 0 when the input conforms, 1 when a diagnostic of error severity was found,
2 for a usage error or an input that cannot be read, 130 after Ctrl-C and 143 after
SIGTERM (worker processes ended, nothing left behind). No traceback reaches the user
unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, TextIO

from . import __version__, output, schemas
from .diagnostics import Severity, to_json
from .entry import interrupted
from .errors import BalloonError, InputError
from .escape import escape, json_text, safe_text
from .model import Layout
from .stopping import Terminated, terminable

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + 2, 128 + 15  # as a shell reports SIGINT, SIGTERM
EXIT_PIPE = 128 + 13  # SIGPIPE, as `yes | head` reports it: not "findings" (1)
MAX_INPUT_BYTES = 16 * 1024 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    output.prepare_standard_streams()  # a closed stream, an encoding short of characters
    try:
        status = _run(argv)
    except SystemExit:  # argparse's --version, --help or usage error, all written now
        failed = _flush_stdout()
        if failed is None:
            raise
        return failed
    # what is still buffered goes now, where a full disk (ENOSPC) can still be said
    failed = _flush_stdout()
    return status if failed is None else failed


def _flush_stdout() -> int | None:
    """Flush standard output: None when all of it went, else the exit status to end
    with, 141 when the reader went away, 2 (said on standard error) when it failed."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return _stdout_failed(exc)
    return None


def _stdout_failed(exc: OSError) -> int:
    """The exit status after writing to standard output failed: 141 when the reader went
    away, else 2, said on standard error."""
    if not isinstance(exc, BrokenPipeError):
        print(f"balloon-conform: error: standard output: {_os_error(exc)}", file=sys.stderr)
    with contextlib.suppress(OSError, ValueError):  # a stand-in stdout without descriptor
        _silence_stdout()  # what stayed buffered goes nowhere: the exit has nothing to say
    return EXIT_PIPE if isinstance(exc, BrokenPipeError) else EXIT_USAGE


def _run(argv: Sequence[str] | None) -> int:
    try:
        parser = _parser(argv)
        args = parser.parse_args(argv)
    except BalloonError as exc:  # standard output closed for --version or --help
        print(f"balloon-conform: error: {escape(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # --version or --help could not be written (see _Parser)
        return _stdout_failed(exc)
    except Exception as exc:  # Ctrl-C inside an import can come wrapped (see interrupted)
        if interrupted(exc):
            return EXIT_INTERRUPTED
        raise
    except KeyboardInterrupt:  # Ctrl-C while the command line is still being read
        return EXIT_INTERRUPTED
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with terminable():
            return handler(args)
    except BalloonError as exc:
        print(f"balloon-conform: error: {escape(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C: the work stopped cleanly, nothing more to say
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly with the status a filter killed
        # by SIGPIPE has, so a pipeline never reads it as "errors found"
        _silence_stdout()
        return EXIT_PIPE
    except OSError as exc:  # the file system refused a path (too long, a link loop ...)
        # ... or standard output did (a full disk): then what it still holds fails again
        failed = _flush_stdout() if exc.filename is None else None
        if failed is None:
            print(f"balloon-conform: error: {_os_error(exc)}", file=sys.stderr)
        return failed or EXIT_USAGE
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if interrupted(exc):  # Ctrl-C during an import a command made on its own
            return EXIT_INTERRUPTED
        if args.debug:
            raise
        print(
            f"balloon-conform: internal error: {safe_text(repr(exc), 500)} (run with --debug)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _os_error(exc: OSError) -> str:
    """``NAME: reason`` of an OSError, the name escaped and shortened."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return escape(reason)
    name = exc.filename if isinstance(exc.filename, str) else os.fsdecode(exc.filename)
    return f"{safe_text(name, 200)}: {escape(reason)}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# The commands whose modules import the checker, the rules and the reporters: loaded
# only for a command line that may use them, so `--version` and `parse` start fast.
_COMMAND_MODULES = {
    "check": "cli_check",
    "rules": "cli_check",
    "explain": "cli_check",
    "capture": "cli_capture",
    "run": "cli_run",
}


def _command_modules(argv: Sequence[str] | None) -> list[str]:
    """The subcommand modules a command line needs: the named command's own, none for
    ``parse``, ``schema`` and a bare ``--version``, all of them otherwise (help, usage
    errors, an unknown command), so every listing stays complete."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in words if not word.startswith("-")), None)
    if command in ("parse", "schema"):
        return []
    if command in _COMMAND_MODULES:
        return [_COMMAND_MODULES[command]]
    helps = any(word == "-h" or word.startswith("--h") for word in words)
    if command is None and not helps and any(word.startswith("--v") for word in words):
        return []
    return ["cli_check", "cli_capture", "cli_run"]  # the order the help lists them in


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal's width by :func:`_columns`: its
    own way imports :mod:`shutil` (and with it zlib, bz2 and lzma) as soon as an
    argument is added, on every start of the command, to print help that is seldom asked."""

    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3 and kwargs.get("width") is None:
            kwargs["width"] = _columns() - 2  # as argparse sets it
        super().__init__(prog, *args, **kwargs)


def _columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the width of the
    terminal on standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no stdout, closed, or no terminal
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An argument parser (and the parsers of its commands) with :class:`_Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse's own drops an OSError: --version or --help written to a full disk
        # would be lost and exit 0
        if message:
            (file or sys.stderr).write(message)


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="balloon-conform",
        description="Parse and check the guest-visible statistics of Linux balloon drivers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    parse_cmd = commands.add_parser("parse", help="print the instance a file parses to, as JSON")
    parse_cmd.add_argument("file", metavar="FILE", help="the file to parse, or - for stdin")
    parse_cmd.add_argument("--format", metavar="ID", help="format id (default: detected)")
    parse_cmd.add_argument("--dialect", metavar="ID", help="dialect id (default: detected)")
    parse_cmd.add_argument(
        "--layout",
        choices=[m.value for m in Layout],
        default=Layout.LENIENT.value,
        help="exact: also check the kernel's byte layout (default: lenient)",
    )
    parse_cmd.add_argument(
        "--meta",
        action="store_true",
        help="print {format, dialect, schema, instance, diagnostics} instead of the instance",
    )
    parse_cmd.set_defaults(handler=_cmd_parse)

    schema_cmd = commands.add_parser("schema", help="list, show or export the JSON Schemas")
    schema_sub = schema_cmd.add_subparsers(title="schema commands", metavar="ACTION")
    listing = schema_sub.add_parser("list", help="formats, dialects, $id and title of each schema")
    listing.set_defaults(handler=_cmd_schema_list)
    show = schema_sub.add_parser("show", help="print one schema")
    show.add_argument(
        "id", metavar="ID[/DIALECT]", help="a format id, format/dialect, or file name"
    )
    show.set_defaults(handler=_cmd_schema_show)
    export = schema_sub.add_parser("export", help="write every schema into DIR for other tools")
    export.add_argument("directory", metavar="DIR")
    export.set_defaults(handler=_cmd_schema_export)
    for name in _command_modules(argv):
        importlib.import_module("." + name, __package__).add_commands(commands)
    return parser


def read_input(name: str) -> bytes:
    """The bytes of FILE (or stdin for ``-``), refusing what is not a readable file."""
    if name == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"{name}: not a readable file")
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{name}: {exc.strerror or exc}") from exc
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"{name}: larger than {MAX_INPUT_BYTES} bytes; not a kernel statistics file"
        )
    return data


def _cmd_parse(args: argparse.Namespace) -> int:
    from .formats import get_format  # the parsers load for the commands that use them
    from .pipeline import parse

    data = read_input(args.file)
    path = "<stdin>" if args.file == "-" else args.file
    result = parse(data, format=args.format, dialect=args.dialect, layout=args.layout, path=path)
    spec = get_format(result.format)
    if args.meta:
        output: Any = {
            "format": result.format,
            "dialect": result.dialect,
            "schema": schemas.BASE_URI + spec.dialect(result.dialect).schema,
            "instance": result.instance,
            "diagnostics": [to_json(d) for d in result.diagnostics],
        }
    else:
        output = result.instance
    _print_json(output, sys.stdout)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    errors = any(d.severity is Severity.ERROR for d in result.diagnostics)
    return EXIT_ERRORS if errors else EXIT_OK


def _print_json(value: Any, stream: TextIO) -> None:
    # an instance holds text from the file: JSON escapes its C0 controls, json_text the rest
    stream.write(json_text(json.dumps(value, indent=2, ensure_ascii=False)) + "\n")


def _cmd_schema_list(args: argparse.Namespace) -> int:
    from .formats import FORMATS

    rows = []
    for spec in FORMATS:
        rows.append((spec.id, ",".join(spec.dialect_ids), spec.schema))
        rows.extend((f"{spec.id}/{d.id}", d.first_kernel, d.schema) for d in spec.dialects)
    width = max(len(row[0]) for row in rows)
    for ident, dialects, name in rows:
        title = schemas.document(name).get("title", "")
        print(f"{ident:<{width}}  {dialects:<12}  {schemas.BASE_URI + name}  {title}")
    return EXIT_OK


def _cmd_schema_show(args: argparse.Namespace) -> int:
    _print_json(schemas.document(schema_name(args.id)), sys.stdout)
    return EXIT_OK


def schema_name(ident: str) -> str:
    """The schema file for ``FORMAT``, ``FORMAT/DIALECT`` or a schema file name."""
    if ident.endswith(schemas.SUFFIX):
        return ident
    if ident in ("report", "capture"):
        return ident + schemas.SUFFIX
    from .formats import get_format

    format_id, _, dialect = ident.partition("/")
    spec = get_format(format_id)
    return spec.dialect(dialect).schema if dialect else spec.schema


def _cmd_schema_export(args: argparse.Namespace) -> int:
    """Every schema into ``DIR/schemas`` (``$id``-relative, so relative ``$ref`` resolve
    there), a self-contained copy of each into the sibling ``DIR/bundled`` and the catalog
    into ``DIR/catalog.json``; each file replaced whole, and nothing written through a link."""
    directory = Path(args.directory)
    written = 0
    try:
        with output.directory(directory) as top:
            for name in schemas.names():
                for relative, document in (
                    (f"schemas/{name}", schemas.document(name)),
                    (f"bundled/{name}", schemas.bundle(name)),
                ):
                    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
                    output.write_beneath(top, relative, text)
                    written += 1
            from . import schema_catalog

            catalog = json.dumps(schema_catalog.catalog(), indent=2) + "\n"
            output.write_beneath(top, "catalog.json", catalog)
    except OSError as exc:
        raise InputError(f"{directory}: cannot export the schemas: {exc.strerror}") from exc
    print(f"wrote {written} schema files and catalog.json to {directory}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
