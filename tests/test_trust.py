"""A green run means what it says (issue 8), end to end through the console script.

Each test is an ordinary mistake or situation of driver CI: an empty capture, a stray
folder in a fleet, a fleet of series, a typo in --select, a bad --kernel, a 12-snapshot
series given by a shell glob, a reboot inside a series, zero captures, an LTS guest
without a Balloon line. Skipped checks are validated in all five report formats.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from conformance import schemas
from conformance.cli import main
from conformance.live import snapshot
from conformance.rules import RULES
from conformance.rules.citations import SECTIONS, cited_sections

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TOOL = Path(sys.executable).with_name("balloon-conform")
MEMINFO = (DATA / "meminfo/template-2.6-6.18-virtio-guest-balloon-1GiB.txt").read_text()
VMSTAT = (DATA / "vmstat/template-2.6-6.18-virtio-guest-balloon-1GiB.txt").read_text()
NO_DEFLATE = (
    DATA / "virtio-features/corpus-vzkernel-doc-balloon-without-deflate-on-oom.txt"
).read_text()
DEFLATE = (DATA / "virtio-features/corpus-vzkernel-doc-balloon-with-deflate-on-oom.txt").read_text()
LTS_MEMINFO = MEMINFO.replace("Balloon:         1048576 kB\n", "")
LTS_VMSTAT = VMSTAT.replace("nr_balloon_pages 262144\n", "")
FEATURES = "sys/bus/virtio/devices/virtio0"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TOOL), *argv], capture_output=True, text=True, cwd=ROOT)


def write_capture(where: Path, files: dict[str, str], manifest: dict[str, Any] | None) -> Path:
    for relative, text in files.items():
        (where / relative).parent.mkdir(parents=True, exist_ok=True)
        (where / relative).write_text(text)
    where.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        (where / "capture.json").write_text(json.dumps(manifest))
    return where


def guest(where: Path, release: str | None = "6.18.0", **manifest: Any) -> Path:
    """A clean 6.18 virtio guest (meminfo, vmstat, features)."""
    files = {"proc/meminfo": MEMINFO, "proc/vmstat": VMSTAT, f"{FEATURES}/features": NO_DEFLATE}
    files[f"{FEATURES}/device"] = "0x0005\n"
    info = {"kernel_release": release, **manifest} if release else dict(manifest)
    return write_capture(where, files, info)


def vmstat_events(inflated: int, deflated: int = 0, text: str = VMSTAT) -> str:
    return text.replace("balloon_inflate 300000", f"balloon_inflate {inflated}").replace(
        "balloon_deflate 37856", f"balloon_deflate {deflated}"
    )


# --- never green on nothing -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif", "github"])
def test_an_empty_capture_is_an_error_in_every_format(tmp_path: Path, fmt: str) -> None:
    empty = write_capture(tmp_path / "cap", {}, {"kernel_release": "6.1.0"})
    done = run("check", "--output-format", fmt, str(empty))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "capture.empty" in done.stdout
    if fmt == "junit":
        failure = ET.fromstring(done.stdout).find(".//testcase[@name='capture.empty']/failure")
        assert failure is not None
    if fmt == "text":
        assert done.stdout.splitlines()[-1].startswith("1 capture, 0 files: 1 error")


def test_a_selection_does_not_hide_that_nothing_was_checked(tmp_path: Path) -> None:
    empty = write_capture(tmp_path / "cap", {}, {"kernel_release": "6.1.0"})
    assert run("check", "--select", "virtio.", str(empty)).returncode == 1


def test_a_stray_folder_in_a_fleet_is_an_empty_capture(tmp_path: Path) -> None:
    guest(tmp_path / "fleet/guestA")
    (tmp_path / "fleet/logs").mkdir()
    (tmp_path / "fleet/logs/build.txt").write_text("nothing about balloons\n")
    done = run("check", str(tmp_path / "fleet"))
    assert done.returncode == 1
    assert f"{tmp_path}/fleet/logs: error: no balloon-related file" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("2 captures, 3 files: 1 error")


def series_fleet(root: Path) -> Path:
    """results/guestA/{t0,t1}, results/guestB/{t0,t1}: as 'capture --series' writes them."""
    for name in ("guestA", "guestB"):
        for index in range(2):
            guest(root / name / f"t{index}", series_index=index)
    return root


def test_a_fleet_of_series_without_series_is_a_usage_error_saying_how(tmp_path: Path) -> None:
    results = series_fleet(tmp_path / "results")
    done = run("check", str(results))
    assert done.returncode == 2
    assert "guestA, guestB" in done.stderr
    assert f"check --series {results}" in done.stderr
    one = run("check", str(results / "guestA"))
    assert one.returncode == 2 and f"--series {results / 'guestA'}" in one.stderr


def test_a_fleet_of_series_is_checked_one_series_per_guest(tmp_path: Path) -> None:
    results = series_fleet(tmp_path / "results")
    done = run("check", "--series", "--output-format", "json", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    names = [c["name"] for c in report["captures"]]
    assert [n for n in names if n.startswith("series:")] == [
        f"series:{results}/guestA/t0 -> {results}/guestA/t1",
        f"series:{results}/guestB/t0 -> {results}/guestB/t1",
    ]
    assert (report["summary"]["captures"], report["summary"]["files"]) == (4, 12)
    one = run("check", "--series", str(results / "guestA"))
    assert one.returncode == 0
    assert one.stdout.splitlines()[-1].startswith("2 captures, 6 files: 0 errors")


@pytest.mark.parametrize(
    ("option", "value", "suggested"),
    [
        ("--select", "virtio.no-acess-platform", "virtio.no-access-platform"),
        ("--ignore", "balloon.vmstat-agree", "balloon.vmstat-agrees"),
        ("--select", "layuot", "layout"),
    ],
)
def test_a_typo_in_select_or_ignore_is_a_usage_error(
    tmp_path: Path, option: str, value: str, suggested: str
) -> None:
    cap = guest(tmp_path / "cap")
    done = run("check", option, value, str(cap))
    assert done.returncode == 2
    assert f"did you mean {suggested}" in done.stderr
    assert run("check", option, "virtio.", str(cap)).returncode == 0
    assert run("check", option, "capture.empty", str(cap)).returncode == 0


@pytest.mark.parametrize("release", ["six", ""])
def test_a_kernel_that_is_no_release_is_a_usage_error(tmp_path: Path, release: str) -> None:
    cap = guest(tmp_path / "cap", release=None)
    done = run("check", "--kernel", release, str(cap))
    assert done.returncode == 2 and "is not a kernel release" in done.stderr
    assert run("check", "--kernel", "6.15.0-100-generic", str(cap)).returncode == 0


def test_zero_captures_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    # a directory holding only an empty folder is no green run either
    (tmp_path / "hollow/nothing").mkdir(parents=True)
    assert run("check", str(tmp_path / "hollow")).returncode == 1
    assert run("check", str(tmp_path / "empty")).returncode == 2
    # a shell glob that matched nothing passes the pattern itself
    assert run("check", str(tmp_path / "out" / "t*")).returncode == 2
    assert run("check", "--series", str(tmp_path / "empty")).returncode == 2


# --- series in the order they were taken --------------------------------------------------


def twelve(out: Path, with_time: bool, boot: int | None = None) -> list[str]:
    """t0 ... t11 of one guest, balloon_inflate growing with the index; with ``boot``,
    the guest reboots before that snapshot (counters restart, a new boot id)."""
    for index in range(12):
        rebooted = boot is not None and index >= boot
        inflated = 1000 * (index - boot if rebooted else index)  # type: ignore[operator]
        manifest: dict[str, Any] = {"kernel_release": "6.18.0", "series_index": index}
        manifest["boot_id"] = f"00000000-0000-4000-8000-00000000000{int(rebooted)}"
        if with_time:
            # names are given out of order against time: t11 was taken first ... t0 last
            manifest["time"] = f"2026-12-01T10:{59 - index:02d}:00+00:00"
        files = {"proc/vmstat": vmstat_events(inflated)}
        write_capture(out / f"t{index}", files, manifest)
    return sorted(str(p) for p in out.glob("t*"))  # the shell's order: t0 t1 t10 t11 t2 ...


def test_a_twelve_snapshot_glob_is_checked_in_natural_order(tmp_path: Path) -> None:
    paths = twelve(tmp_path / "out", with_time=False)
    assert Path(paths[2]).name == "t10"
    done = run("check", "--series", "--output-format", "json", *paths)
    assert done.returncode == 0, done.stdout
    series = json.loads(done.stdout)["captures"][-1]
    assert series["name"].split(" -> ")[:3] == [f"series:{tmp_path}/out/t0", *paths[1:2], paths[4]]
    assert "series.counters-monotonic" in series["rules"]
    # the directory 'capture --series' wrote is accepted as it is
    assert run("check", "--series", str(tmp_path / "out")).returncode == 0


def test_snapshots_are_ordered_by_the_time_in_capture_json(tmp_path: Path) -> None:
    # by time t11 comes first and t0 last, so balloon_inflate goes down in time order
    paths = twelve(tmp_path / "out", with_time=True)
    done = run("check", "--series", "--output-format", "json", *paths)
    assert done.returncode == 1
    series = json.loads(done.stdout)["captures"][-1]
    order = [name.rsplit("/", 1)[1] for name in series["name"].split(" -> ")]
    assert order == [f"t{index}" for index in range(11, -1, -1)]
    assert {d["id"] for d in series["diagnostics"]} == {"series.counters-monotonic"}


def test_a_reboot_starts_a_new_series_instead_of_counter_errors(tmp_path: Path) -> None:
    paths = twelve(tmp_path / "out", with_time=False, boot=7)
    done = run("check", "--series", "--output-format", "json", *paths)
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    series = [c for c in report["captures"] if c["name"].startswith("series:")]
    assert [len(c["name"].split(" -> ")) for c in series] == [7, 5]
    notes = [d for c in report["captures"] for d in c["diagnostics"] if d["id"] == "series.reboot"]
    assert len(notes) == 1 and notes[0]["file"].endswith("/out/t7")
    assert report["summary"]["captures"] == 12


def test_boot_id_and_uptime_are_recorded_in_capture_json(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc/sys/kernel/random").mkdir(parents=True)
    (root / "proc/meminfo").write_text(MEMINFO)
    (root / "proc/sys/kernel/random/boot_id").write_text("8c1f7a3e-5a0b-4a57-9d8e-2f0c4b6d1e93\n")
    (root / "proc/uptime").write_text("5321.07 10380.22\n")
    manifest = snapshot(root).manifest
    assert manifest["boot_id"] == "8c1f7a3e-5a0b-4a57-9d8e-2f0c4b6d1e93"
    assert manifest["uptime"] == 5321.07
    assert list(schemas.iter_errors("capture.schema.json", manifest)) == []
    (root / "proc/uptime").write_text("garbage\n")
    assert "uptime" not in snapshot(root).manifest


# --- LTS kernels: the vmstat events stand in for the Balloon line --------------------------


@pytest.mark.parametrize("kernel", ["6.1.0", "6.15.0"])
@pytest.mark.parametrize(
    ("features", "memtotal_moves", "status"),
    [(NO_DEFLATE, False, 1), (NO_DEFLATE, True, 0), (DEFLATE, False, 0), (DEFLATE, True, 1)],
)
def test_memtotal_accounting_on_lts_and_current_kernels(
    tmp_path: Path, kernel: str, features: str, memtotal_moves: bool, status: int
) -> None:
    """1 GiB inflated between t0 and t1. A 6.1 guest shows it only in the vmstat events,
    a 6.15 guest also in Balloon and nr_balloon_pages; MemTotal must drop by as much
    without DEFLATE_ON_OOM and stay with it."""
    lts = kernel == "6.1.0"

    def snap(index: int, meminfo: str, pages: int) -> None:
        vmstat = VMSTAT.replace("nr_balloon_pages 262144", f"nr_balloon_pages {pages}")
        balloon = f"Balloon:         {pages * 4:7d} kB\n"
        files = {
            "proc/meminfo": meminfo.replace(
                "Balloon:         1048576 kB\n", "" if lts else balloon
            ),
            "proc/vmstat": vmstat_events(pages, 0, LTS_VMSTAT if lts else vmstat),
            f"{FEATURES}/features": features,
            f"{FEATURES}/device": "0x0005\n",
        }
        write_capture(tmp_path / "out" / f"t{index}", files, {"kernel_release": kernel})

    before = MEMINFO
    if memtotal_moves:  # 1 GiB more before the balloon took it
        before = before.replace("MemTotal:       23635508 kB", "MemTotal:       24684084 kB")
    snap(0, before, 0)
    snap(1, MEMINFO, 262144)
    done = run("check", "--strict", "--series", str(tmp_path / "out"))
    assert done.returncode == status, done.stdout
    assert ("[virtio.memtotal-accounting]" in done.stdout) == bool(status)
    measure = "balloon_inflate - balloon_deflate" if lts else "(Balloon)"
    assert (measure in done.stdout) == bool(status)


# --- skipped checks, in every format ------------------------------------------------------


@pytest.fixture
def unknown_release(tmp_path: Path) -> Path:
    """meminfo without a Balloon line and no kernel release: meminfo.balloon-line cannot run."""
    return write_capture(tmp_path / "cap", {"proc/meminfo": LTS_MEMINFO}, None)


REASON = "the kernel release is unknown (no kernel_release in capture.json; give --kernel)"


def test_skipped_in_text(unknown_release: Path) -> None:
    done = run("check", str(unknown_release))
    assert done.returncode == 0
    assert done.stdout.endswith("checks skipped (--verbose lists them)\n")
    verbose = run("check", "--verbose", str(unknown_release)).stdout
    assert f"{unknown_release}: skipped: {REASON} [meminfo.balloon-line]" in verbose


def test_skipped_in_json(unknown_release: Path) -> None:
    report = json.loads(run("check", "--output-format", "json", str(unknown_release)).stdout)
    assert list(schemas.iter_errors("report.schema.json", report)) == []
    (capture,) = report["captures"]
    assert {"rule": "meminfo.balloon-line", "reason": REASON} in capture["skipped"]
    assert "meminfo.balloon-line" not in capture["rules"]
    assert report["summary"]["skipped"] == len(capture["skipped"])


def test_skipped_in_junit(unknown_release: Path) -> None:
    root = ET.fromstring(run("check", "--output-format", "junit", str(unknown_release)).stdout)
    case = root.find(".//testcase[@name='meminfo.balloon-line']")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == REASON
    # junit-10.xsd has no skipped count on <testsuites>: each suite has its own
    assert "skipped" not in root.attrib
    counted = sum(int(suite.get("skipped", "0")) for suite in root.iter("testsuite"))
    assert counted == len(root.findall(".//skipped")) > 0


def test_skipped_in_sarif(unknown_release: Path) -> None:
    log = json.loads(run("check", "--output-format", "sarif", str(unknown_release)).stdout)
    schema = json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text())
    assert [e.message for e in Draft7Validator(schema).iter_errors(log)] == []
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    mine = [n for n in notes if n["descriptor"]["id"] == "meminfo.balloon-line"]
    assert len(mine) == 1 and mine[0]["level"] == "note" and REASON in mine[0]["message"]["text"]


def test_skipped_in_github(unknown_release: Path) -> None:
    lines = run("check", "--output-format", "github", str(unknown_release)).stdout.splitlines()
    assert (
        f"::notice title=meminfo.balloon-line skipped::not checked on {unknown_release}: "
        + (REASON)
        in lines
    )


def test_a_6_1_guest_does_not_pass_the_balloon_line_checks(tmp_path: Path) -> None:
    cap = write_capture(
        tmp_path / "cap",
        {"proc/meminfo": LTS_MEMINFO, "proc/vmstat": LTS_VMSTAT},
        {"kernel_release": "6.1.0"},
    )
    report = json.loads(run("check", "--output-format", "json", str(cap)).stdout)
    (capture,) = report["captures"]
    skipped = {s["rule"]: s["reason"] for s in capture["skipped"]}
    assert skipped["balloon.vmstat-agrees"].startswith("meminfo has no 'Balloon:' line")
    assert skipped["meminfo.balloon-line"] == "kernel 6.1.0 predates what the rule needs (6.15)"
    assert not {"balloon.vmstat-agrees", "meminfo.balloon-line"} & set(capture["rules"])


# --- explain knows every id -----------------------------------------------------------------

ID_FAMILIES = (
    "parse|text|layout|schema|capture|series|kernel|balloon|rfc|meminfo|vmstat|hv-balloon|"
    "vmmemctl|show-mem|virtio|virtio-features|virtio-balloon"
)
ID_LITERAL = re.compile(rf"[\"']((?:{ID_FAMILIES})\.[a-z][a-z0-9-]*)[\"']")
FILE_NAMES = (".json", ".log", ".css", ".js", ".txt", ".md", ".rst", ".py", ".html", ".xml", ".gz")


def emitted_ids() -> set[str]:
    """Every id string in the code that reports findings, and schema.<keyword> for every
    keyword a JSON Schema error can carry (schemas.py builds those ids)."""
    found = set()
    for package in ("conformance", "sphinxext_balloon"):
        for source in (ROOT / package).rglob("*.py"):
            found |= set(ID_LITERAL.findall(source.read_text(encoding="utf-8")))
    found = {i for i in found if not i.endswith(FILE_NAMES)}
    keywords = [*Draft202012Validator.VALIDATORS, "None"]  # None: a false subschema failed
    return found | {f"schema.{keyword}" for keyword in keywords}


def test_the_id_collection_is_not_vacuous() -> None:
    ids = emitted_ids()
    assert {"capture.empty", "parse.bad-number", "layout.whitespace", "text.nul"} <= ids
    assert {"virtio-features.unknown-bit", "series.reboot", "schema.required"} <= ids
    assert "capture.json" not in ids
    assert len(ids) > 90


def test_explain_answers_for_every_id_the_code_emits(capsys: pytest.CaptureFixture[str]) -> None:
    missing = []
    for finding_id in sorted(emitted_ids()):
        status = main(["explain", finding_id])
        out = capsys.readouterr().out
        if status != 0 or not out.startswith(finding_id + "\n") or "§" in out:
            missing.append(finding_id)
        assert len(out.splitlines()) >= 3, finding_id
    assert missing == []


def test_explain_lists_the_members_of_a_family() -> None:
    done = run("explain", "capture")
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert listed == sorted(i for i in emitted_ids() if i.startswith("capture."))
    virtio = run("explain", "virtio").stdout
    assert "virtio.memtotal-accounting" in virtio and "virtio.no-access-platform" in virtio


def test_explanations_quote_what_they_cite() -> None:
    done = run("explain", "meminfo.balloon-line")
    assert done.returncode == 0
    assert "'How balloon memory appears upstream'" in done.stdout
    assert "§" not in done.stdout
    headings = (ROOT / "docs/reference/kernel-formats.md").read_text(encoding="utf-8")
    for rule in RULES:
        for number in cited_sections(rule.source):
            assert number in SECTIONS, (rule.id, number)
            title = SECTIONS[number].split(", ")[-1]
            assert re.search(
                rf"^#+ {re.escape(number)}\.? .*{re.escape(title)}", headings.replace("`", ""), re.M
            ), title
        assert "§" not in rule.info.source
