"""Captures read while someone else changes them: nothing outside the capture is ever read.

A mutator thread keeps swapping a capture's subdirectory, a file of it, a fleet member
directory and a fleet tarball for links to an outside directory whose files hold a
sentinel, and keeps taking another member away and putting it back, while the reader
reads the capture and the fleet in a loop. Whatever the interleaving, the sentinel never
appears in what was read, and no read raises.
"""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.capture import Capture, fleet_members, read_capture

from .test_hostile import MEMINFO, VMSTAT

ROUNDS = 300
SENTINEL = b"Sentinel:     4242424242 kB\n"
SEEN_SWAPPED = ("capture.symlink", "capture.changed", "capture.unreadable")


def _tarball(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _layout(top: Path) -> dict[str, Path]:
    """The capture, the fleet, and the outside directory they are swapped with."""
    outside = top / "outside"
    (outside / "proc").mkdir(parents=True)
    for target in (outside / "meminfo", outside / "vmstat", outside / "proc/meminfo"):
        target.write_bytes(MEMINFO + SENTINEL)
    _tarball(outside / "outside.tar", {"proc/meminfo": MEMINFO + SENTINEL})
    cap = top / "cap"
    (cap / "proc").mkdir(parents=True)
    (cap / "proc/meminfo").write_bytes(MEMINFO)
    (cap / "proc/vmstat").write_bytes(VMSTAT)
    fleet = top / "fleet"
    for member in ("guest", "steady", "vanishing"):
        (fleet / member / "proc").mkdir(parents=True)
        (fleet / member / "proc/meminfo").write_bytes(MEMINFO)
    _tarball(fleet / "g.tar", {"proc/meminfo": MEMINFO})
    return {"outside": outside, "cap": cap, "fleet": fleet}


def _swaps(where: dict[str, Path]) -> Iterator[None]:
    """One step of mutation after another, forever: each swap is undone at the next step."""
    outside, cap, fleet = where["outside"], where["cap"], where["fleet"]
    cases = (
        (cap / "proc", outside),  # a directory of the capture
        (cap / "proc/vmstat", outside / "vmstat"),  # a file of the capture
        (fleet / "guest", outside),  # a fleet member directory
        (fleet / "g.tar", outside / "outside.tar"),  # a fleet tarball
    )
    while True:
        for real, target in cases:
            aside = real.with_name(real.name + ".aside")
            real.rename(aside)
            real.symlink_to(target)
            yield
            real.unlink()
            aside.rename(real)
        vanishing = fleet / "vanishing"
        vanishing.rename(fleet.parent / "vanished")  # gone from the fleet mid-run
        yield
        (fleet.parent / "vanished").rename(vanishing)


def _mutate(where: dict[str, Path], stop: threading.Event, steps: list[int]) -> None:
    for _ in _swaps(where):
        steps[0] += 1
        if stop.is_set():
            return


def _read_all(where: dict[str, Path], raised: list[str]) -> list[Capture]:
    captures = []
    for path in [where["cap"], *fleet_members(where["fleet"])]:
        try:
            captures.append(read_capture(path))
        except Exception as exc:  # counted: a read must never raise
            raised.append(f"{path.name}: {exc!r}")
    return captures


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_links_swapped_in_while_reading_are_never_followed(tmp_path: Path) -> None:
    where = _layout(tmp_path)
    stop = threading.Event()
    steps = [0]
    mutator = threading.Thread(target=_mutate, args=(where, stop, steps), daemon=True)
    mutator.start()
    swapped_seen = 0
    leaks = []
    raised: list[str] = []
    try:
        round = 0
        # the rounds go on until the mutator, a thread of its own, has made its share of
        # swaps: on a loaded machine the reader can starve it for many rounds (a count,
        # never a clock; the cap only ends a mutator that is stuck)
        while round < ROUNDS or (steps[0] <= ROUNDS // 10 and round < 50 * ROUNDS):
            round += 1
            time.sleep(0)  # give the mutator the interpreter between rounds
            for capture in _read_all(where, raised):
                leaks += [(round, f.path) for f in capture.files if SENTINEL in f.data]
                leaks += [(round, d.id) for d in capture.diagnostics if "4242424242" in d.message]
                swapped_seen += any(d.id in SEEN_SWAPPED for d in capture.diagnostics)
    finally:
        stop.set()
        mutator.join(timeout=30)
    assert not mutator.is_alive()
    assert leaks == [], f"read outside the capture in {len(leaks)} reads: {leaks[:5]}"
    assert raised == [], f"{len(raised)} reads raised: {raised[:3]}"
    # the race was run: the mutator made progress and the reader met its work
    assert steps[0] > ROUNDS // 10
    assert swapped_seen > 0


@pytest.mark.parametrize("gone", ["proc/meminfo", "proc"])
def test_a_file_or_folder_removed_after_listing_is_said_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gone: str
) -> None:
    """Listed, then removed before it was opened: a capture.changed finding names it."""
    import shutil

    import conformance.capture_dir as capture_dir

    capture = tmp_path / "cap"
    (capture / "proc").mkdir(parents=True)
    (capture / "proc" / "meminfo").write_bytes(MEMINFO)
    (capture / "proc" / "vmstat").write_bytes(VMSTAT)
    listed = capture_dir._entries

    def list_then_remove(fd: int, prefix: str, budget: object) -> list[object]:
        entries = listed(fd, prefix, budget)  # type: ignore[arg-type]
        target = capture / gone
        parent = gone.rsplit("/", 1)[0] + "/" if "/" in gone else ""
        if target.exists() and prefix == parent:
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        return entries  # type: ignore[return-value]

    monkeypatch.setattr(capture_dir, "_entries", list_then_remove)
    read = read_capture(capture)
    changed = [d for d in read.diagnostics if d.id == "capture.changed"]
    assert [d.location.path for d in changed] == [f"{capture}/{gone}"], read.diagnostics
    assert "removed while read" in changed[0].message
