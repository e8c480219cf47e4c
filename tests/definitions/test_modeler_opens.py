"""Every BPMN/DMN file loads cleanly in the bpmn.io toolchain, not only in SpiffWorkflow.

Runs `node tools/modeler-check/check.mjs` (bpmn-moddle / dmn-moddle, what bpmn.io and Camunda
Modeler read files with): no parse warnings, and a shape or edge for everything bpmn-js or dmn-js
draws. Needs Node >= 20; the check's npm packages are installed from its lockfile
(`npm ci`) when they are missing or differ from it.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.paths import ROOT

TOOL = ROOT / "tools" / "modeler-check"
CHECK = TOOL / "check.mjs"
PROCESSES = ROOT / "processes"
FIXTURES = ROOT / "tests" / "fixtures"
MODELER = FIXTURES / "modeler"

# Must open cleanly whatever processes/ holds, so the test never runs on an empty set.
PASSING_FIXTURES = [
    FIXTURES / "processes" / "review_flow.bpmn",
    FIXTURES / "timers" / "timer_flow.bpmn",
    MODELER / "spiff_extensions.bpmn",
    MODELER / "decision.dmn",
]

# (fixture, the exact problem lines check.mjs prints for it)
FAILING_FIXTURES = {
    "missing_di.bpmn": [
        "Task_NoShape: bpmn:Task has no bpmndi:BPMNShape in any BPMNDiagram (not drawn by bpmn-js)",
        "Flow_ToEnd: bpmn:SequenceFlow has no bpmndi:BPMNEdge in any BPMNDiagram"
        " (not drawn by bpmn-js)",
    ],
    "unresolved_reference.bpmn": ["Flow_ToEnd: unresolved reference <Event_Missing>"],
    "spiff_outside_extension_elements.bpmn": [
        "-: unparsable content <spiffworkflow:preScript> detected (line 11, column 6):"
        " unrecognized element <spiffworkflow:preScript>",
    ],
    "decision_missing_shape.dmn": ["modeler_unplaced: dmn:Decision has no dmndi:DMNShape"],
    "decision_no_dmndi.dmn": [
        "Definitions_ModelerNoDmndi: no dmndi:DMNDI with a DMNDiagram:"
        " the modeler cannot lay out the DRD",
    ],
}


def _process_files() -> list[Path]:
    return sorted(p for p in PROCESSES.rglob("*") if p.suffix in {".bpmn", ".dmn"} and p.is_file())


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _installed_matches_lockfile() -> bool:
    lock = json.loads((TOOL / "package-lock.json").read_text(encoding="utf-8"))
    for key, entry in lock["packages"].items():
        if not key:
            continue
        manifest = TOOL / key / "package.json"
        if not manifest.is_file():
            return False
        if json.loads(manifest.read_text(encoding="utf-8")).get("version") != entry["version"]:
            return False
    return True


@pytest.fixture(scope="session")
def modeler_check():
    """A function running check.mjs on paths (relative to the repository root)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: the modeler check (tools/modeler-check) needs Node.js >= 20 "
            "and npm (Debian: apt-get install nodejs npm)",
            pytrace=False,
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if not major or int(major.group(1)) < 20:
        pytest.fail(f"the modeler check needs Node.js >= 20, found {version!r}", pytrace=False)

    if not _installed_matches_lockfile():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "tools/modeler-check/node_modules is missing or stale and npm is not on PATH: "
                "install npm, then run `npm ci --no-audit --no-fund` in tools/modeler-check",
                pytrace=False,
            )
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=TOOL,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("`npm ci` in tools/modeler-check took over 600 s", pytrace=False)
        if done.returncode != 0 or not _installed_matches_lockfile():
            output = (done.stdout + done.stderr).strip()[-3000:]
            pytest.fail(
                f"`npm ci --no-audit --no-fund` in tools/modeler-check failed "
                f"(exit {done.returncode}); the modeler check cannot run without its packages "
                f"(bpmn-moddle, dmn-moddle from the npm registry):\n{output}",
                pytrace=False,
            )

    def run(*paths: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [node, str(CHECK), *paths],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.mark.parametrize(
    "path",
    [_rel(p) for p in _process_files() + PASSING_FIXTURES],
)
def test_opens_in_modeler(modeler_check, path):
    done = modeler_check(path)
    assert (done.returncode, done.stdout) == (0, "ok 1 files\n"), done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(FAILING_FIXTURES))
def test_problem_is_reported(modeler_check, name):
    path = _rel(MODELER / name)
    done = modeler_check(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"{path}: {line}" for line in FAILING_FIXTURES[name]]


def test_several_files_and_directories(modeler_check):
    good, bad = _rel(PASSING_FIXTURES[0]), _rel(MODELER / "unresolved_reference.bpmn")
    done = modeler_check(good, bad)
    assert done.returncode == 1
    assert done.stdout == f"{bad}: Flow_ToEnd: unresolved reference <Event_Missing>\n"

    done = modeler_check(_rel(MODELER))
    assert done.returncode == 1
    reported = {line.split(": ", 1)[0] for line in done.stdout.splitlines()}
    assert reported == {_rel(MODELER / name) for name in FAILING_FIXTURES}

    done = modeler_check(_rel(PROCESSES))
    assert (done.returncode, done.stdout) == (0, f"ok {len(_process_files())} files\n"), (
        done.stdout + done.stderr
    )


def test_package_pins_and_lockfile():
    manifest = json.loads((TOOL / "package.json").read_text(encoding="utf-8"))
    assert manifest["private"] is True
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
    lock = json.loads((TOOL / "package-lock.json").read_text(encoding="utf-8"))
    for key, entry in lock["packages"].items():
        if not key:
            continue
        # Registry-agnostic: no tarball URLs (tools/modeler-check/.npmrc), integrity pinned.
        assert "resolved" not in entry, f"{key}: resolved URL in package-lock.json"
        assert entry.get("integrity", "").startswith("sha512-"), key
