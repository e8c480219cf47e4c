"""`certflow generate`: certified clients with their history, in bulk (issue 16: data volume).

Each generated client has the rows a certification case granted at its initial audit leaves:
organisation, site, application, certificate with its `issued` event and announcement
(domain/bulk_certificates.py), and its finished certification instance with the human tasks and
the event log of a real case, already pruned (engine/bulk_history.py). The real case is the
history template `cli/data/certification_history.json`, recorded from a case run through the
engine (tests/platform/test_generated_history.py checks it still matches and re-records it with
CERTFLOW_RECORD_HISTORY=1). Certificates are issued over the last 3 years; nothing runs (no
surveillance instance is started for them).
"""

import json
import random
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext

TEMPLATE = Path(__file__).parent / "data" / "certification_history.json"
STAR_LEVELS = (1, 2, 3, 4, 5)
STAR_WEIGHTS = (1, 3, 5, 4, 2)
NINE_AM_CHINA = time(1, 0, tzinfo=UTC)


def completed_by(template: dict, element_id: str) -> str:
    for task in template["tasks"]:
        if task["element_id"] == element_id and task["completed_by"]:
            return task["completed_by"]
    return "system"


def generate(engine, session, template: dict, count: int, *, batch: int, seed: int, progress):
    """Write `count` certified clients in transactions of `batch`; their certificate ids."""
    from sqlalchemy import func, select

    from domain.bulk_certificates import (
        CertifiedClient,
        application_numbers,
        client_identity,
        insert_certified_clients,
    )
    from domain.models import Organisation
    from engine.service import FinishedHistory
    from webapp import get_settings

    settings = get_settings()
    rng = random.Random(seed)
    today = engine.clock.now().date()
    first_serial = (session.scalar(select(func.max(Organisation.id))) or 0) + 1
    reviewer = completed_by(template, "Task_AcceptanceReview")
    decider = completed_by(template, "Task_CertificationDecision")
    duration = timedelta(seconds=template["ended_after"])
    certificate_ids: list[int] = []
    for offset in range(0, count, batch):
        serials = range(first_serial + offset, first_serial + min(count, offset + batch))
        issued = [today - timedelta(days=rng.randrange(1, 3 * 365)) for _ in serials]
        decided = [datetime.combine(day, NINE_AM_CHINA) for day in issued]
        numbers = application_numbers(session, [moment - duration for moment in decided])
        clients, histories = [], []
        for serial, issued_on, decided_at, number in zip(
            serials, issued, decided, numbers, strict=True
        ):
            submitted_at = decided_at - duration
            who = client_identity(serial)
            client = f"client_{serial}"
            level = rng.choices(STAR_LEVELS, STAR_WEIGHTS)[0]
            answers = {key: who[key] for key in ("org_name", "uscc", "address", "contact_name")}
            histories.append(
                FinishedHistory(
                    business_key=number,
                    started_at=submitted_at,
                    client=client,
                    answers={**answers, "requested_level": level},
                )
            )
            clients.append(
                CertifiedClient(
                    serial=serial,
                    application_number=number,
                    instance_id=0,
                    submitted_at=submitted_at,
                    decided_at=decided_at,
                    issued_on=issued_on,
                    star_level=level,
                    client=client,
                    reviewer=reviewer,
                    decider=decider,
                )
            )
        instance_ids = engine.insert_finished_histories(template, histories)
        clients = [
            CertifiedClient(**{**vars(client), "instance_id": instance_id})
            for client, instance_id in zip(clients, instance_ids, strict=True)
        ]
        ids = insert_certified_clients(
            session,
            clients,
            signatory=settings.certificate_signatory,
            signatory_title=settings.certificate_signatory_title,
        )
        session.commit()
        certificate_ids += ids
        progress(len(ids))
    return certificate_ids


@click.command("generate")
@click.option("--certificates", "count", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--seed", type=int, default=16, show_default=True)
@click.option("--template", type=click.Path(exists=True, dir_okay=False), default=str(TEMPLATE))
@with_appcontext
def generate_command(count: int, batch: int, seed: int, template: str) -> None:
    """Generate COUNT certified clients with their history (deploy the processes first)."""
    from flask import current_app

    from certflow.db import db

    engine = current_app.extensions["certflow.engine"]
    history = json.loads(Path(template).read_text(encoding="utf-8"))
    with click.progressbar(length=count, label="certificates", file=sys.stderr) as bar:
        ids = generate(
            engine, db.session, history, count, batch=batch, seed=seed, progress=bar.update
        )
    click.echo(f"generated {len(ids)} certificates (ids {ids[0]}–{ids[-1]})")
