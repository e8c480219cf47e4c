"""The client's records of mark use the certification body holds (R-10.1 a, R-10.2): the plaques
issued with their state (R-10.1 f) and the mark artwork downloads, shown to the auditor in the
surveillance review (task panel `mark_use`, processes/task_context.yaml; staff only) and on the
case page (whoever may see the case: its staff and the organisation's own clients)."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from certflow.db import db
from domain.mark_artwork import downloads_of
from domain.mark_plaque import PlaqueView, plaques_of
from domain.models import Certificate
from domain.models_marks import MarkArtworkDownload


@dataclass
class MarkUse:
    plaques: list[PlaqueView] = field(default_factory=list)
    downloads: list[MarkArtworkDownload] = field(default_factory=list)
    numbers: dict[int, str] = field(default_factory=dict)  # certificate id → number


def certificate_ids_of(organisation_id: int) -> dict[int, str]:
    rows = db.session.execute(
        select(Certificate.id, Certificate.number).where(
            Certificate.organisation_id == organisation_id
        )
    ).all()
    return {row.id: row.number for row in rows}


def mark_use_of_organisation(organisation_id: int) -> MarkUse:
    return mark_use_of_certificates(certificate_ids_of(organisation_id))


def mark_use_of_certificates(numbers: dict[int, str]) -> MarkUse:
    """The records of these certificates (certificate id → number), e.g. those a page has read."""
    ids = sorted(numbers)
    return MarkUse(plaques_of(db.session, ids), downloads_of(db.session, ids), numbers)


def mark_use_of_task(data: dict[str, Any]) -> MarkUse:
    """The records of the organisation of the task's certificate (`certificate_id`)."""
    certificate_id = data.get("certificate_id")
    if not isinstance(certificate_id, int) or isinstance(certificate_id, bool):
        return MarkUse()
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return MarkUse()
    return mark_use_of_organisation(certificate.organisation_id)
