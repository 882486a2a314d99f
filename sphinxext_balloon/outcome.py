"""What a checked sample becomes in the build: warnings at its lines, and its rendered body.

A sample is reported and rendered once its findings are final: by the directive for a
sample on its own, by the ``:group:`` handler (:mod:`sphinxext_balloon.group`) once the
capture rules of the group have run. Both go through :func:`report` and :func:`fill`, so
a grouped sample reads and warns exactly like a lone one.

:class:`Placement` carries what reporting needs from the directive: for every line of
the sample, the ``source:line`` of the document (or ``:file:``) line that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.logging import is_suppressed_warning

from conformance.schemadoc import FieldDoc

from . import render, settings
from .checking import Problem, SampleCheck, SampleRequest
from .domain import BalloonDomain, SampleRecord
from .nodes import DESCRIBED, FIELDS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where a sample stands: ``lines[0]`` is the directive, ``lines[n]`` output line n."""

    lines: tuple[str, ...]

    def location(self, output_line: int) -> str:
        """``source:line`` of 1-based output line ``output_line`` (0: the directive)."""
        if output_line <= 0 or len(self.lines) < 2:
            return self.lines[0]
        return self.lines[min(output_line, len(self.lines) - 1)]


def report(problems: Sequence[Problem], placement: Placement, format_id: str, config: Any) -> int:
    """One warning (an error with ``balloon_strict``) per problem, at its own line,
    typed ``balloon``/<diagnostic id> so ``suppress_warnings`` can name it; returns how
    many the build shows (``suppress_warnings`` silences the others, and a strict build
    fails only on what it shows).

    The id is named once: Sphinx 8 and later end every warning with its type and
    subtype (``[balloon.schema.const]``, ``show_warning_types``); before, the message
    does. A finding inside a ``:file:`` sample also names the directive that shows it."""
    strict = bool(config.balloon_strict)
    tagged = bool(getattr(config, "show_warning_types", False))
    suppressed = list(getattr(config, "suppress_warnings", None) or ())
    shown = 0
    for problem in problems:
        shown += not is_suppressed_warning("balloon", problem.subtype, suppressed)
        message = f"balloon-sample ({format_id}): {problem.message}"
        if problem.rule and not tagged:
            message += f" [{problem.rule}]"
        location = placement.location(problem.line)
        if location.rpartition(":")[0] != placement.lines[0].rpartition(":")[0]:
            message += f" (sample at {placement.lines[0]})"
        if strict:
            logger.error(message, location=location, type="balloon", subtype=problem.subtype)
        else:
            logger.warning(message, location=location, type="balloon", subtype=problem.subtype)
    return shown


def fill(
    box: nodes.Element, request: SampleRequest, check: SampleCheck, rawsource: str
) -> dict[str, str]:
    """Append the annotated block, the status line and the findings to ``box``, give it
    its field map, and return the descriptions of the fields the map names."""

    def lookup(pointer: str) -> FieldDoc | None:
        return settings.field_doc(check.schema, request.extra_schemas, pointer)

    anchor = box["ids"][0]
    box += render.sample_block(request, check, rawsource)
    box += render.status_line(request, check)
    findings = render.findings_list(check, anchor)
    if findings is not None:
        box += findings
        box[DESCRIBED] = findings["ids"][0]
    box[FIELDS], titles = render.field_map(request, check, lookup)
    return titles


def finish(
    env: BuildEnvironment,
    box: nodes.Element,
    request: SampleRequest,
    check: SampleCheck,
    rawsource: str,
    shown: int,
) -> None:
    """Fill ``box`` and record the sample, with the ids it fired, how many problems the
    build showed (:func:`report`), and its fields' descriptions in the domain."""
    titles = fill(box, request, check, rawsource)
    domain = cast(BalloonDomain, env.get_domain("balloon"))
    domain.note_descriptions(env.docname, render.schema_key(check.schema), titles)
    domain.note_sample(
        SampleRecord(
            env.docname,
            box["ids"][0],
            check.result.format,
            check.result.dialect,
            check.fired_ids,
            shown,
            render.shown_fields(check.result.source_map),
            box.line or 0,
        )
    )


def fail_strict_build(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished``: with ``balloon_strict``, a sample's problem fails the build,
    and so does a sample the build could not check (misuse of the directive).

    Sphinx 9 no longer turns a logged error into a non-zero exit status without ``-W``;
    the domain knows, also for documents read in other processes or earlier builds."""
    if exception is not None or not app.config.balloon_strict:
        return
    domain = cast(BalloonDomain, app.env.get_domain("balloon"))
    failed = sum(1 for sample in domain.samples if sample.problems)
    unchecked = len(domain.unchecked)
    if (failed or unchecked) and app.statuscode == 0:
        app.statuscode = 1
        said = [f"{failed} sample(s) do not conform"] if failed else []
        said += [f"{unchecked} could not be checked"] if unchecked else []
        logger.info(f"balloon_strict: {' and '.join(said)}; the build fails")
