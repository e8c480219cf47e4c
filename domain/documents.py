"""Generated written notices and reports, stored with the case (R-6.2.2b, R-7.2.5, R-8.6 …)."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.models import Document


def create_document(
    session: Session,
    *,
    kind: str,
    title: str,
    lines: list[str] | None = None,
    body: str | None = None,
    organisation_id: int | None,
    created_by: str,
    now: datetime,
    application_id: int | None = None,
    audit_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Document:
    """Store a document whose body is Markdown — `body`, rendered from a letter template
    (domain/letter_templates.py), or the given `lines` (the older way, being replaced); `data`
    keeps the facts it states in machine-readable form (for tests, PDFs and the registry)."""
    if (body is None) == (lines is None):
        raise ValueError("give exactly one of body and lines")
    document = Document(
        kind=kind,
        title=title,
        body=body if body is not None else "\n".join(lines or []) + "\n",
        organisation_id=organisation_id,
        application_id=application_id,
        audit_id=audit_id,
        data=data or {},
        created_by=created_by,
        created_at=now,
    )
    session.add(document)
    session.flush()
    return document
