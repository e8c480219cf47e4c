"""The `certflow` command: init, validate, deploy, token, clock, scheduler, plus Flask's own
commands (run, shell, routes, db).

The composition root outside the kernel: it may import every layer (webapp, engine, handlers,
domain, scheduler); nothing imports it."""

import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup

from certflow.clock import parse_utc
from cli.generate import generate_command
from cli.migrate import migrate_command
from cli.prune import prune_command


def _create_app():
    from webapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """certflow — after-sales service certification workflows."""


@main.command("validate", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path())
def validate_command(paths: tuple[str, ...]) -> None:
    """Check BPMN/DMN/forms; one line per problem (file:line: element: message)."""
    import handlers  # noqa: F401  (registers the handlers the check looks for)
    from certflow.process_texts import untranslated
    from engine.validation import validate_paths
    from handlers.registry import REGISTRY

    targets = list(paths) or ["processes"]
    problems = [*validate_paths(targets, registry=REGISTRY), *untranslated(map(Path, targets))]
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo("ok", err=True)


@main.command("init")
@click.option("--demo", is_flag=True, help="Also create one demo user per role.")
def init_command(demo: bool) -> None:
    """Create or upgrade the database schema (Alembic), keeping existing data."""
    from flask_migrate import upgrade

    from certflow.accounts import ensure_demo_users
    from certflow.db import db
    from domain.demo import ensure_demo_auditors, ensure_demo_organisation

    upgrade()
    click.echo(f"database at revision head: {db.engine.url.render_as_string(hide_password=True)}")
    if demo:
        clock = current_app.extensions["certflow.clock"]
        logins = Path(current_app.instance_path) / "demo-logins.txt"
        created = ensure_demo_users(db.session, clock.now(), logins)
        auditors = ensure_demo_auditors(db.session, clock.now())
        organisation = ensure_demo_organisation(db.session, clock.now())
        db.session.commit()
        click.echo(f"demo auditors (HR records): {len(auditors)} created")
        if organisation is not None:
            click.echo(f"demo client's organisation: {organisation.name} ({organisation.uscc})")
        click.echo(f"demo users: {len(created)} created; logins in {logins}")
        if logins.exists():
            click.echo(logins.read_text().rstrip())


@main.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--comment", default="", help="Why this deployment.")
@click.option("--user", "username", default=None, help="Who deploys (default: OS user).")
def deploy_command(paths: tuple[str, ...], comment: str, username: str | None) -> None:
    """Validate, then store a new version of each changed process (all or nothing)."""
    import getpass

    from engine.errors import DeploymentError
    from engine.service import Actor
    from webapp import get_settings

    engine = current_app.extensions["certflow.engine"]
    actor = Actor(username or f"cli:{getpass.getuser()}", frozenset({"process_owner"}))
    sources = list(paths) or [str(get_settings().processes_dir)]
    try:
        result = engine.deploy(
            sources,
            actor=actor,
            comment=comment,
        )
    except DeploymentError as err:
        for problem in err.problems:
            click.echo(str(problem))
        click.echo(f"{err.message}", err=True)
        sys.exit(1)
    for version in result.created:
        click.echo(f"deployed {version.process_id} v{version.version} ({version.sha256[:12]})")
    for process_id in result.unchanged:
        click.echo(f"unchanged {process_id}")
    _load_indicator_sets(sources, actor)


def _load_indicator_sets(paths: list[str], actor) -> None:
    """The GB/T 27922 indicator sets (`indicators/*.json` beside the definitions) are versioned
    data deployed with them (R-3)."""
    from certflow.db import db
    from domain.indicators import load_indicator_sets

    engine = current_app.extensions["certflow.engine"]
    for base in paths:
        directory = Path(base) / "indicators"
        if not directory.is_dir():
            continue
        try:
            rows = load_indicator_sets(db.session, directory, actor.username, engine.clock.now())
        except ValueError as err:
            raise click.ClickException(str(err)) from err
        db.session.commit()
        for row in rows:
            click.echo(f"loaded indicator set {row.code} {row.version} ({row.sha256[:12]})")


