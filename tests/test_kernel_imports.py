"""The kernel (certflow/) is the bottom layer: it imports none of the layers built on it; the
command line (cli/) is the composition root that may import them all (issue 14)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPPER = ("webapp", "handlers", "engine", "domain", "scheduler", "cli")
CONTRACT = f"""
[importlinter]
root_packages =
    certflow
    {chr(10).join("    " + name for name in UPPER).strip()}
include_external_packages = False

[importlinter:contract:kernel]
name = certflow imports no upper layer
type = forbidden
source_modules = certflow
forbidden_modules =
{chr(10).join("    " + name for name in UPPER)}
"""


def test_the_kernel_imports_no_upper_layer(tmp_path):
    config = tmp_path / "importlinter.ini"
    config.write_text(CONTRACT)
    result = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--config", str(config), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_python_dash_m_cli_is_the_certflow_command(tmp_path):
    # Flask's group builds the app to list its commands: keep its instance folder out of the repo.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CERTFLOW_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for command in ("init", "validate", "deploy", "token", "clock", "scheduler", "run", "db"):
        assert f"  {command} " in result.stdout, command
