"""Exceptions: raised only when the tool cannot go on, never for a non-conforming capture.

Bad captures yield diagnostics. These exceptions mean misuse (an unknown format id, an
option that makes no sense) or an environment problem (a schema file that does not load);
the CLI turns each into a one-line message and exit status 2.
"""

from __future__ import annotations


class BalloonError(Exception):
    """Base class of every exception this project raises on purpose."""


class UsageError(BalloonError):
    """The caller asked for something that does not exist or does not fit together."""


class UnknownFormatError(UsageError):
    """A format or dialect id that is not registered; the message lists the known ones."""


class DetectionError(UsageError):
    """The format or dialect of a text could not be told; the message lists candidates."""


class SchemaError(BalloonError):
    """A schema file is missing or broken: an installation problem, not an input problem."""


class InputError(BalloonError):
    """An input file or capture cannot be read at all (missing, not a file, unreadable)."""
