"""`certflow seed-compliance`: the compliance demo data (issue 13) for the quality manager's
dashboard (`/quality/compliance`) and the management-review report — organisations driven through
the deployed processes on the simulated clock, with the breaches that happen when time passes
(scenarios/compliance_dataset.py), plus the breaches the processes refuse to produce as legacy
rows (domain/compliance/refused_breaches.py).

The timeline starts on 2026-01-05 (the refused breaches' rows are dated to fit it): the command
needs the simulated clock and an instance where no case has run yet; it moves the clock about 19
months on. The people it creates get random passwords nobody knows: the demo logins stay the
`demo_*` users of `certflow init --demo`."""

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

TIMELINE_START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # 09:00 China time


@click.command("seed-compliance")
@with_appcontext
def seed_compliance_command() -> None:
    """Drive the compliance demo cases through the processes (once, on a fresh instance)."""
    from sqlalchemy import select

    from certflow.db import db
    from certflow.models import User
    from engine.records import record_clock_change
    from engine.service import InstanceFilter
    from scenarios.compliance_dataset import build_compliance_dataset

    engine = current_app.extensions["certflow.engine"]
    clock = current_app.extensions["certflow.clock"]
    if not clock.simulated:
        raise click.ClickException("the demo moves the clock: start with CERTFLOW_CLOCK=simulated")
    if db.session.scalars(select(User.id).where(User.username == "seed_desk")).first():
        raise click.ClickException("the compliance demo data is already there (user seed_desk)")
    running, _ = engine.page_instances(InstanceFilter(everything=True), limit=1)
    if running:
        raise click.ClickException(
            f"{running} process instances exist: the demo needs an instance where no case has run"
        )
    before = set(db.session.scalars(select(User.username)))
    record_clock_change(
        db.session, actor="cli:seed-compliance", before=clock.now(), after=TIMELINE_START
    )
    clock.set(TIMELINE_START)  # the audit trail shows it (issue 13); the timers' moves are swept
    started = time.perf_counter()

    def progress(step: str) -> None:
        click.echo(f"[{time.perf_counter() - started:5.1f} s] {step}")

    dataset = build_compliance_dataset(
        current_app,
        engine,
        clock,
        Path(current_app.instance_path) / "uploads",
        deploy=not engine.latest_processes(),
        progress=progress,
    )
    for user in db.session.scalars(select(User).where(User.username.not_in(before))):
        user.set_password(secrets.token_urlsafe(24))  # nobody signs in as the scenario's people
    db.session.commit()
    seeded = dataset.seeded
    breaches = sum(len(seeded.breaches(key)) for key in seeded.expected)
    click.echo(
        f"seeded {len(seeded.organisations)} organisations with {breaches} known breaches in "
        f"{dataset.seconds:.0f} s; the clock is at {dataset.today}: open /quality/compliance"
    )
