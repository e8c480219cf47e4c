"""`python -m cli …`: the same command as the `certflow` console script."""

from cli.main import main

main()
