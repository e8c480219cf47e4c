"""The management-review report as PDF (issue 13; ISO/IEC 17065 8.5): `/quality/report.pdf
?from=&to=` — the period's compliance indicators, each breach with its case, the definition
changes of the period with their approvals (the process versions deployed: who, approver, why,
from the engine's version rows and the studio's approved drafts), complaint statistics (R-12).
HTML from templates/quality/report_pdf.html, rendered by WeasyPrint with the CJK font of the
certificate PDFs, in the page's language (Chinese, English with ?lang=en)."""

from dataclasses import dataclass
from datetime import datetime

from flask import Response, render_template
from sqlalchemy import select

from certflow.db import db
from domain.compliance.complaint_rules import statistics
from domain.models_studio import ProcessDraft
from engine.query_figures import DeployedVersion
from webapp.auth import roles_required
from webapp.certificate_pdf import FONT_FAMILY, TEMPLATES
from webapp.complaints import KIND_LABELS
from webapp.quality import QUALITY_ROLES, bp
from webapp.quality.compliance import choices, indicators, parse_query, refused, texts, today
from webapp.quality.compliance_query import FilterError
from webapp.runtime import get_clock, get_engine


@dataclass(frozen=True)
class DefinitionChange:
    version: DeployedVersion
    author: str | None  # from the studio's approved draft; None: deployed from the repository
    approver: str | None
    reason: str


def definition_changes(start: datetime, end: datetime) -> list[DefinitionChange]:
    """The versions deployed in [start, end), each with the approved draft that made it."""
    changes = []
    for version in get_engine().deployed_versions(start, end):
        draft = db.session.scalars(
            select(ProcessDraft).where(
                ProcessDraft.process_id == version.process_id,
                ProcessDraft.deployed_version == version.version,
                ProcessDraft.status == "approved",
            )
        ).first()
        changes.append(
            DefinitionChange(
                version,
                draft.author if draft else None,
                draft.reviewer if draft else None,
                draft.reason if draft else version.comment,
            )
        )
    return changes


@bp.get("/report.pdf")
@roles_required(*QUALITY_ROLES)
def report_pdf():
    options = choices()
    try:
        query = parse_query(options)
    except FilterError as error:
        return refused(options, error, "quality/compliance.html")  # the filters, with the error
    start, end = query.utc_bounds
    html = render_template(
        "quality/report_pdf.html",
        query=query,
        results=indicators(query),
        changes=definition_changes(start, end),
        complaints=statistics(db.session, query.start, query.end, today()),
        kind_labels=KIND_LABELS,
        generated_at=get_clock().now(),
        font_family=FONT_FAMILY,
        organisation_name=dict(options.organisations).get(query.organisation),
        **texts(),
    )
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    response = Response(pdf, mimetype="application/pdf")
    name = f"management-review-{query.start.isoformat()}-{query.end.isoformat()}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response
