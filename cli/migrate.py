"""`certflow migrate-instances PROCESS --to VERSION [--dry-run]` (issue 12; engine/migration.py):
the running cases of older versions moved to VERSION, each in its own transaction, with the dry
run of each printed; refused cases stay where they are."""

import getpass
import sys

import click
from flask.cli import with_appcontext


@click.command("migrate-instances")
@click.argument("process_id")
@click.option("--to", "version", type=click.IntRange(min=1), required=True, help="Target version.")
@click.option("--dry-run", is_flag=True, help="Only report which cases can move and why not.")
@click.option("--user", "username", default=None, help="Who migrates (default: OS user).")
@with_appcontext
def migrate_command(process_id: str, version: int, dry_run: bool, username: str | None) -> None:
    """Move the running cases of older versions of PROCESS_ID to version --to."""
    from flask import current_app

    from engine.errors import EngineError
    from engine.service import Actor

    engine = current_app.extensions["certflow.engine"]
    actor = Actor(username or f"cli:{getpass.getuser()}", frozenset({"process_owner"}))
    try:
        checks = engine.migration_candidates(process_id, version)
    except EngineError as err:
        click.echo(err.message, err=True)
        sys.exit(1)
    engine.session.rollback()  # end the read transaction: each move is its own
    moved = refused = failed = 0
    for index, check in enumerate(checks, start=1):
        case = check.business_key or f"#{check.instance_id}"
        where = f"[{index}/{len(checks)}] {case} v{check.from_version}→v{version}"
        if not check.movable:
            refused += 1
            click.echo(
                f"{where}: refused ({check.refusal}: {check.element_name} {check.element_id})"
            )
            continue
        if dry_run:
            click.echo(f"{where}: movable ({len(check.changes)} element(s) change)")
            continue
        try:
            engine.migrate_instance(
                check.instance_id, to_version=version, actor=actor, lock_version=check.lock_version
            )
        except EngineError as err:
            failed += 1
            click.echo(f"{where}: not moved ({err.status}: {err.message})")
            continue
        moved += 1
        click.echo(f"{where}: moved")
    movable = len(checks) - refused
    summary = (
        f"{movable} movable, {refused} refused"
        if dry_run
        else f"{moved} moved, {refused} refused, {failed} not moved"
    )
    click.echo(
        f"{process_id} → v{version}: {len(checks)} running case(s) on older versions; {summary}"
    )
    if failed:
        sys.exit(1)
