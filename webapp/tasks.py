"""The task page (`/tasks/<id>`): details, instructions, the form, drafts, comments, follow-up,
claim / unclaim / reassign, and downloads of the case's files (`/files/<id>`).

Every view first checks that the signed-in user may see the task (webapp.access); otherwise the
attempt is logged and answered 404. Whether a task may be claimed or completed, by whom and with
what data is the WorkflowEngine's decision alone: the views call it and show its answer (field
errors, or a 403/404/409 page), without checking its rules first.
"""

import re
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import delete, select

from certflow.db import db
from certflow.models import User
from domain.attachments import (
    attachment_path,
)
from domain.models import Attachment
from engine.errors import EngineError, FormValidationError
from engine.service import Actor, TaskView
from webapp import evidence_checklist, forms_render
from webapp.access import (
    CLIENT_ROLE,
    Viewer,
    instance_organisations,
    may_download,
    may_see_task,
    may_work_on,
)
from webapp.auth import current_viewer, deny, log_access
from webapp.client_data import task_data_for
from webapp.form_errors import parser_errors, worded
from webapp.form_options import with_options
from webapp.form_submission import merge_errors, parse_submission
from webapp.i18n import china_day_start, current_language, safe_next
from webapp.instructions import render_instructions, with_case
from webapp.models import TaskComment, TaskDraft, TaskFollowUp
from webapp.process_texts import localize_schema, ptext
from webapp.runtime import get_clock, get_engine
from webapp.task_comments import comment_visibility, may_write_to_client, visible_comments
from webapp.task_context import task_context
from webapp.task_files import (
    UploadStore,
    attachment_check,
    case_attachments,
    discard_uploads,
    storage_dir,
)

bp = Blueprint("tasks", __name__)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_COMMENT = 4000


def _find_task(task_id: str) -> TaskView | None:
    if not _UUID.fullmatch(task_id):
        return None
    return get_engine().find_task(task_id)


def visible_task(task_id: str) -> tuple[TaskView | None, Any]:
    """(task, None) when the user may see it, else (None, the logged 404 response)."""
    row = _find_task(task_id)
    if row is None:
        return None, deny(404, f"task {task_id[:60]} does not exist")
    if not may_see_task(current_viewer(), row):
        return None, deny(404, f"task {row.id} is not visible to the user")
    return row, None


def _back() -> str:
    return safe_next(request.values.get("next"), url_for("inbox.index"))


def _task_url(row: TaskView) -> str:
    target = request.values.get("next")
    return url_for("tasks.show", task_id=row.id, next=target) if target else _plain_url(row)


def _plain_url(row: TaskView) -> str:
    return url_for("tasks.show", task_id=row.id)


def _failure(err: EngineError, *, back: str | None = None):
    """An engine refusal as a page with its status; refusals of rights are logged."""
    if err.status == 403:
        log_access("denied", status=403, detail=err.message)
        title = _("Not allowed")
    elif err.status == 409:
        title = _("Someone else was quicker")
    elif err.status == 404:
        return deny(404, err.message)
    else:
        title = _("That did not work")
    return (
        render_template(
            "message.html", title=title, message=_engine_message(err), back=back or _back()
        ),
        err.status,
    )


def _engine_message(err: EngineError) -> str:
    claimed = re.match(r"task is (?:already )?claimed by (?P<user>\S+)$", err.message)
    if claimed:
        return _("This task is claimed by %(user)s.", user=claimed.group("user"))
    if err.status == 409 and "already" in err.message:
        return _("This task has already been completed or cancelled.")
    if err.status == 409:
        return _("The case was changed at the same time by someone else. Please try again.")
    if err.status == 403:  # the role, or a guard's reason (e.g. impartiality, R-8.8)
        return _("You may not do this: %(reason)s", reason=err.message)
    return err.message


# -- the page -------------------------------------------------------------------------------------
def reassign_candidates(row: TaskView) -> list[User]:
    """Active users who hold the task's candidate role (for client tasks: users of the task's
    organisation), so the engine's and the visibility rules both accept them."""
    users = db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.username)
    ).all()
    role = row.candidate_role
    organisations = {o.id for o in instance_organisations(row.instance_id, row.business_key)}
    result = []
    for user in users:
        actor = Actor(user.username, frozenset(user.roles))
        if not actor.may_act_for(role):
            continue
        if (
            role == CLIENT_ROLE
            and "admin" not in user.roles
            and user.organisation_id not in organisations
        ):
            continue
        result.append(user)
    return result


def _form_values(row: TaskView, schema: dict | None, data: dict) -> tuple[dict, TaskDraft | None]:
    draft = db.session.get(TaskDraft, (row.id, current_viewer().username))
    if draft is not None:
        return dict(draft.data or {}), draft
    return forms_render.initial_values(schema, data), None


