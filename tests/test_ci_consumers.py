"""Each report as its consumer reads it: the consumer's own parser or the rules of its
published schema, on reports written by the console script from the examples."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = Path(sys.executable).with_name("balloon-conform")
INPUTS = ("examples/broken", "examples/fleet")

# The Jenkins xunit plugin's junit-10.xsd, the copy pytest ships for its own JUnit tests
# (provenance and the two lines that differ from the plugin's file in
# tests/data/schemas/SOURCES.md), read by xmlschema, the validator pytest uses for it.
JUNIT_10_XSD = ROOT / "tests/data/schemas/junit-10.xsd"


@pytest.fixture(scope="module")
def junit_10() -> Callable[[ET.Element], list[str]]:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema10(str(JUNIT_10_XSD))

    def problems(root: ET.Element) -> list[str]:
        found = [f"{e.path}: {e.reason}" for e in schema.iter_errors(root)]
        # the plugin's own file has no @version on testsuite (pytest's copy added it)
        found += [f"{s.tag}: @version" for s in root.iter("testsuite") if "version" in s.attrib]
        return found

    return problems


def report(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"report.{fmt}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    done = subprocess.run(
        [str(TOOL), "check", "--report", f"{fmt}:{out}", *extra, *INPUTS],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 1, done.stderr  # the broken example has errors
    return out


def test_the_junit_10_check_can_fail(junit_10: Callable[[ET.Element], list[str]]) -> None:
    ok = '<testsuite name="a" tests="1" failures="0" errors="0"><testcase name="c"/></testsuite>'
    assert junit_10(ET.fromstring(f"<testsuites>{ok}</testsuites>")) == []
    no_name = ok.replace(' name="c"', "")
    with_file = ok.replace("<testcase", '<testcase file="x"')
    with_version = ok.replace('name="a"', 'name="a" version="1"')
    for bad in (
        f'<testsuites skipped="0">{ok}</testsuites>',  # what made the plugin skip our files
        '<testsuites><testsuite name="a"/></testsuites>',  # tests, failures, errors missing
        f"<testsuites>{no_name}</testsuites>",  # a testcase needs a name
        f"<testsuites>{with_file}</testsuites>",  # GitLab's attribute, not the XSD's
        f"<testsuites>{with_version}</testsuites>",  # in pytest's copy only
    ):
        assert junit_10(ET.fromstring(bad)), bad


def test_junit_is_valid_against_junit_10(
    tmp_path: Path, junit_10: Callable[[ET.Element], list[str]]
) -> None:
    root = ET.parse(report(tmp_path, "junit")).getroot()
    assert junit_10(root) == []
    assert any(case.find("skipped") is not None for case in root.iter("testcase"))


def test_junit_gitlab_differs_only_by_file_and_line(
    tmp_path: Path, junit_10: Callable[[ET.Element], list[str]]
) -> None:
    root = ET.parse(report(tmp_path, "junit-gitlab")).getroot()
    assert junit_10(root)  # GitLab's attributes are not in the XSD ...
    for case in root.iter("testcase"):
        case.attrib.pop("file", None)
        case.attrib.pop("line", None)
    assert junit_10(root) == []  # ... and are all that differs
    root = ET.parse(tmp_path / "report.junit-gitlab").getroot()
    failing = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failing and all(c.get("file") for c in failing)
    assert all(not c.get("file", "").startswith("/") for c in failing)
    assert all(int(c.get("line", "1")) >= 1 for c in failing)


@pytest.mark.parametrize("fmt", ["junit", "junit-gitlab"])
def test_junitparser_reads_every_case(tmp_path: Path, fmt: str) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = report(tmp_path, fmt)
    xml = junitparser.JUnitXml.fromfile(str(path))
    root = ET.parse(path).getroot()
    suites = list(xml)
    assert [s.name for s in suites] == [s.get("name") for s in root]
    for suite, element in zip(suites, root):
        cases = list(suite)
        assert len(cases) == suite.tests == int(element.get("tests", "-1"))
        failed = [c for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]
        skipped = [c for c in cases if any(isinstance(r, junitparser.Skipped) for r in c.result)]
        assert len(failed) == suite.failures and len(skipped) == suite.skipped
        assert all("." not in c.classname for c in cases if not suite.name.startswith("series:"))
    assert sum(s.failures for s in suites) >= 2
    assert "examples/fleet/virtio-6.18-firecracker" in [s.name for s in suites]


# GitLab's Code Quality report. GitLab's parser validates each issue against its JSON Schema
# app/validators/json_schemas/codeclimate.json (gitlabhq, read at commit 33827e3a534757e):
# an object with description, fingerprint, severity and location required, strings, and
# location.lines.begin an integer. That file is in no package registry, so it is not
# shipped; the checks below hold all of it, and what GitLab's documentation adds
# ("Code Quality report format": check_name, the five severities, a relative path, a
# first line of at least 1, a fingerprint per finding).
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def gitlab_problems(issues: object) -> list[str]:
    if not isinstance(issues, list):
        return ["not a JSON array"]
    problems: list[str] = []
    for n, issue in enumerate(issues):
        for key in ("description", "check_name", "fingerprint"):
            if not isinstance(issue.get(key), str) or not issue[key]:
                problems.append(f"{n}: {key} missing")
        if issue.get("severity") not in GITLAB_SEVERITIES:
            problems.append(f"{n}: severity {issue.get('severity')!r}")
        location = issue.get("location", {})
        path = location.get("path", "")
        if not isinstance(path, str) or not path or path.startswith("/"):
            problems.append(f"{n}: location.path {path!r} is not relative")
        begin = location.get("lines", {}).get("begin")
        if not isinstance(begin, int) or begin < 1:
            problems.append(f"{n}: location.lines.begin {begin!r}")
    fingerprints = [i.get("fingerprint") for i in issues]
    if len(set(fingerprints)) != len(fingerprints):
        problems.append("fingerprints repeat")  # GitLab would merge two findings into one
    return problems


def test_gitlab_code_quality_has_the_documented_fields(tmp_path: Path) -> None:
    issues = json.loads(report(tmp_path, "gitlab").read_text())
    assert len(issues) >= 3 and gitlab_problems(issues) == []
    assert {"major", "minor"} <= {i["severity"] for i in issues}
    whole = next(i for i in issues if i["check_name"] == "balloon.single-driver")
    assert whole["location"] == {
        "path": "examples/broken/two-drivers-and-stale-vmstat/capture.json",
        "lines": {"begin": 1},
    }
    assert gitlab_problems([{**whole, "severity": "error"}]) == ["0: severity 'error'"]


def test_gitlab_fingerprints_stay_across_runs(tmp_path: Path) -> None:
    first = json.loads(report(tmp_path, "gitlab").read_text())
    again = json.loads(report(tmp_path, "gitlab", "--base-dir", ".").read_text())
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]


def test_sarif_from_the_console_script_is_what_code_scanning_takes(tmp_path: Path) -> None:
    from jsonschema import Draft7Validator

    from .test_report_sarif import SARIF_SCHEMA, _github_problems

    log = json.loads(report(tmp_path, "sarif", "--category", "fleet").read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert [e.message for e in Draft7Validator(schema).iter_errors(log)] == []
    assert _github_problems(log) == []
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    assert "file:" not in json.dumps(run["results"])
    assert run["automationDetails"] == {"id": "fleet/"}


# GitHub's action metadata syntax ("Metadata syntax for GitHub Actions"): SchemaStore's
# JSON Schema of it is not on npm (@schemastore/github-action holds TypeScript types only),
# so the documented requirements for a composite action are checked here instead.
def action_problems(action: dict[str, object]) -> list[str]:
    problems = [f"no {key}" for key in ("name", "description", "runs") if not action.get(key)]
    for name, spec in dict(action.get("inputs") or {}).items():  # type: ignore[call-overload]
        if not isinstance(spec, dict) or "description" not in spec:
            problems.append(f"input {name}: no description")
    for name, spec in dict(action.get("outputs") or {}).items():  # type: ignore[call-overload]
        if not isinstance(spec, dict) or "value" not in spec:
            problems.append(f"output {name}: a composite action's output needs a value")
    runs = action.get("runs")
    if not isinstance(runs, dict) or runs.get("using") != "composite":
        return [*problems, "runs.using is not composite"]
    for n, step in enumerate(runs.get("steps", [])):
        if ("run" in step) == ("uses" in step):
            problems.append(f"step {n}: needs exactly one of run and uses")
        if "run" in step and "shell" not in step:
            problems.append(f"step {n}: a run step of a composite action needs a shell")
    return problems


def test_the_action_follows_the_metadata_syntax() -> None:
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action_problems(action) == []
    assert action_problems({"runs": {"using": "composite", "steps": [{"run": "x"}]}}) == [
        "no name",
        "no description",
        "step 0: a run step of a composite action needs a shell",
    ]
    script = next(
        s["run"] for s in action["runs"]["steps"] if "balloon-conform check" in s.get("run", "")
    )
    assert '--report "sarif:$SARIF"' in script and "--base-dir" in script


def test_the_action_runs_its_check_line(tmp_path: Path) -> None:
    """The action's check step, run by bash as the runner would, with the tool installed."""
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    script = next(
        s["run"] for s in action["runs"]["steps"] if "balloon-conform check" in s.get("run", "")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(
        PATH=f"{TOOL.parent}{os.pathsep}{env.get('PATH', '')}",
        CAPTURES="examples/broken",
        SARIF=str(tmp_path / "out.sarif"),
        CATEGORY="matrix-1",
        ARGS="--strict",
        GITHUB_WORKSPACE=str(ROOT),
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
    )
    done = subprocess.run(
        ["bash", "-e", "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 1  # findings fail the step
    log = json.loads((tmp_path / "out.sarif").read_text())
    assert log["runs"][0]["automationDetails"] == {"id": "matrix-1/"}
    assert (
        "::error" in done.stderr
        and "balloon-conform check failed" in (tmp_path / "summary.md").read_text()
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("pre_commit")
    repo = tmp_path_factory.mktemp("hooked")
    shutil.copytree(ROOT / "examples/broken", repo / "captures")
    samples = repo / "balloon-samples"
    samples.mkdir()
    shutil.copy(
        ROOT / "examples/broken/two-drivers-and-stale-vmstat/proc/meminfo", samples / "good"
    )
    (samples / "bad").write_text("MemTotal: abc\n")
    for argv in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *argv], cwd=repo, check=True, capture_output=True)
    return repo


def try_repo(repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    home = repo.parent / "pre-commit-home"  # one hook environment for the module's runs
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    which = ["--files", *files] if files else ["--all-files"]
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, *which],
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
    )
    if done.returncode == 3:  # pre-commit's "could not install the hook's environment"
        pytest.skip(f"pre-commit could not install the hook (no network?): {done.stdout[-300:]}")
    return done


def test_pre_commit_parse_hook(hook_repo: Path) -> None:
    failed = try_repo(hook_repo, "balloon-conform-parse")
    assert failed.returncode == 1, failed.stdout
    assert "balloon-samples/bad:1:11: error:" in failed.stdout and "good" not in failed.stdout
    passed = try_repo(hook_repo, "balloon-conform-parse", "balloon-samples/good")
    assert passed.returncode == 0, passed.stdout


def test_pre_commit_check_hook(hook_repo: Path) -> None:
    done = try_repo(hook_repo, "balloon-conform-check")
    assert done.returncode == 1, done.stdout
    assert "balloon.single-driver" in done.stdout


def _doc_commands(section: str) -> list[str]:
    """The ``balloon-conform check`` lines of one section of docs/ci.rst, joined."""
    text = (ROOT / "docs/ci.rst").read_text()
    body = text.split(f"\n{section}\n", 1)[1].split("\n-----", 1)[0]
    body = re.sub(r"\n\s+--", " --", body)  # YAML folds the continuation lines
    return re.findall(r"balloon-conform check[^'\n]*", body)


@pytest.mark.parametrize("section", ["GitLab CI", "Jenkins"])
def test_the_documented_ci_lines_write_reports_their_consumers_take(
    tmp_path: Path, section: str, junit_10: Callable[[ET.Element], list[str]]
) -> None:
    commands = _doc_commands(section)
    assert len(commands) == 1
    shutil.copytree(ROOT / "examples/broken", tmp_path / "captures")
    argv = shlex.split(commands[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    done = subprocess.run(
        [str(TOOL), *argv[1:]], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert done.returncode == (0 if "--exit-zero" in argv else 1), done.stderr
    reports = dict(spec.split(":", 1) for spec in re.findall(r"--report (\S+:\S+)", commands[0]))
    for fmt, path in reports.items():
        written = tmp_path / path
        if fmt == "gitlab":
            assert gitlab_problems(json.loads(written.read_text())) == []
        else:
            root = ET.parse(written).getroot()
            for case in root.iter("testcase") if fmt == "junit-gitlab" else ():
                case.attrib.pop("file", None)  # GitLab's own attributes, see above
                case.attrib.pop("line", None)
            assert junit_10(root) == []
        text = (ROOT / "docs/ci.rst").read_text()
        assert (
            f"junit: {path}" in text or f"codequality: {path}" in text or f"junit '{path}'" in text
        )
    assert set(reports) == ({"junit-gitlab", "gitlab"} if section == "GitLab CI" else {"junit"})


# SchemaStore's published schemas for GitHub workflows, GitHub action metadata and GitLab
# CI, as check-jsonschema vendors them (``--builtin-schema vendor.*``), read by the
# check-jsonschema command line; pre-commit configurations by pre-commit's own loader.
def _yaml_blocks() -> list[tuple[str, str]]:
    """Each YAML block of the docs and the README: (where, text)."""
    blocks = []
    for page in sorted((ROOT / "docs").glob("*.rst")):
        for match in re.finditer(r"\.\. code-block:: yaml\n\n((?:   .*\n|\n)+)", page.read_text()):
            text = re.sub(r"(?m)^   ", "", match[1])
            blocks.append((f"{page.name}:{match.start()}", text))
    for match in re.finditer(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        blocks.append((f"README.md:{match.start()}", match[1]))
    return blocks


def _schema_of(document: dict[Any, Any]) -> tuple[str, dict[Any, Any]]:
    """Which consumer reads a block, and the document it reads (a list of steps is put in
    a workflow's job, as it would be pasted into one)."""
    if "jobs" in document:
        return "vendor.github-workflows", document
    if list(document) == ["steps"]:
        job = {"runs-on": "ubuntu-latest", "steps": document["steps"]}
        return "vendor.github-workflows", {"on": "push", "jobs": {"balloon": job}}
    if "repos" in document:
        return "pre-commit", document
    if all(isinstance(job, dict) and "script" in job for job in document.values()):
        return "vendor.gitlab-ci", document
    raise AssertionError(f"no consumer known for a YAML block with keys {sorted(document)}")


def _check_jsonschema(schema: str, document: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(tool), "--builtin-schema", schema, str(document)], capture_output=True, text=True
    )


def test_yaml_in_the_docs_is_what_its_consumer_accepts(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    blocks = _yaml_blocks()
    seen: dict[str, int] = {}
    for n, (where, text) in enumerate(blocks):
        schema, document = _schema_of(yaml.safe_load(text))
        seen[schema] = seen.get(schema, 0) + 1
        path = tmp_path / f"block{n}.yaml"
        if schema == "pre-commit":
            from pre_commit.clientlib import load_config

            path.write_text(text)
            load_config(str(path))  # raises InvalidConfigError with the place
            continue
        path.write_text(json.dumps(document, default=str).replace('"true":', '"on":'))
        done = _check_jsonschema(schema, path)
        assert done.returncode == 0, f"{where}: {done.stdout}{done.stderr}"
    assert {"vendor.github-workflows", "vendor.gitlab-ci", "pre-commit"} <= set(seen)


def test_the_action_is_valid_against_schemastores_action_schema(tmp_path: Path) -> None:
    done = _check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "action.yml"  # the check can fail: a composite action needs steps
    broken.write_text("name: x\ndescription: y\nruns:\n  using: composite\n")
    assert _check_jsonschema("vendor.github-actions", broken).returncode == 1
    bad_job = tmp_path / "gitlab.yml"  # and a GitLab job with an unknown keyword fails too
    bad_job.write_text("job:\n  script: [x]\n  artefacts: {}\n")
    assert _check_jsonschema("vendor.gitlab-ci", bad_job).returncode == 1
