"""The command line (`certflow …`, `python -m cli …`): see cli/main.py."""

from cli.main import main

__all__ = ["main"]