def render_task(
    row: TaskView,
    *,
    values: dict | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    alert: str | None = None,
):
    viewer = current_viewer()
    engine = get_engine()
    now = get_clock().now()
    details = engine.task_details(row)
    schema = engine.task_form(row)
    task_data = engine.task_data(row)
    # A client sees its own form and the declared variables only (issue 9, item 2; R-11).
    data = task_data_for(viewer, row, task_data, schema)
    can_work = may_work_on(viewer, row)
    draft = None
    fresh = values is None  # the page opens the task: no answers of this round entered yet
    if values is None:
        values, draft = _form_values(row, schema, data)
    schema = with_options(schema, {**task_data, **values})  # choices from data (issue 10)
    # Shown again to be corrected: the rows as sent, no spare row.
    form = forms_render.build_form(
        localize_schema(schema), values, errors or {}, resubmitted=not fresh
    )
    evidence_checklist.attach(
        form,
        session=db.session,
        engine=engine,
        instance_id=row.instance_id,
        data=data,
        values=values,
        fresh=fresh and draft is None,
        language=current_language(),
    )
    attachment_ids = form.attachment_ids()
    attachments = {
        a.id: a
        for a in (
            db.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids)))
            if attachment_ids  # most forms hold no file: no query (issue 16)
            else ()
        )
        if may_download(viewer, a)
    }
    comments = visible_comments(viewer, row.id)  # internal comments stay with staff
    organisations = instance_organisations(row.instance_id, row.business_key)
    follow_up = db.session.get(TaskFollowUp, (row.id, viewer.username))
    context = {
        "task": row,
        "process_name": ptext(row.process_name),
        "organisations": organisations,
        "overdue": row.state == "open" and row.due_at is not None and row.due_at < now,
        "instructions": render_instructions(
            ptext(details["instructions"]),
            with_case(data, row.business_key, [o.name for o in organisations]),
        ),
        "form": form,
        "has_schema": schema is not None,
        "can_work": can_work,
        "claimed_by_other": row.state == "open"
        and row.assignee is not None
        and row.assignee != viewer.username,
        "may_claim": row.state == "open"
        and row.assignee is None
        and viewer.actor.may_act_for(row.candidate_role)
        and can_work,
        "may_unclaim": row.state == "open"
        and row.assignee is not None
        and (row.assignee == viewer.username or viewer.is_supervisor),
        "reassign_to": reassign_candidates(row)
        if viewer.is_supervisor and row.state == "open"
        else [],
        "attachments": attachments,
        "case_attachments": case_attachments(row, viewer),
        "comments": comments,
        "case_context": task_context(viewer, row, data),  # issue 10: the case data, read-only
        "may_write_to_client": may_write_to_client(viewer, row),
        "viewer_is_staff": viewer.is_staff,
        "follow_up": follow_up.follow_up_at if follow_up else None,
        "model_follow_up": row.follow_up_at,
        "draft": draft,
        "alert": alert,
        "next": safe_next(request.values.get("next"), ""),
        "now": now,
    }
    return render_template("task.html", **context), status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    return render_task(row)


# -- submitting the form --------------------------------------------------------------------------
# The engine decides whether the task may be completed, by whom and with what data (state, claim,
# role, guards, the form's schema, domain validators); the page shows its answer. Drafts are the
# page's own: kept for those who may work on the task (webapp.access).
@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    viewer = current_viewer()
    draft = request.form.get("action") == "draft"
    if draft and not may_work_on(viewer, row):
        return deny(403, f"task {row.id} takes no draft from the user")
    engine = get_engine()
    # Refused options are read too, so that the engine's answer names the rule (issue 10). The
    # task data (a workflow load) only when the form has choices from data (issue 16).
    schema = with_options(
        engine.task_form(row), lambda: engine.task_data(row), include_refused=True
    )
    if request.form.get("action") == "preview":  # the page again with its running score; no save
        if not may_work_on(viewer, row):
            return deny(403, f"task {row.id} takes no data from the user")
        shown = parse_submission(schema, request.form)
        return render_task(row, values=shown.values, errors=parser_errors(shown.errors))
    uploads = UploadStore(viewer)
    submission = parse_submission(
        schema,
        request.form,
        request.files,
        store_file=uploads,
        attachment_ok=attachment_check(viewer),
    )
    if draft:
        return _save_draft(row, viewer, submission.values)
    if uploads.stored:  # uploaded files are kept even when the form must be corrected
        db.session.commit()
    if submission.errors:
        # Inputs that did not parse cannot go to the engine; the page's own rule (webapp.access)
        # says who may keep the files of a form to correct. The engine checks the other fields
        # (without completing) so that every error shows at once.
        if not may_work_on(viewer, row):
            discard_uploads(uploads.stored)
            return deny(403, f"task {row.id} takes no data from the user")
        found = worded(get_engine().form_errors(row, submission.data))
        for key in submission.errors:  # a field that did not parse is reported once
            found.pop(key, None)
        errors = merge_errors(parser_errors(submission.errors), found)
        return render_task(row, values=submission.values, errors=errors, status=422)
    # The draft goes in the engine's transaction (issue 16): one commit, after the engine's
    # step, and a refused or failed step leaves the draft and the task as they were.
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_id == row.id))
    try:
        get_engine().complete_task(
            row.id, actor=viewer.actor, data=submission.data if schema is not None else {}
        )
    except FormValidationError as err:
        errors = worded(err.details)
        return render_task(row, values=submission.values, errors=errors, status=422)
    except EngineError as err:
        discard_uploads(uploads.stored)
        if err.status == 404:
            return deny(404, err.message)
        if err.status == 403:
            log_access("denied", status=403, detail=err.message)
        return render_task(
            row, values=submission.values, status=err.status, alert=_engine_message(err)
        )
    flash(_("Task completed: %(name)s", name=ptext(row.name)), "success")
    return redirect(_back())


