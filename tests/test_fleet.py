"""Fleets: worker processes give the same report; the progress line shows only on a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance import fleet
from conformance.check import CheckOptions
from conformance.cli import main

from .test_capture import make_root
from .test_pipeline import HV


def make_fleet(root: Path, count: int) -> Path:
    for index in range(count):
        guest = root / f"guest-{index:03d}"
        guest.mkdir(parents=True)
        added = 512 * index
        (guest / "hv-balloon").write_text(
            HV.replace("pages_onlined         : 0", f"pages_onlined         : {added}")
        )
    make_root(root / "guest-two-drivers")
    return root


def test_jobs_do_not_change_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    make_fleet(tmp_path / "fleet", 12)
    outputs = []
    for jobs in ("1", "2"):
        status = main(["check", "-j", jobs, "--output-format", "json", str(tmp_path / "fleet")])
        outputs.append((status, capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 1  # guest-two-drivers has two balloon drivers
    assert outputs[0][1].count('"hv-balloon.onlined-within-added"') >= 11


def test_workers_write_the_parts_of_any_name_as_the_parent_would(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # names that are no UTF-8, and are not ASCII, go through the workers' parts unchanged
    root = make_fleet(tmp_path / "fleet", 3)
    for name in (b"guest-\xff\xfe", "guest-é-🎈".encode(), b"guest-\x1b[31m"):
        shutil.copytree(root / "guest-000", root / os.fsdecode(name))
    outputs = []
    for jobs in ("1", "2"):
        status = main(["check", "-j", jobs, "--output-format", "json", str(root)])
        outputs.append((status, capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert len(json.loads(outputs[0][1])["captures"]) == 7


def test_several_reports_from_workers_are_those_of_a_serial_run(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", 5)
    written = {}
    for jobs in ("1", "2"):
        out = tmp_path / jobs
        out.mkdir()
        reports = [f"--report={fmt}:{out / fmt}" for fmt in ("json", "sarif", "junit")]
        reports.append(f"--report=json:{out / 'json-again'}")  # the kept parts, twice
        assert main(["check", "-j", jobs, *reports, "--output", str(out / "text"), str(root)]) == 1
        written[jobs] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert written["1"] == written["2"]
    assert sorted(written["1"]) == ["json", "json-again", "junit", "sarif", "text"]
    assert written["2"]["json"] == written["2"]["json-again"]


def test_a_spool_gives_the_parts_it_kept_only_when_it_kept_one_for_every_result(
    tmp_path: Path,
) -> None:
    make_fleet(tmp_path, 3)
    paths = sorted(tmp_path.iterdir())
    from conformance.report import ReportOptions
    from conformance.report.json_report import capture_part

    options = ReportOptions()
    spool = fleet.Spool(options)
    spool.extend(fleet.check_batch(paths[:2], CheckOptions(), parts=("json",)))
    parts = spool.prewritten("json", options)
    assert parts is not None
    assert list(parts) == [capture_part(result) for result in spool]
    assert spool.prewritten("sarif", options) is None  # parts of another report
    spool.extend(fleet.check_batch(paths[2:], CheckOptions()))  # a batch without its parts
    assert len(spool) == 4
    assert spool.prewritten("json", options) is None
    spool.close()


@pytest.mark.parametrize("count", [1, 2, 7, 100, 1000, 10_000])
@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_chunks_keep_the_order_and_shrink_towards_the_end(count: int, jobs: int) -> None:
    chunks = fleet.chunked(range(count), jobs)
    assert [n for chunk in chunks for n in chunk] == list(range(count))
    sizes = [len(chunk) for chunk in chunks]
    assert min(sizes) >= 1 and max(sizes) <= fleet.MAX_CHUNK
    assert sizes == sorted(sizes, reverse=True)  # large first, small last
    assert sizes[-1] == 1  # the workers finish within about one capture of each other
    assert len(chunks) <= count // fleet.MAX_CHUNK + 4 * jobs * (count.bit_length() + 1)


def test_check_many_keeps_the_order(tmp_path: Path) -> None:
    make_fleet(tmp_path, 5)
    paths = sorted(tmp_path.iterdir())
    names = [r.name for r in fleet.check_many(paths, CheckOptions(), jobs=2)]
    assert names == [str(p) for p in paths]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_for_long_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet, "PROGRESS_AFTER_SECONDS", 0.0)
    stream = FakeTerminal()
    progress = fleet.Progress(3, stream)
    assert list(progress.track(iter(["a", "b", "c"]))) == ["a", "b", "c"]  # type: ignore[arg-type]
    assert "checked 1/3 captures" in stream.getvalue()
    assert stream.getvalue().endswith("\r\033[K")


def test_no_progress_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet, "PROGRESS_AFTER_SECONDS", 0.0)
    stream = io.StringIO()
    list(fleet.Progress(3, stream).track(iter(["a", "b", "c"])))  # type: ignore[arg-type]
    assert stream.getvalue() == ""


def test_short_runs_show_nothing_even_on_a_terminal() -> None:
    stream = FakeTerminal()
    list(fleet.Progress(3, stream).track(iter(["a", "b", "c"])))  # type: ignore[arg-type]
    assert stream.getvalue() == ""


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "-j", "0", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "not a positive whole number" in capsys.readouterr().err


def test_spool_gives_back_what_was_appended_in_order_and_twice(tmp_path: Path) -> None:
    make_fleet(tmp_path, 4)
    results = list(fleet.check_many(sorted(tmp_path.iterdir()), CheckOptions()))
    spool = fleet.Spool()
    for result in results:
        spool.append(result)
    assert len(spool) == len(results)
    assert list(spool) == results
    assert [(a.name, b.name) for a in spool for b in spool][:2] == [
        (results[0].name, results[0].name),
        (results[0].name, results[1].name),
    ]
    assert results[2] in spool
    # a pass stopped half way leaves the file's position inside it: appending still adds
    # at the end, and nothing before is overwritten
    next(iter(spool))
    spool.append(results[0])
    assert list(spool) == [*results, results[0]]
    spool.close()


def test_results_pickle_as_their_plain_values() -> None:
    """A result crosses the spool and the worker pipes as plain values: restored equal,
    its escaped text not escaped again, the skips most captures share held once."""
    import pickle

    from conformance.diagnostics import Diagnostic, Location, Severity
    from conformance.report.model import CaptureResult, Skip

    finding = Diagnostic(
        "x.y", Severity.WARNING, "bad \x1b[31m \u202e", Location("a/\x00b", 3, 4), "h", "/p"
    )
    assert "\\" in finding.message  # escaped once when it was made
    skips = (Skip("a.b", "no vmstat file in the capture"), Skip("c.d", "why"))
    results = [
        CaptureResult(name, ("f\x07",), (finding,), ("x.y",), skips, series, guest)
        for name, series, guest in (("one", False, False), ("two", True, True))
    ]
    data = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in results]
    restored = [pickle.loads(d) for d in data]
    assert restored == results
    assert restored[0].diagnostics[0].message == finding.message
    assert restored[0].skipped is restored[1].skipped  # one value for the fleet
    # plain values: no class of the model or enum is named in the bytes
    assert not any(name in data[0] for name in (b"Skip", b"Severity", b"Location"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_check_goes_through_its_spool_once_for_a_report(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jobs: str,
) -> None:
    """The totals, the exit status and the rule catalogue come from what the spool
    counted as results came; writing the report is the one pass over it."""
    make_fleet(tmp_path / "fleet", 4)
    passes: list[int] = []
    iterate = fleet.Spool.__iter__
    monkeypatch.setattr(fleet.Spool, "__iter__", lambda self: passes.append(1) or iterate(self))
    assert main(["check", "--output-format", "json", "-j", jobs, str(tmp_path / "fleet")]) == 1
    # with workers, each capture's part of the JSON report came written: no pass at all
    assert passes == ([1] if jobs == "1" else [])
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["captures"] == 5


@pytest.mark.parametrize("format", ["json", "sarif", "junit", "junit-gitlab"])
def test_workers_write_the_parts_of_these_reports(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    format: str,
) -> None:
    # the parent copies the parts: it never reads a result back to write one
    make_fleet(tmp_path / "fleet", 4)
    argv = ["check", "--output-format", format, str(tmp_path / "fleet")]
    assert main(argv) == 1
    serial = capsys.readouterr().out
    passes: list[int] = []
    iterate = fleet.Spool.__iter__
    monkeypatch.setattr(fleet.Spool, "__iter__", lambda self: passes.append(1) or iterate(self))
    assert main([argv[0], "-j", "2", *argv[1:]]) == 1
    assert passes == []
    assert capsys.readouterr().out == serial


@pytest.mark.parametrize("format", ["junit", "junit-gitlab", "sarif", "json"])
def test_with_workers_and_a_timestamp_every_suite_has_the_run_s_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, format: str
) -> None:
    # the time is taken at the end: a part that reads it is written then, not ahead
    make_fleet(tmp_path / "fleet", 4)
    argv = ["check", "-j", "2", "--timestamp", "--output-format", format]
    assert main([*argv, str(tmp_path / "fleet")]) == 1
    out = capsys.readouterr().out
    stamps = re.findall(r'(?:timestamp="|"(?:timestamp|endTimeUtc)": ")([^"]+)"', out)
    assert stamps and len(set(stamps)) == 1
    if format.startswith("junit"):
        assert len(stamps) == out.count("<testsuite ") == 5


@pytest.mark.parametrize("format", ["sarif", "junit"])
def test_parts_written_with_other_options_are_not_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, format: str
) -> None:
    from conformance.report import ReportOptions, write_report
    from conformance.report.model import Report

    root = make_fleet(tmp_path / "fleet", 3)
    spool = fleet.spool_results(
        sorted(root.iterdir()),
        CheckOptions(),
        2,
        parts=[format],
        report=ReportOptions(base_dir=str(tmp_path)),
    )
    here = ReportOptions(base_dir=str(tmp_path))
    elsewhere = ReportOptions(base_dir=str(root))  # the paths are relative to another place
    assert spool.prewritten(format, here) is not None
    assert spool.prewritten(format, elsewhere) is None
    for options in (here, elsewhere):
        written = []
        for captures in (spool, tuple(spool)):  # from the parts, and from the results
            out = io.StringIO()
            write_report(Report("v", captures), format, out, options)
            written.append(out.getvalue())
        assert written[0] == written[1]
    spool.close()


def test_a_spool_counts_what_a_pass_over_it_counts(tmp_path: Path) -> None:
    from conformance.report.model import Report

    make_fleet(tmp_path, 4)
    spool = fleet.Spool()
    for result in fleet.check_many(sorted(tmp_path.iterdir()), CheckOptions()):
        spool.append(result)
    assert Report("v", spool).totals() == Report("v", tuple(spool)).totals()
    counted = fleet.Summary(tuple(spool))
    assert (spool.summary.evaluated, spool.summary.reported) == (
        counted.evaluated,
        counted.reported,
    )
    assert counted.reported  # the two-driver guest's findings
    merged = fleet.Summary(tuple(spool)[:2])
    merged.merge(fleet.Summary(tuple(spool)[2:]))  # as the workers' counts come
    assert (merged.tally.totals(), merged.evaluated, merged.reported) == (
        counted.tally.totals(),
        counted.evaluated,
        counted.reported,
    )
    spool.close()


def test_forked_workers_find_the_parsers_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where workers are forks, the parent imports the parsers before it starts them,
    once, instead of each worker importing them again."""
    from conformance import workers

    steps: list[str] = []
    start, every = workers.Workers.__init__, fleet.all_formats

    def started(self: Any, *args: Any, **kwargs: Any) -> None:
        steps.append("workers")
        start(self, *args, **kwargs)

    monkeypatch.setattr(workers.Workers, "__init__", started)
    monkeypatch.setattr(fleet, "all_formats", lambda: steps.append("parsers") or every())
    make_fleet(tmp_path, 3)
    for fork, expected in ((True, ["parsers", "workers"]), (False, ["workers"])):
        steps.clear()
        monkeypatch.setattr(workers, "forks", lambda fork=fork: fork)
        results = list(fleet.check_many(sorted(tmp_path.iterdir()), CheckOptions(), jobs=2))
        assert len(results) == 4
        assert steps == expected
