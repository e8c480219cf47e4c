"""The audit trail (issue 13, R-13): operations that changed definitions or cases outside a
normal task, searchable by who, what, when and case, paged, exportable as CSV."""

import csv
import io

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from webapp.auth import roles_required
from webapp.i18n import localtime
from webapp.paging import PageLinks, page_arg, page_count
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.quality.filters import period_args, text_arg
from webapp.quality.trail_data import KIND_LABELS, TrailFilter, trail

PAGE_SIZE = 50
section(
    "quality.audit_trail",
    lazy_gettext("Audit trail"),
    lazy_gettext(
        "Deployments and approvals, incident repairs, reassignments, clock changes, user and "
        "auditor register changes: by whom, when, on which case."
    ),
    order=20,
)


def _filter(errors: dict[str, str]) -> TrailFilter:
    kind = text_arg("kind")
    if kind and kind not in KIND_LABELS:
        errors["kind"] = _("Choose a kind of operation from the list.")
        kind = ""
    since, until = period_args(errors)
    return TrailFilter(text_arg("who"), kind, since, until, text_arg("case"))


@bp.get("/trail")
@roles_required(*QUALITY_ROLES)
def audit_trail():
    errors: dict[str, str] = {}
    flt = _filter(errors)
    entries = [] if errors else trail(flt)
    page = page_arg()
    pages = page_count(len(entries), PAGE_SIZE)
    page = min(page, pages)
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    body = render_template(
        "quality/trail.html",
        entries=shown,
        total=len(entries),
        page=page,
        pages=pages,
        kinds=KIND_LABELS,
        errors=errors,
        args=request.args,
        query=PageLinks("quality.audit_trail"),
    )
    return body, 422 if errors else 200


@bp.get("/trail.csv")
@roles_required(*QUALITY_ROLES)
def audit_trail_csv():
    errors: dict[str, str] = {}
    flt = _filter(errors)
    if errors:
        text = "\n".join(f"{field}: {message}" for field, message in errors.items())
        return Response(text, 422, mimetype="text/plain")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Time"), _("Who"), _("Operation"), _("Case"), _("Details")])
    for entry in trail(flt):
        writer.writerow(
            [
                localtime(entry.at, "%Y-%m-%d %H:%M:%S"),
                entry.who,
                str(KIND_LABELS[entry.kind]),
                entry.case,
                entry.details,
            ]
        )
    # A byte-order mark so that spreadsheet programs read the UTF-8 (Chinese) correctly.
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-trail.csv"},
    )
