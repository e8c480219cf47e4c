"""The command line (cli/) is the composition root (issue 14); that the kernel imports none of
the layers built on it is a contract of pyproject's [tool.importlinter], run by
tests/platform/test_architecture.py and `make test`."""

import os
import subprocess
import sys

from tests.paths import ROOT


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
