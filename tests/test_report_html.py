"""The ``html`` report (conformance.report.html): its structure read with beautifulsoup4
on the real series of tests/data/runs, clean and perturbed, through ``check --series
--report html:PATH``; and, when Chromium is installed, a headless screenshot of it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conformance.cli import main

RUNS = Path(__file__).parent / "data" / "runs"
SERIES = "6.1.0-57-cloud-amd64-doo-on"
FEATURES = "sys/bus/virtio/devices/virtio0/features"
LINES = ["host target", "host actual", "guest balloon", "MemTotal", "MemAvailable"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def page(tmp_path: Path, *paths: Path, series: bool = True) -> tuple[int, BeautifulSoup, str]:
    out = tmp_path / "report.html"
    argv = ["check", *(["--series"] if series else []), *map(str, paths)]
    code = main([*argv, "--report", f"html:{out}"])
    text = out.read_text(encoding="utf-8")
    return code, BeautifulSoup(text, "html.parser"), text


def perturbed(tmp_path: Path) -> Path:
    """The kept series with t1's host record off by 64 MiB and t2's DEFLATE_ON_OOM bit clear."""
    series = tmp_path / "bad"
    shutil.copytree(RUNS / SERIES, series)
    path = series / "t1/capture.json"
    manifest = json.loads(path.read_text())
    manifest["host"]["actual"] += 64 << 20
    path.write_text(json.dumps(manifest))
    bits = (series / "t2" / FEATURES).read_text()
    (series / "t2" / FEATURES).write_text(bits[:2] + "0" + bits[3:])
    return series


def test_a_clean_series_is_one_timeline_with_its_values(tmp_path: Path) -> None:
    code, soup, text = page(tmp_path, RUNS / SERIES)
    assert code == 0
    sections = soup.select("section.series")
    assert len(sections) == 1 and sections[0].h2.get_text() == str(RUNS / SERIES)
    svg = sections[0].find("svg")
    lines = {p["data-series"]: p["points"].split() for p in svg.select("polyline.line")}
    assert list(lines) == LINES and all(len(points) == 3 for points in lines.values())
    # the host target goes down by 128 MiB at t1 and back at t2: same y at t0 and t2
    target = lines["host target"]
    assert target[0].split(",")[1] == target[2].split(",")[1] != target[1].split(",")[1]
    rows = sections[0].select("table.steps tr")[1:]
    values = [[td.get_text() for td in row.find_all("td")] for row in rows]
    assert [v[:2] for v in values] == [["t0", "settle"], ["t1", "inflate 128M"],
                                       ["t2", "deflate 128M"]]  # fmt: skip
    assert [v[2:5] for v in values] == [["512.0", "512.0", "0.0"], ["384.0", "384.0", "128.0"],
                                        ["512.0", "512.0", "0.0"]]  # fmt: skip
    assert soup.select("g.marker") == [] and soup.select("p.clean")
    assert soup.select("section.captures") == []  # the series' own result is in its section
    assert "<script" not in text and "http" not in text.replace("http://www.w3.org/2000/svg", "")


def test_findings_are_marked_at_their_step_and_listed_with_rule_and_location(
    tmp_path: Path,
) -> None:
    series = perturbed(tmp_path)
    code, soup, _ = page(tmp_path, series)
    assert code == 1
    markers = {g["data-step"]: g.find("title").get_text() for g in soup.select("g.marker")}
    # the cleared bit also makes t2's unchanged MemTotal a finding between t1 and t2
    assert markers == {"1": "host.balloon-size", "2": "host.features, virtio.memtotal-accounting"}
    items = [(li["data-rule"], li["data-step"], li.select_one(".location").get_text())
             for li in soup.select("li.finding")]  # fmt: skip
    assert items == [
        ("host.balloon-size", "1", f"{series}/t1/proc/vmstat:162:17"),
        ("host.features", "2", f"{series}/t2/{FEATURES}:1:3"),
        ("virtio.memtotal-accounting", "2", f"{series}/t2/proc/meminfo:1:19"),
    ]
    counts = [row.find_all("td")[-1].get_text() for row in soup.select("table.steps tr")[1:]]
    assert counts == ["0", "1", "2"]


def test_series_findings_between_captures_go_to_the_later_step(tmp_path: Path) -> None:
    series = tmp_path / "s"
    shutil.copytree(RUNS / "6.1.0-57-cloud-amd64-doo-off", series)
    meminfo = series / "t1/proc/meminfo"  # MemTotal that did not move with the balloon
    t0 = (series / "t0/proc/meminfo").read_text().splitlines()[0]
    lines = meminfo.read_text().splitlines(keepends=True)
    meminfo.write_text(t0 + "\n" + "".join(lines[1:]))
    _, soup, _ = page(tmp_path, series)
    found = [(li["data-rule"], li["data-step"], li.select_one(".location").get_text())
             for li in soup.select("li.finding")]  # fmt: skip
    assert ("virtio.memtotal-accounting", "1") in [f[:2] for f in found]
    assert all(where.startswith(f"{series}/t{step}/") for _, step, where in found)


def test_captures_that_are_no_series_list_their_findings(tmp_path: Path) -> None:
    capture = tmp_path / "one"
    shutil.copytree(RUNS / SERIES / "t1", capture)
    manifest = json.loads((capture / "capture.json").read_text())
    manifest["host"]["target_reached"] = False
    (capture / "capture.json").write_text(json.dumps(manifest))
    code, soup, _ = page(tmp_path, capture, series=False)
    assert code == 1 and soup.select("section.series") == [] and not soup.find("svg")
    assert [li["data-rule"] for li in soup.select("section.captures li.finding")] == [
        "host.target-reached"
    ]


def test_the_page_is_the_same_bytes_each_time_and_escapes_names(tmp_path: Path) -> None:
    series = tmp_path / "<b>&x"
    shutil.copytree(RUNS / SERIES, series)
    first = page(tmp_path, series)[2]
    assert first == page(tmp_path, series)[2]
    assert "<b>&x" not in first and "&lt;b&gt;&amp;x" in first


def _browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def screenshot(browser: str, html: Path, png: Path) -> None:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", "--window-size=800,620", html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip


@pytest.mark.skipif(_browser() is None, reason="no Chromium (apt-get install -y chromium)")
def test_a_headless_browser_draws_the_page(tmp_path: Path) -> None:
    """The page a browser renders is the picture: it differs from an empty page of the
    same size, and from the clean run's where the findings are marked."""
    browser = _browser()
    assert browser is not None
    page(tmp_path, perturbed(tmp_path))
    shot, empty = tmp_path / "report.png", tmp_path / "empty.png"
    screenshot(browser, tmp_path / "report.html", shot)
    (tmp_path / "empty.html").write_text("<!DOCTYPE html><html><body></body></html>")
    screenshot(browser, tmp_path / "empty.html", empty)
    assert _png_size(shot) == _png_size(empty) == (800, 620)
    assert len(shot.read_bytes()) > 4 * len(empty.read_bytes())


def test_the_page_reads_a_capture_as_the_check_does(tmp_path: Path) -> None:
    """The page's values come from the capture as the reader reads it: a link in it is
    not followed, so its target's numbers never reach the page."""
    import os

    series = tmp_path / "linked"
    shutil.copytree(RUNS / SERIES, series)
    outside = tmp_path / "outside"
    outside.write_text("MemTotal:        4242424 kB\nMemAvailable:    4242424 kB\n")
    (series / "t1/proc/meminfo").unlink()
    os.symlink(outside, series / "t1/proc/meminfo")
    _, soup, text = page(tmp_path, series)  # the check says so: capture.symlink
    assert "4242" not in text and "4143" not in text  # 4242424 kB, in kB or MiB
    rows = soup.select("section.series table.steps tr")[1:]
    values = [[td.get_text() for td in row.find_all("td")] for row in rows]
    assert values[0][5:7] != ["", ""] and values[1][5:7] == ["", ""], values
