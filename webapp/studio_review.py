"""Reviewing a draft (issue 12, ISO/IEC 17065 §8.3): the quality manager sees what changed
against the deployed version — added, removed and changed elements listed and coloured on the
diagram, the draft's validation result and what it does to the rules (webapp/studio_effect.py) —
and approves (the review process deploys it) or returns it with comments.

The decision completes the review process's task through the engine: its guard refuses the
draft's author (four eyes, 403), its form check a return without comments (422)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from certflow.db import db
from domain.definition_diff import diff_definitions
from engine.errors import EngineError
from engine.service import TaskFilter
from engine.sources import version_sources
from webapp.auth import current_viewer, deny, roles_required
from webapp.runtime import get_engine
from webapp.studio import READERS, REVIEW_PROCESS, REVIEWERS, bp, get_draft, problems_of
from webapp.studio_decisions import decision_changes_shown
from webapp.studio_effect import draft_effect, rule_summary, traceability_data
from webapp.studio_forms import form_changes


def review_task(draft_id: int):
    """The open review task of the draft, or None."""
    tasks = get_engine().list_tasks(
        TaskFilter(state="open", process_id=REVIEW_PROCESS, business_key=f"DRAFT-{draft_id}")
    )
    return tasks[0] if tasks else None


def base_files(draft) -> dict[str, str]:
    if draft.base_version is None:
        return draft.files
    return version_sources(db.session, draft.process_id, draft.base_version).files


def base_source(draft) -> str:
    if draft.base_version is None:
        return draft.files[draft.main_path]
    sources = version_sources(db.session, draft.process_id, draft.base_version)
    return sources.files[sources.main_path]


@bp.get("/drafts/<int:draft_id>/review")
@roles_required(*READERS)
def review(draft_id: int):
    draft = get_draft(draft_id)
    return _review_page(draft)


def _review_page(draft, errors: dict | None = None, status: int = 200):
    diff = diff_definitions(base_source(draft), draft.files[draft.main_path])
    task = review_task(draft.id)
    traceability = traceability_data()
    may_decide = (
        task is not None
        and bool(current_viewer().roles & set(REVIEWERS))
        and draft.author != current_viewer().username
    )
    page = render_template(
        "studio/review.html",
        draft=draft,
        diff=diff,
        effect=draft_effect(draft, problems_of(draft, draft.files)),
        rule_summary=lambda rule: rule_summary(rule, traceability),
        task=task,
        may_decide=may_decide,
        errors=errors or {},
        form=request.form,
        form_changes=form_changes(base_files(draft), draft.files),
        **decision_changes_shown(base_files(draft), draft.files),
    )
    return page, status


@bp.post("/drafts/<int:draft_id>/decide")
@roles_required(*REVIEWERS)
def decide(draft_id: int):
    draft = get_draft(draft_id)
    task = review_task(draft.id)
    if task is None:
        return deny(404, f"draft {draft.id} has no open review")
    approved = request.form.get("decision") == "approve"
    data = {"approved": approved, "comments": request.form.get("comments", "").strip()}
    try:
        get_engine().complete_task(task.id, actor=current_viewer().actor, data=data)
    except EngineError as err:
        if err.status in (403, 404):
            return deny(err.status, err.message)
        db.session.rollback()
        errors = getattr(err, "errors", None) or {"_form": [err.message]}
        return _review_page(get_draft(draft_id), errors, 409 if err.status == 409 else 422)
    draft = get_draft(draft_id)
    db.session.refresh(draft)
    if draft.status == "approved":
        flash(_("Approved: version %(v)s is in force.", v=draft.deployed_version), "success")
    elif draft.status == "rejected":
        flash(_("Returned to the author with your comments."), "success")
    else:
        flash(_("The decision was recorded but the deployment stopped; see the incident."), "error")
    return redirect(url_for("studio.review", draft_id=draft.id)), 303