@main.command("token")
@click.argument("username")
@click.option("--description", default="")
def token_command(username: str, description: str) -> None:
    """Issue a bearer token for USER (printed once; only its hash is stored)."""
    from sqlalchemy import select

    from certflow.accounts import issue_token
    from certflow.db import db
    from certflow.models import User

    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    clock = current_app.extensions["certflow.clock"]
    secret = issue_token(db.session, user, clock.now(), description)
    db.session.commit()
    click.echo(secret)


@main.group("clock")
def clock_group() -> None:
    """Show, set or advance the application clock (set/advance need CERTFLOW_CLOCK=simulated)."""


def _simulated_clock():
    clock = current_app.extensions["certflow.clock"]
    if not clock.simulated:
        raise click.ClickException("the clock is real; start with CERTFLOW_CLOCK=simulated")
    return clock


def _record_clock_change(before, after) -> None:
    """In the audit trail (issue 13), committed together with the new time."""
    import getpass

    from certflow.db import db
    from engine.records import record_clock_change

    record_clock_change(db.session, actor=f"cli:{getpass.getuser()}", before=before, after=after)


@clock_group.command("show")
def clock_show() -> None:
    clock = current_app.extensions["certflow.clock"]
    kind = "simulated" if clock.simulated else "real"
    click.echo(f"{clock.now().isoformat()} ({kind})")


@clock_group.command("set")
@click.argument("timestamp")
def clock_set(timestamp: str) -> None:
    """Set the simulated time (ISO 8601 with offset), then fire what became due."""
    from scheduler import sweep

    try:
        value = parse_utc(timestamp)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    clock = _simulated_clock()
    _record_clock_change(clock.now(), value)
    now = clock.set(value)
    fired = sweep(current_app._get_current_object())
    click.echo(f"{now.isoformat()} (simulated); fired timers of {len(fired)} instance(s)")


@clock_group.command("advance")
@click.argument("duration")
def clock_advance(duration: str) -> None:
    """Advance the simulated time by an ISO 8601 duration (P30D, PT2H, P1M), then sweep."""
    from engine.timers import parse_duration
    from scheduler import sweep

    clock = _simulated_clock()
    try:
        delta: timedelta = parse_duration(duration, clock.now())
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    if delta < timedelta(0):
        raise click.ClickException("the simulated clock does not run backwards")
    _record_clock_change(clock.now(), clock.now() + delta)
    now = clock.set(clock.now() + delta)
    fired = sweep(current_app._get_current_object())
    click.echo(f"{now.isoformat()} (simulated); fired timers of {len(fired)} instance(s)")


@main.command("serve")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="gunicorn workers.")
@click.option("--bind", default=None, help="host:port (default CERTFLOW_BIND or 127.0.0.1:8000).")
@click.option("--schedulers", type=click.IntRange(1, 8), default=1, help="Sweeper processes.")
def serve_command(workers: int | None, bind: str | None, schedulers: int) -> None:
    """Production: gunicorn workers and separate timer sweepers, on PostgreSQL (issue 16)."""
    from cli.serve import serve

    app = current_app._get_current_object()
    code = serve(
        app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path, workers, bind, schedulers
    )
    sys.exit(code)


@main.command("scheduler")
def scheduler_command() -> None:
    """Run the timer sweeper standalone (production: one such process)."""
    from scheduler import run_standalone

    run_standalone(current_app._get_current_object())


from cli.rules import rules_group  # noqa: E402  (rules catalogue and coverage, issues 13/15)

main.add_command(rules_group)

from cli.compliance_demo import seed_compliance_command  # noqa: E402  (issue 13)

main.add_command(seed_compliance_command)

main.add_command(prune_command)
main.add_command(migrate_command)
main.add_command(generate_command)
