"""Reading captures: the input edge of ``balloon-conform check``.

A capture is the set of files read from one guest at one moment. It comes as

* a directory mirroring the guest's root (``proc/meminfo``, ``sys/kernel/debug/vmmemctl``,
  ``sys/bus/virtio/devices/virtio0/features`` with its ``device`` file, a kernel log);
* a flat directory of files named by format id (``meminfo``, ``hv-balloon.txt`` ...);
* a ``.tar`` / ``.tar.gz`` of either, read in place: nothing is extracted;
* files read from a live guest (:func:`capture_from_files`, fed by :mod:`conformance.live`).

A capture is untrusted input. Links are never followed, only regular files are opened, each
read is bounded, and whatever is skipped is said in a diagnostic (``capture.*``); nothing
here raises for a bad capture, only for a path that is not a capture at all. The walking
lives in :mod:`~conformance.capture_dir` and :mod:`~conformance.capture_tar`, the limits in
:mod:`~conformance.capture_budget`; this module assembles what they read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .capture_budget import (
    LOG_NAMES,
    MANIFEST,
    MAX_CAPTURE_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    Budget,
    Limits,
    format_of,
    safe_text,
    wanted,
)
from .capture_dir import directory_records
from .capture_tar import tar_records
from .diagnostics import Diagnostic, Severity
from .errors import InputError

__all__ = [
    "LOG_NAMES",
    "MANIFEST",
    "MAX_CAPTURE_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "Capture",
    "CapturedFile",
    "Limits",
    "capture_from_files",
    "fleet_members",
    "is_capture",
    "read_capture",
]


@dataclass(frozen=True)
class CapturedFile:
    """One known guest file of a capture."""

    format: str
    path: str
    """Where it is, as diagnostics show it: ``<capture>/<path inside the capture>``."""
    data: bytes
    context: Mapping[str, str] = field(default_factory=dict)
    """Neighbouring files the format needs (the virtio ``device`` id)."""


@dataclass(frozen=True)
class Capture:
    """The known files of one capture, its manifest, and what reading it ran into."""

    name: str
    files: tuple[CapturedFile, ...]
    manifest: Mapping[str, Any] | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def of_format(self, format_id: str) -> list[CapturedFile]:
        """The files of one format, in path order."""
        return [f for f in self.files if f.format == format_id]


def is_capture(path: Path) -> bool:
    """True when ``path`` holds a capture itself (not a fleet of them)."""
    if path.is_file():
        return _is_tar(path)
    if (path / "proc").is_dir() or (path / "sys").is_dir() or (path / MANIFEST).is_file():
        return True
    return any(format_of(entry.name) for entry in _entries(path))


def fleet_members(path: Path) -> list[Path]:
    """The captures of a fleet directory: its subdirectories and tarballs, sorted."""
    return sorted(p for p in _entries(path) if (p.is_dir() and not p.is_symlink()) or _is_tar(p))


def _entries(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except OSError:
        return []


def _is_tar(path: Path) -> bool:
    return path.is_file() and path.name.endswith((".tar", ".tar.gz", ".tgz"))


def read_capture(path: Path, limits: Limits | None = None, name: str | None = None) -> Capture:
    """The capture at ``path`` (a directory or a tarball)."""
    budget = Budget(limits or Limits(), safe_text(name if name is not None else str(path)))
    if _is_tar(path):
        return _assemble(tar_records(path, budget), budget)
    if path.is_dir():
        return _assemble(directory_records(path, budget), budget)
    raise InputError(f"{safe_text(str(path))}: not a capture directory or tarball")


def capture_from_files(
    files: Mapping[str, bytes], limits: Limits | None = None, name: str = "live"
) -> Capture:
    """The capture made of ``files`` (relative path to bytes, ``capture.json`` included),
    held to the same rules and limits as one read from a directory."""
    budget = Budget(limits or Limits(), name)

    def records() -> Iterable[tuple[str, bytes]]:
        for relative in sorted(files):
            data = files[relative]
            if wanted(relative) and budget.admit(relative, len(data)):
                yield relative, data

    return _assemble(records(), budget)


def _assemble(records: Iterable[tuple[str, bytes]], budget: Budget) -> Capture:
    raw = dict(records)
    manifest = _manifest(raw, budget)
    files = []
    for relative in sorted(raw):
        format_id = format_of(relative)
        if not format_id:
            continue
        data = raw[relative]
        if format_id == "show-mem" and not has_show_mem(data):
            continue  # a kernel log without a dump says nothing about balloons
        path = f"{budget.name}/{relative}"
        files.append(CapturedFile(format_id, path, data, _context(raw, relative)))
    return Capture(budget.name, tuple(files), manifest, tuple(budget.diagnostics))


def _context(raw: Mapping[str, bytes], relative: str) -> dict[str, str]:
    parent = str(PurePosixPath(relative).parent)
    device = raw.get(f"{parent}/device")
    if device is not None:
        return {"device": device[:64].decode("ascii", errors="replace")}
    if "/drivers/virtio_balloon/" in f"/{relative}":
        return {"device": "0x0005\n"}
    return {}


def _manifest(raw: Mapping[str, bytes], budget: Budget) -> Mapping[str, Any] | None:
    data = raw.get(MANIFEST)
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = f"not valid JSON: {safe_text(str(exc), 200)}"
        budget.problem("capture.manifest", MANIFEST, message, Severity.ERROR)
        return None
    if not isinstance(value, dict):
        budget.problem("capture.manifest", MANIFEST, "not a JSON object", Severity.ERROR)
        return None
    return value


def has_show_mem(data: bytes) -> bool:
    """Whether a kernel log holds a show_mem() dump."""
    return b"Mem-Info:" in data or b"Balloon InflatedTotal:" in data
