"""`certflow seed-compliance`: the compliance demo data (issue 13) — nine organisations through
their cycles with a known breach of every measured rule (domain/compliance/seed.py), for the
quality manager's dashboard (`/quality/compliance`) and the management-review report."""

import click
from flask.cli import with_appcontext


@click.command("seed-compliance")
@with_appcontext
def seed_compliance_command() -> None:
    """Add the compliance demo data (once; refuses when it is already there)."""
    from certflow.db import db
    from domain.compliance.seed import seed_compliance

    try:
        seeded = seed_compliance(db.session)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    breaches = sum(len(seeded.breaches(key)) for key in seeded.expected)
    click.echo(
        f"seeded {len(seeded.organisations)} organisations with {breaches} known breaches; "
        "open /quality/compliance (period up to 2026-12-01)"
    )
