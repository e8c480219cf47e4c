"""Where the repository's folders are, for tests in any feature folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FIXTURES = ROOT / "tests" / "fixtures"
WEBAPP = ROOT / "webapp"
