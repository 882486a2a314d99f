"""Numbers from a capture or a document are parsed within bounds, so one bad value stays
a finding on its own capture (or an error at its directive) and never stops the run.

Python refuses to convert a string of more than 4300 digits to an int (and takes
quadratic time below that); a kernel release of 5,000 digits in ``capture.json`` once
stopped a whole fleet's report with an internal error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.check import kernel_version
from conformance.cli import main

from .test_pipeline import HV

HUGE = "6." + "9" * 5000


@pytest.mark.parametrize(
    ("release", "version"),
    [
        ("6.15.0-100-generic", (6, 15, 0)),
        ("6.18.44-fc-v669", (6, 18, 44)),
        ("2.6.32.27", (2, 6, 32)),
        ("6.15", (6, 15)),
        ("999999999.1", (999999999, 1)),
        (HUGE, None),
        ("6.1234567890", None),  # ten digits: no kernel's minor number
        ("1234567890.1", None),
        ("9" * 5000, None),
        ("\u0666.\u0661\u0665", None),  # digits, but not the ones uname prints
        ("linux", None),
        ("", None),
        (None, None),
    ],
)
def test_kernel_version_reads_only_bounded_releases(
    release: str | None, version: tuple[int, ...] | None
) -> None:
    assert kernel_version(release) == version


def _fleet(root: Path) -> Path:
    for name in ("a-huge-release", "b-fine"):
        (root / name).mkdir(parents=True)
        (root / name / "hv-balloon").write_text(HV)
    (root / "a-huge-release" / "capture.json").write_text(json.dumps({"kernel_release": HUGE}))
    (root / "b-fine" / "capture.json").write_text(json.dumps({"kernel_release": "6.15.0"}))
    return root


def test_a_huge_kernel_release_does_not_cost_the_fleet_its_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = _fleet(tmp_path / "fleet")
    status = main(["check", "--output-format", "json", str(fleet)])
    out, err = capsys.readouterr()
    assert status in (0, 1), err  # a report, not "internal error" (2)
    assert "internal error" not in err
    names = [capture["name"] for capture in json.loads(out)["captures"]]
    assert names == [str(fleet / "a-huge-release"), str(fleet / "b-fine")]


@pytest.mark.parametrize("release", [HUGE, "linux", ""])
def test_a_kernel_option_that_is_no_release_is_a_usage_error(
    release: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = _fleet(tmp_path / "fleet")
    assert main(["check", "--kernel", release, str(fleet / "b-fine")]) == 2
    err = capsys.readouterr().err
    assert "is not a kernel release" in err and len(err) < 1000


def test_a_huge_number_in_the_manifest_is_a_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = _fleet(tmp_path / "fleet")
    (fleet / "b-fine" / "capture.json").write_text('{"page_size": ' + "9" * 5000 + "}")
    status = main(["check", "--output-format", "json", str(fleet)])
    out, err = capsys.readouterr()
    assert status == 1 and "internal error" not in err
    b_fine = json.loads(out)["captures"][1]
    assert [d["id"] for d in b_fine["diagnostics"]] == ["capture.manifest"]


def test_a_capture_that_stops_its_checks_is_a_finding_the_rest_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance import fleet as fleet_module

    fleet = tmp_path / "fleet"
    for name in ("a", "b", "c"):
        (fleet / name).mkdir(parents=True)
        (fleet / name / "hv-balloon").write_text(HV)
    real = fleet_module.check_capture

    def buggy(capture, options):  # type: ignore[no-untyped-def]
        if capture.name.endswith("/b"):
            raise RecursionError("a bug that only this capture shows")
        return real(capture, options)

    monkeypatch.setattr(fleet_module, "check_capture", buggy)
    status = main(["check", "--output-format", "json", str(fleet)])
    out, err = capsys.readouterr()
    assert status == 1 and "internal error" not in err
    captures = json.loads(out)["captures"]
    assert [c["name"] for c in captures] == [str(fleet / n) for n in "abc"]
    assert [d["id"] for d in captures[1]["diagnostics"]] == ["capture.unchecked"]
    assert "RecursionError" in captures[1]["diagnostics"][0]["message"]
    with pytest.raises(RecursionError):  # --debug shows the traceback instead
        main(["--debug", "check", str(fleet)])