def _save_draft(row: TaskView, viewer: Viewer, values: dict):
    now = get_clock().now()
    draft = db.session.get(TaskDraft, (row.id, viewer.username))
    if draft is None:
        draft = TaskDraft(task_id=row.id, username=viewer.username, saved_at=now)
        db.session.add(draft)
    draft.data = values
    draft.saved_at = now
    db.session.commit()
    flash(_("Draft saved."), "success")
    return redirect(_task_url(row))


# -- claim, unclaim, reassign ---------------------------------------------------------------------
@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    try:
        get_engine().claim(row.id, actor=current_viewer().actor)
    except EngineError as err:
        return _failure(err)
    flash(_("You have claimed the task: %(name)s", name=ptext(row.name)), "success")
    return redirect(_back())


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    try:
        get_engine().unclaim(row.id, actor=current_viewer().actor)
    except EngineError as err:
        return _failure(err)
    flash(_("The task is unclaimed: %(name)s", name=ptext(row.name)), "success")
    return redirect(_back())


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    viewer = current_viewer()
    if not viewer.is_supervisor:
        return deny(403, "reassigning needs a supervisor role")
    username = request.form.get("assignee", "")
    candidates = {u.username: u for u in reassign_candidates(row)}
    user = candidates.get(username)
    if user is None:
        message = _("Choose a user who holds the task's role.")
        return render_template(
            "message.html", title=_("That did not work"), message=message, back=_back()
        ), 422
    try:
        get_engine().reassign(
            row.id, assignee=Actor(user.username, frozenset(user.roles)), actor=viewer.actor
        )
    except EngineError as err:
        return _failure(err)
    flash(
        _(
            "The task is now assigned to %(user)s: %(name)s",
            user=user.username,
            name=ptext(row.name),
        ),
        "success",
    )
    return redirect(_back())


# -- follow-up date and comments ------------------------------------------------------------------
@bp.post("/tasks/<task_id>/follow-up")
@login_required
def follow_up(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    viewer = current_viewer()
    entry = db.session.get(TaskFollowUp, (row.id, viewer.username))
    if request.form.get("action") == "clear":
        if entry is not None:
            db.session.delete(entry)
        db.session.commit()
        flash(_("Follow-up date removed."), "success")
        return redirect(_task_url(row))
    try:
        day = date.fromisoformat(request.form.get("follow_up", "").strip())
    except ValueError:
        flash(_("Enter a date (YYYY-MM-DD)."), "error")
        return redirect(_task_url(row))
    if entry is None:
        entry = TaskFollowUp(task_id=row.id, username=viewer.username)
        db.session.add(entry)
    entry.follow_up_at = china_day_start(day)
    db.session.commit()
    flash(_("Follow-up date set to %(day)s.", day=day.isoformat()), "success")
    return redirect(_task_url(row))


@bp.post("/tasks/<task_id>/comments")
@login_required
def comment(task_id: str):
    row, refused = visible_task(task_id)
    if row is None:
        return refused
    body = request.form.get("body", "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not body:
        flash(_("The comment is empty."), "error")
        return redirect(_task_url(row))
    if len(body) > MAX_COMMENT:
        flash(_("The comment is too long (at most 4000 characters)."), "error")
        return redirect(_task_url(row))
    visibility = comment_visibility(current_viewer(), row, request.form.get("visibility"))
    if visibility is None:
        flash(_("Only a task of the client can have a comment to the client."), "error")
        return redirect(_task_url(row))
    db.session.add(
        TaskComment(
            task_id=row.id,
            instance_id=row.instance_id,
            author=current_viewer().username,
            body=body,
            created_at=get_clock().now(),
            visibility=visibility,
        )
    )
    db.session.commit()
    flash(_("Comment added."), "success")
    return redirect(_task_url(row) + "#comments")


# -- files ----------------------------------------------------------------------------------------
@bp.get("/files/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id) if attachment_id < 2**31 else None
    if attachment is None:
        return deny(404, f"attachment {attachment_id} does not exist")
    if not may_download(current_viewer(), attachment):
        return deny(404, f"attachment {attachment_id} is not available to the user")
    path = attachment_path(storage_dir(), attachment)
    if not path.is_file():
        return deny(404, f"attachment {attachment_id} has no stored file")
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
