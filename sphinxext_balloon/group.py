"""``:group:``: the samples of one group in a document, checked together as one capture.

A document that talks about one guest shows several of its files (the virtio features
and /proc/meminfo, say); the capture rules (``rfc.accounting``, ``balloon.driver-agrees``
...) hold between them. Each grouped sample is checked on its own by its directive, which
leaves its container unfilled and marks it with a :class:`Member`. Once the whole
document is read (``doctree-read``, in the process that read it, so parallel reads need
nothing more), :func:`check_groups` builds one :class:`~conformance.capture.Capture` per
group, runs :func:`conformance.check.check_capture` with the capture rules selected, gives
each finding to the sample it locates (a finding about the capture as a whole goes to the
first sample that names it in ``:violates:``, else to the group's first sample), judges
and reports each sample, and fills its container.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from docutils import nodes
from sphinx.application import Sphinx

from conformance import Diagnostic, Layout, Location
from conformance.capture import Capture, CapturedFile
from conformance.check import CheckOptions, check_capture
from conformance.escape import escape
from conformance.records import replace  # conformance's classes and dataclasses alike
from conformance.rules import RULES, Scope

from .checking import Problem, SampleCheck, SampleRequest, add_findings, parser_input
from .outcome import Placement, finish, report

MEMBER = "balloon-member"
"""The container attribute that holds a grouped sample until its group is checked; it is
removed before the doctree is pickled."""

CAPTURE_RULES = frozenset(rule.id for rule in RULES if rule.scope is Scope.CAPTURE)
"""What a group adds: each sample already had its parser, schema and file rules."""


@dataclass(frozen=True)
class Member:
    """A grouped sample, checked on its own, waiting for the rest of its group."""

    request: SampleRequest
    check: SampleCheck
    placement: Placement
    rawsource: str
    path: str
    """Its name in the group's capture, which the capture rules' messages show."""


def check_groups(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: check, report and render every group of the document."""
    groups: dict[str, list[tuple[nodes.Element, Member]]] = {}
    for node in _containers(doctree):
        member = node.attributes.pop(MEMBER, None)
        if isinstance(member, Member):
            groups.setdefault(member.request.group, []).append((node, member))
    for name, entries in groups.items():
        members = [member for _, member in entries]
        kernel, mismatches = _kernel(members)
        found = group_findings(f"{app.env.docname}:{name}", members, kernel)
        for index, ((node, member), extra) in enumerate(zip(entries, found)):
            check = add_findings(member.request, member.check, extra)
            if index in mismatches:  # the writer's mistake: counts as any problem does
                check = replace(check, problems=(*check.problems, mismatches[index]))
            shown = report(check.problems, member.placement, check.result.format, app.config)
            finish(app.env, node, member.request, check, member.rawsource, shown)


def _containers(doctree: nodes.document) -> Iterator[nodes.Element]:
    # findall() since docutils 0.18; traverse() before (Sphinx 3.4.3 pins 0.16)
    walk = getattr(doctree, "findall", None) or doctree.traverse
    for node in walk(nodes.container):
        if MEMBER in node.attributes:
            yield node


def group_findings(
    name: str, members: Sequence[Member], kernel: str = ""
) -> list[list[Diagnostic]]:
    """The capture rules' findings on the group, one list per member (in its lines);
    ``kernel`` is the release the group's guest runs, when a sample says."""
    paths = _unique_paths(members)
    files = tuple(
        CapturedFile(m.check.result.format, path, _data(m.request))
        for m, path in zip(members, paths)
    )
    capture = Capture(name, files)
    options = CheckOptions(select=CAPTURE_RULES, kernel=kernel or None, layout=Layout.LENIENT)
    # a finding's path is escaped (conformance.escape); a prompt may name any file
    owner = {escape(path): index for index, path in enumerate(paths)}
    found: list[list[Diagnostic]] = [[] for _ in members]
    for diagnostic in check_capture(capture, options).diagnostics:
        index = owner.get(diagnostic.location.path)
        if index is None:  # about the capture as a whole: the sample that expects it
            named = (i for i, m in enumerate(members) if diagnostic.id in m.request.violates)
            index = next(named, 0)
            diagnostic = replace(diagnostic, location=Location())
        found[index].append(diagnostic)
    return found


def _unique_paths(members: Sequence[Member]) -> list[str]:
    # two samples on one line number (through an include) must stay apart
    paths: list[str] = []
    for member in members:
        path = member.path
        while path in paths:
            path += "'"
        paths.append(path)
    return paths


def _data(request: SampleRequest) -> bytes:
    source, _ = parser_input(request)
    return source if isinstance(source, bytes) else source.encode("utf-8")


def _kernel(members: Sequence[Member]) -> tuple[str, dict[int, Problem]]:
    """The group's kernel release, and a problem for each member that names another: one
    guest runs one kernel, so a second one is a mistake in the document."""
    given = [(i, m.request.kernel) for i, m in enumerate(members) if m.request.kernel]
    if not given:
        return "", {}
    first = given[0][1]
    return first, {
        index: Problem(
            "group",
            f"group {members[index].request.group!r} is one guest, running kernel {first}, "
            f"but this sample says :kernel: {kernel}",
        )
        for index, kernel in given[1:]
        if kernel != first
    }
