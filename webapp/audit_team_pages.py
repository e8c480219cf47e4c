"""The audit's work allocation and team while the audit is under way (`/audits/<id>/team`;
R-7.3 在审查进程中…可以改变工作分配, R-8.5.3 the leader reassigns work, R-7.2.1 the scheduler
appoints the team).

* The page: staff who may see the audit's case (else 404, logged); clients never (internal).
* Reassigning an activity of the plan: the appointed team leader only (domain/audit/
  reassignment.py decides; anyone else 403, logged).
* Replacing a member: CHANGE_AUDIT_TEAM (scheduler, admin — the permission table's allowlist;
  others 403, logged), checked with the appointment's rules (domain/audit/team_change.py); the
  replaced member's open tasks of the case pass to the new member (the engine's reassignment,
  by the system on the scheduler's decision).
* CSRF on every form; a refusal is shown with the rule (422) and nothing is written.
"""

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from certflow.permissions import Permission, may, roles_with
from domain.audit.reassignment import reassign_work, require_leader
from domain.audit.team_change import replace_member
from domain.errors import RuleViolation
from domain.models import Audit, Auditor
from domain.options import OptionContext
from domain.options_audit import auditors as auditor_choices
from domain.said import in_language
from engine.errors import EngineError
from engine.service import SYSTEM, Actor, TaskFilter
from webapp.access import organisation_link
from webapp.auth import current_viewer, deny, roles_required
from webapp.cases import visible_case
from webapp.runtime import get_clock, get_engine

bp = Blueprint("audit_team", __name__)
TEAM_ROLES = tuple(sorted(roles_with(Permission.CHANGE_AUDIT_TEAM)))
ROLE_ORDER = ("leader", "auditor", "tech_expert")


def _act() -> SimpleNamespace:
    return SimpleNamespace(
        session=db.session, now=get_clock().now(), actor=current_viewer().username
    )


def _locale() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def _visible_audit(audit_id: int) -> tuple[Audit | None, Any]:
    audit = db.session.get(Audit, audit_id) if 0 < audit_id < 2**31 else None
    if audit is None:
        return None, deny(404, f"audit {audit_id} does not exist")
    if not current_viewer().is_staff:
        return None, deny(404, f"audit {audit.id} is the certification body's own record")
    organisation, refused = visible_case(audit.organisation_id)
    if organisation is None:
        return None, refused
    return audit, None


def _is_leader(audit: Audit) -> bool:
    try:
        require_leader(db.session, audit, current_viewer().username)
    except RuleViolation:
        return False
    return True


def _page(audit: Audit, status: int = 200, **values: Any):
    names = {
        a.id: a.name
        for a in db.session.scalars(
            select(Auditor).where(Auditor.id.in_([m.auditor_id for m in audit.team] or [0]))
        )
    }
    plan = audit.plan or {}
    may_change_team = may(current_viewer().roles, Permission.CHANGE_AUDIT_TEAM)
    candidates = []
    if may_change_team:
        context = OptionContext(db.session, get_clock().now(), {"audit_id": audit.id})
        on_team = {m.auditor_id for m in audit.team}
        candidates = [
            {"value": c.value, "label": c.label, "refusal": in_language(c.refusal, _locale())}
            for c in auditor_choices(context)
            if c.value not in on_team
        ]
    return (
        render_template(
            "cases/audit_team.html",
            audit=audit,
            activities=plan.get("activities") or [],
            reassignments=list(reversed(plan.get("reassignments") or [])),
            team_changes=list(reversed(plan.get("team_changes") or [])),
            names=names,
            team=sorted(
                audit.team, key=lambda m: ("leader", "auditor", "tech_expert").index(m.role)
            ),
            is_leader=_is_leader(audit),
            may_change_team=may_change_team,
            candidates=candidates,
            form=request.form if request.method == "POST" else {},
            errors=values.pop("errors", {}),
            refusals=values.pop("refusals", []),
            **values,
        ),
        status,
    )


