"""The audit programme's revisions on the case page and the scheduler's revision of a programme
(`/cases/<organisation>/programmes/<programme>/revise`; R-7.1.2 审查方案的确定和任何后续调整).

* Only REVISE_PROGRAMME (scheduler, admin — the permission table's allowlist) may revise; others
  403, logged. The programme must be of a case the user may see (else 404, logged).
* CSRF on the form (Flask-WTF, as everywhere). The rules are domain/programme_revisions.py's; a
  refusal is shown on its field with the rule (422) and nothing is written.
* The case page lists every programme of the case with its numbered revisions (staff only: the
  programme is the certification body's own planning).
"""

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from certflow.db import db
from certflow.permissions import Permission, may, roles_with
from domain.errors import RuleViolation
from domain.models import AuditProgramme, ProgrammeActivity
from domain.programme_revisions import (
    MANUAL_REASONS,
    revise_programme,
    revisions_of_programmes,
)
from webapp.auth import current_viewer, deny, roles_required
from webapp.case_labels import label
from webapp.cases import display_names, visible_case
from webapp.runtime import get_clock

bp = Blueprint("programmes", __name__)
REVISE_ROLES = tuple(sorted(roles_with(Permission.REVISE_PROGRAMME)))

REASONS = {
    "audit_results": lazy_gettext("Results of earlier audits"),
    "client_size": lazy_gettext("Size of the client"),
    "scope_complexity": lazy_gettext("Service scope and complexity"),
    "service_quality": lazy_gettext("Proven level of service quality"),
    "client_change": lazy_gettext("Major change at the client"),
    "complaint": lazy_gettext("Complaints"),
    "other": lazy_gettext("Other reason"),
    "established": lazy_gettext("Programme established"),
    "cycle_set": lazy_gettext("Certification cycle started"),
    "surveillance": lazy_gettext("Surveillance planned or extended"),
    "baseline": lazy_gettext("Programme as found (earlier history not kept)"),
}
FIELDS = {
    "cycle_start": lazy_gettext("Cycle starts"),
    "cycle_end": lazy_gettext("Cycle ends"),
    "man_days": lazy_gettext("Man-days"),
    "sizing_notes": lazy_gettext("Sizing notes"),
    "mystery_shopping": lazy_gettext("Mystery shopping"),
    "random_survey": lazy_gettext("Random survey"),
    "shift_work_notes": lazy_gettext("Shift work"),
    "shifts": lazy_gettext("Shifts"),
    "added": lazy_gettext("Activity added"),
    "planned_date": lazy_gettext("Planned date"),
    "due_date": lazy_gettext("Due date"),
    "hard_limit_date": lazy_gettext("Latest possible date"),
    "window_opens_on": lazy_gettext("Window opens"),
    "status": lazy_gettext("Status"),
    "extension_requested_to": lazy_gettext("Extension requested to"),
    "extension_approved": lazy_gettext("Extension approved"),
}
ACTIVITIES = {
    "document_review": lazy_gettext("Document review"),
    "initial_audit": lazy_gettext("Initial audit"),
    "surveillance_1": lazy_gettext("First surveillance"),
    "surveillance_2": lazy_gettext("Second surveillance"),
    "extra_surveillance": lazy_gettext("Extra surveillance"),
    "recertification": lazy_gettext("Recertification"),
}


def _value(value: Any) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return "、".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    return label("audit", value) if value in ("planned", "completed") else str(value)


def change_rows(changes: list[dict]) -> list[dict[str, str]]:
    """A revision's changes as a person reads them: what (activity and field), before, after."""
    return [
        {
            "activity": str(ACTIVITIES.get(c.get("activity") or "", c.get("activity") or "")),
            "field": str(FIELDS.get(c["field"], c["field"])),
            "before": _value(c.get("before")),
            "after": _value(c.get("after")),
        }
        for c in changes
    ]


def programme_history(organisation_id: int) -> list[dict[str, Any]]:
    """Every programme of the case with its revisions, newest programme first."""
    programmes = db.session.scalars(
        select(AuditProgramme)
        .where(AuditProgramme.organisation_id == organisation_id)
        .order_by(AuditProgramme.id.desc())
    ).all()
    # The revisions of every programme and who made them: two queries for the whole case.
    by_programme = revisions_of_programmes(db.session, [p.id for p in programmes])
    names = display_names({r.revised_by for rs in by_programme.values() for r in rs})
    result = []
    for programme in programmes:
        revisions = by_programme[programme.id]
        result.append(
            {
                "programme": programme,
                "revisions": [
                    {
                        "revision": r,
                        "reason_kind": str(REASONS.get(r.reason_kind, r.reason_kind)),
                        "who": names.get(r.revised_by, r.revised_by),
                        "changes": change_rows(r.changes or []),
                    }
                    for r in reversed(revisions)
                ],
            }
        )
    return result


