"""The auditor register for HR (`/hr/auditors`; R-7.2.2 由人力资源部评价): list (all, or the
registrations lapsed or ending within 90 days), register an auditor or technical expert,
and per auditor the record, its history, an evaluation and a renewal.

* Only MANAGE_AUDITORS (hr, admin) — the permission table's allowlist; others 403, logged.
* CSRF on every form (Flask-WTF, as everywhere). The rules are domain/auditor_register.py's;
  a refusal is shown on its field with the rule (422), nothing is written.
* The team appointment's auditor choices read the same records (domain/options_audit.py).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import Session

from certflow.dates import china_date
from certflow.db import db
from domain import auditor_register as register
from domain.models import Auditor
from webapp.access import AUDITOR_REGISTER_ROLES
from webapp.auth import current_viewer, deny, roles_required
from webapp.layout import nav_item
from webapp.people_labels import language_names
from webapp.runtime import get_clock

bp = Blueprint("hr", __name__, url_prefix="/hr")
HR_ROLES = tuple(sorted(AUDITOR_REGISTER_ROLES))  # the allowlist of webapp/access.py
nav_item("hr.auditors", lazy_gettext("Auditor register"), roles=HR_ROLES, order=85)


@dataclass
class _Act:
    session: Session
    now: datetime
    actor: str


def _act() -> _Act:
    return _Act(db.session, get_clock().now(), current_viewer().username)


def _today() -> date:
    return china_date(get_clock().now())


def _day(form: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


def _labels() -> dict[str, dict[str, str]]:
    return {
        "level": {
            "intern": _("Intern auditor"),
            "auditor": _("Auditor"),
            "senior": _("Senior auditor"),
        },
        "field": {"after_sales_service": _("After-sales service certification")},
        "result": {"qualified": _("Qualified"), "not_qualified": _("Not qualified")},
        "kind": {
            "registered": _("Registered"),
            "evaluated": _("Evaluated"),
            "renewed": _("Renewed"),
        },
        "language": language_names(),
    }


def _page(template: str, status: int = 200, **values: Any):
    return (
        render_template(
            template,
            labels=_labels(),
            levels=register.LEVELS,
            fields=register.FIELDS,
            languages=register.LANGUAGES,
            today=_today(),
            **values,
        ),
        status,
    )


def _find(auditor_id: int) -> Auditor | None:
    try:
        return register.get_auditor(db.session, auditor_id)
    except LookupError:
        return None


# -- views ----------------------------------------------------------------------------------------
@bp.get("/auditors")
@roles_required(*HR_ROLES)
def auditors():
    expiring = request.args.get("expiring") == "1"
    found = (
        register.expiring(db.session, _today()) if expiring else register.all_auditors(db.session)
    )
    return _page("hr/auditors.html", auditors=found, expiring=expiring)[0]


@bp.route("/auditors/new", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def new_auditor():
    if request.method == "GET":
        chosen = {"fields": list(register.FIELDS), "languages": ["zh"]}
        return _page("hr/auditor_new.html", form={}, errors={}, chosen=chosen)
    form = request.form
    errors: dict[str, list[str]] = {}
    expires = _day(form, "registration_expires_on", errors)
    record = register.AuditorRecord(
        name=form.get("name", ""),
        registration_number=form.get("registration_number", ""),
        registration_expires_on=expires,
        level=form.get("level") or None,
        team_leader_qualified=form.get("team_leader_qualified") == "1",
        is_technical_expert=form.get("is_technical_expert") == "1",
        fields=form.getlist("fields"),
        languages=form.getlist("languages"),
        username=form.get("username", "").strip() or None,
    )
    try:
        auditor = register.register_auditor(_act(), record) if not errors else None
    except register.RegisterProblems as refused:
        errors = refused.errors
        auditor = None
    if auditor is None:
        db.session.rollback()
        chosen = {"fields": form.getlist("fields"), "languages": form.getlist("languages")}
        return _page("hr/auditor_new.html", 422, form=form, errors=errors, chosen=chosen)
    db.session.commit()
    flash(_("%(name)s was registered.", name=auditor.name), "success")
    return redirect(url_for("hr.show_auditor", auditor_id=auditor.id))


@bp.get("/auditors/<int:auditor_id>")
@roles_required(*HR_ROLES)
def show_auditor(auditor_id: int):
    auditor = _find(auditor_id)
    if auditor is None:
        return deny(404, f"auditor {auditor_id} does not exist")
    return _detail(auditor)[0]


def _detail(auditor: Auditor, status: int = 200, **errors: dict[str, list[str]]):
    return _page(
        "hr/auditor.html",
        status,
        auditor=auditor,
        latest=register.latest_evaluation(auditor),
        renewal_refused=register.renewal_refusal(auditor),
        barred=register.qualification_refusal(auditor),
        evaluation_errors=errors.get("evaluation_errors", {}),
        renewal_errors=errors.get("renewal_errors", {}),
        form=request.form if request.method == "POST" else {},
    )


@bp.post("/auditors/<int:auditor_id>/evaluations")
@roles_required(*HR_ROLES)
def evaluate(auditor_id: int):
    auditor = _find(auditor_id)
    if auditor is None:
        return deny(404, f"auditor {auditor_id} does not exist")
    form = request.form
    errors: dict[str, list[str]] = {}
    evaluated_on = _day(form, "evaluated_on", errors)
    if evaluated_on is None and not errors:
        errors["evaluated_on"] = [_("This field is required.")]
    leader = form.get("team_leader_qualified")
    evaluation = register.Evaluation(
        evaluated_on=evaluated_on or _today(),
        evaluator=form.get("evaluator", ""),
        result=form.get("result", ""),
        note=form.get("note", ""),
        team_leader_qualified=None if leader in (None, "") else leader == "1",
        languages=form.getlist("languages") or None,
    )
    try:
        if not errors:
            register.record_evaluation(_act(), auditor.id, evaluation)
    except register.RegisterProblems as refused:
        errors = refused.errors
    if errors:
        db.session.rollback()
        return _detail(_find(auditor_id), 422, evaluation_errors=errors)
    db.session.commit()
    flash(_("The evaluation was recorded."), "success")
    return redirect(url_for("hr.show_auditor", auditor_id=auditor.id))


@bp.post("/auditors/<int:auditor_id>/renewals")
@roles_required(*HR_ROLES)
def renew(auditor_id: int):
    auditor = _find(auditor_id)
    if auditor is None:
        return deny(404, f"auditor {auditor_id} does not exist")
    errors: dict[str, list[str]] = {}
    expires = _day(request.form, "expires_on", errors)
    if expires is None and not errors:
        errors["expires_on"] = [_("This field is required.")]
    try:
        if not errors:
            register.renew_registration(
                _act(),
                auditor.id,
                expires_on=expires,
                registration_number=request.form.get("registration_number", "") or None,
            )
    except register.RegisterProblems as refused:
        errors = refused.errors
    if errors:
        db.session.rollback()
        return _detail(_find(auditor_id), 422, renewal_errors=errors)
    db.session.commit()
    flash(_("The registration was renewed."), "success")
    return redirect(url_for("hr.show_auditor", auditor_id=auditor.id))