@bp.get("/audits/<int:audit_id>/team")
@login_required
def show(audit_id: int):
    audit, refused = _visible_audit(audit_id)
    if audit is None:
        return refused
    return _page(audit)[0]


@bp.post("/audits/<int:audit_id>/work")
@login_required
def reassign(audit_id: int):
    audit, refused = _visible_audit(audit_id)
    if audit is None:
        return refused
    if not _is_leader(audit):
        return deny(403, "R-8.5.3: only the appointed team leader reassigns the team's work")
    form = request.form
    try:
        reassign_work(
            _act(),
            audit.id,
            activity_index=_int(form.get("activity_index")),
            auditor_id=_int(form.get("auditor_id")),
            reason=form.get("reason", ""),
        )
    except RuleViolation as violation:
        db.session.rollback()
        message = _work_message(violation)
        return _page(db.session.get(Audit, audit_id), 422, errors={"work": [message]})
    db.session.commit()
    flash(_("The work was reassigned."), "success")
    return redirect(url_for("audit_team.show", audit_id=audit.id))


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else value


def _work_message(violation: RuleViolation) -> str:
    if violation.rule == "R-7.2.4":
        return _("Only an auditor of this team; technical experts never audit (rule 7.2.4).")
    if violation.field == "reason":
        return _("Say why the work changes (rule 7.3).")
    if violation.field == "auditor_id":
        return _("The activity is already this auditor's.")
    return _("The work cannot be reassigned now (rule 7.3).")


@bp.post("/audits/<int:audit_id>/team")
@roles_required(*TEAM_ROLES)
def replace(audit_id: int):
    audit, refused = _visible_audit(audit_id)
    if audit is None:
        return refused
    form = request.form
    try:
        result = replace_member(
            _act(),
            audit.id,
            replaced_auditor_id=_int(form.get("replaced_auditor_id")),
            new_auditor_id=_int(form.get("new_auditor_id")),
            reason=form.get("reason", ""),
        )
    except RuleViolation as violation:
        db.session.rollback()
        message = (
            _("Say why the member is replaced (rule 7.3).")
            if violation.field == "reason"
            else _("Choose a member of this team and the person to appoint (rule 7.3).")
        )
        return _page(db.session.get(Audit, audit_id), 422, errors={"team": [message]})
    if not result["replaced"]:
        db.session.rollback()
        refusals = [in_language(r, _locale()) for r in result["refusals"]]
        return _page(db.session.get(Audit, audit_id), 422, refusals=refusals)
    db.session.commit()
    moved, kept = pass_on_tasks(
        audit.organisation_id, result["from_username"], result["to_username"]
    )
    flash(
        _(
            "%(new)s replaces %(old)s; %(moved)d open task(s) passed on.",
            new=result["change"]["to_name"],
            old=result["change"]["from_name"],
            moved=moved,
        ),
        "success",
    )
    if kept:
        flash(_("%(n)d task(s) could not pass on: reassign them from the task page.", n=kept))
    return redirect(url_for("audit_team.show", audit_id=audit.id))


def pass_on_tasks(organisation_id: int, from_username: str | None, to_username: str | None):
    """The replaced member's open tasks of the case go to the new member (the engine's
    reassignment, as the system carrying out the scheduler's decision). → (moved, kept)."""
    if not from_username or not to_username:
        return 0, 0
    engine = get_engine()
    tasks = engine.list_tasks(
        TaskFilter(instance_linked_to=organisation_link(organisation_id), assignee=from_username)
    )
    user = db.session.scalars(select(User).where(User.username == to_username)).first()
    if user is None:
        return 0, len(tasks)
    assignee = Actor(user.username, frozenset(user.roles))
    moved = 0
    for task in tasks:
        try:
            engine.reassign(task.id, assignee=assignee, actor=SYSTEM)
            moved += 1
        except EngineError:
            continue
    return moved, len(tasks) - moved
