"""Generated written notices and reports, stored with the case (R-6.2.2b, R-7.2.5, R-8.6 …)."""

from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from domain.letter_templates import render_letter
from domain.models import Document


def create_document(
    session: Session,
    *,
    kind: str,
    title: str | None = None,
    title_facts: dict[str, Any] | None = None,
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
    keeps the facts it states in machine-readable form (for tests, PDFs and the registry).
    `title_facts` (the reference …) give the title of its kind from the letters catalogue
    (`document_title`), kept so that a page shows it in its own language (`shown_title`);
    `title` is a title as is."""
    if (body is None) == (lines is None):
        raise ValueError("give exactly one of body and lines")
    if (title is None) == (title_facts is None):
        raise ValueError("give exactly one of title and title_facts")
    if title_facts is not None:  # the title from the letters catalogue, shown per page language
        title = document_title(kind, **title_facts)
        data = {**(data or {}), TITLE_FACTS: title_facts}
    document = Document(
        kind=kind,
        title=str(title),
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


# -- titles (issue 10: one language per title, from the letters catalogue) ----------------------
TITLE_FACTS = "title_facts"  # the key of `Document.data` keeping the facts the title names


def document_title(kind: str, *, locale: str | None = None, **facts: Any) -> str:
    """The title of a document of `kind` naming `facts` (its reference …), from the letters
    catalogue (`domain/letters/_titles.md.j2`) in `locale` — by default the document locale the
    handler renders in (CERTFLOW_DOCUMENT_LOCALE). ValueError for a kind without a title."""
    title = render_letter("_titles", locale=locale, kind=kind, **facts).strip()
    if not title:
        raise ValueError(f"no title for documents of kind {kind!r}")
    return title


def shown_title(document: Document, locale: str) -> str:
    """The document's title in a page's language (`zh_CN` or `en`): rendered again from its
    kind and the facts stored with it; a document stored without them keeps its own title."""
    facts = (document.data or {}).get(TITLE_FACTS)
    if not isinstance(facts, dict):
        return document.title
    try:
        return document_title(document.kind, locale=locale, **facts)
    except (ValueError, TemplateError, TypeError):
        return document.title
