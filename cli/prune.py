"""`certflow prune`: compact the workflow state of finished instances (issue 16; engine/pruning.py).
The event log keeps the history; the pages of a finished case keep working."""

import sys
from datetime import timedelta

import click
from flask.cli import with_appcontext


@click.command("prune")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Only instances that ended at least this many days ago.",
)
@with_appcontext
def prune_command(older_than_days: int) -> None:
    """Prune the workflow state of completed and terminated instances."""
    from flask import current_app

    engine = current_app.extensions["certflow.engine"]
    ended_before = engine.clock.now() - timedelta(days=older_than_days)
    total = engine.count_prunable(ended_before=ended_before)
    with click.progressbar(length=total, label="pruning", file=sys.stderr) as bar:
        result = engine.prune_finished(ended_before=ended_before, progress=bar.update)
    count = result["instances"]
    average = result["bytes_after"] // count if count else 0
    click.echo(
        f"pruned {count} finished instance(s): {result['bytes_before']} → "
        f"{result['bytes_after']} bytes of workflow state ({average} bytes each)"
    )