@bp.app_context_processor
def _programme_helpers() -> dict[str, Any]:
    def may_revise_programme() -> bool:
        return may(current_viewer().roles, Permission.REVISE_PROGRAMME)

    return {"programme_history": programme_history, "may_revise_programme": may_revise_programme}


# -- the scheduler's revision ---------------------------------------------------------------------
def _programme_of_case(organisation_id: int, programme_id: int):
    organisation, refused = visible_case(organisation_id)
    if organisation is None:
        return None, None, refused
    programme = db.session.get(AuditProgramme, programme_id) if 0 < programme_id < 2**31 else None
    if programme is None or programme.organisation_id != organisation.id:
        return None, None, deny(404, f"programme {programme_id} is not part of this case")
    return organisation, programme, None


def _activities(programme: AuditProgramme) -> list[ProgrammeActivity]:
    return list(
        db.session.scalars(
            select(ProgrammeActivity)
            .where(ProgrammeActivity.programme_id == programme.id)
            .order_by(ProgrammeActivity.id)
        )
    )


def _message(violation: RuleViolation) -> str:
    """The refusal in the reader's language, with the rule it keeps."""
    field = violation.field or ""
    if violation.rule == "R-7.1.3":
        return _("The planned date is after the latest date of this activity (rule 7.1.3).")
    if violation.rule == "R-8.1":
        return _("The document review must come before the initial audit (rule 8.1).")
    if field.startswith("planned_date_"):
        return _("This activity is no longer planned: its date cannot change.")
    messages = {
        "reason": _("Say what the adjustment considers (rule 7.1.2)."),
        "man_days": _("Enter at least 0.5 man-days (rule 7.1.2)."),
    }
    if field == "reason_kind":
        if request.form.get("reason_kind") in MANUAL_REASONS:
            return _("Nothing in the programme changed.")
        return _("Choose the reason of the adjustment (rule 7.1.2).")
    return messages.get(field, _("This value breaks rule %(rule)s.", rule=violation.rule))


def _form_page(organisation, programme, form, errors, status=200):
    return (
        render_template(
            "cases/programme_revise.html",
            organisation=organisation,
            programme=programme,
            activities=_activities(programme),
            activity_names=ACTIVITIES,
            reasons=[(code, REASONS[code]) for code in MANUAL_REASONS],
            form=form,
            errors=errors,
        ),
        status,
    )


@bp.route(
    "/cases/<int:organisation_id>/programmes/<int:programme_id>/revise", methods=["GET", "POST"]
)
@roles_required(*REVISE_ROLES)
def revise(organisation_id: int, programme_id: int):
    organisation, programme, refused = _programme_of_case(organisation_id, programme_id)
    if programme is None:
        return refused
    if request.method == "GET":
        return _form_page(organisation, programme, {}, {})
    form = request.form
    planned = {
        name.removeprefix("planned_date_"): form.get(name, "").strip()
        for name in form
        if name.startswith("planned_date_")
    }
    act = SimpleNamespace(
        session=db.session, now=get_clock().now(), actor=current_viewer().username
    )
    try:
        revision = revise_programme(
            act,
            programme.id,
            reason_kind=form.get("reason_kind", ""),
            reason=form.get("reason", ""),
            man_days=form.get("man_days", "").strip() or None,
            sizing_notes=form.get("sizing_notes"),
            mystery_shopping=form.get("mystery_shopping") == "1",
            random_survey=form.get("random_survey") == "1",
            planned_dates=planned,
        )
    except RuleViolation as violation:
        db.session.rollback()
        errors = {violation.field or "reason_kind": [_message(violation)]}
        organisation, programme, _refused = _programme_of_case(organisation_id, programme_id)
        return _form_page(organisation, programme, form, errors, 422)
    db.session.commit()
    flash(_("Revision %(number)d of the audit programme was recorded.", number=revision.number))
    return redirect(url_for("cases.show", organisation_id=organisation.id) + "#programmes")
