"""The process-owner studio (issue 12): processes with their deployed versions and drafts, the
modeler on a draft, import and export, live validation, submitting a draft for review.

Access is an allowlist (certflow/permissions.py): EDIT_DEFINITIONS (process owners) create,
edit, import and submit drafts — a draft only by its author; REVIEW_DEFINITIONS (quality
managers) see the list and review (webapp/studio_review.py). Everyone else: 403, logged.
A draft never runs: only the review process deploys it (processes/definition_review.bpmn).
"""

import posixpath
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from certflow.db import db
from certflow.permissions import Permission, roles_with
from certflow.roles import ROLES
from domain import studio as drafts
from domain.errors import RuleViolation
from domain.models_studio import ProcessDraft
from engine.errors import EngineError
from engine.sources import validate_sources, version_sources, versions_of
from webapp.auth import current_viewer, deny, roles_required
from webapp.i18n import role_name
from webapp.layout import nav_item
from webapp.runtime import get_clock, get_engine
from webapp.studio_called import called_catalogue
from webapp.studio_effect import panel_rules
from webapp.studio_texts import modeler_texts

bp = Blueprint("studio", __name__, url_prefix="/studio")
EDITORS = tuple(roles_with(Permission.EDIT_DEFINITIONS))
REVIEWERS = tuple(roles_with(Permission.REVIEW_DEFINITIONS))
READERS = EDITORS + REVIEWERS
# The list of processes is also the way to a version's running cases, for whoever moves them
# (admin): they see the versions and the running cases, not the drafts or the sources.
LISTERS = READERS + tuple(sorted(roles_with(Permission.MIGRATE_INSTANCES) - set(READERS)))
nav_item("studio.index", lazy_gettext("Studio"), roles=set(LISTERS), order=80)
MAX_IMPORT_BYTES = 4 * 1024 * 1024  # certflow validate's size limit of one file
REVIEW_PROCESS = "definition_review"


def get_draft(draft_id: int) -> ProcessDraft:
    draft = db.session.get(ProcessDraft, draft_id) if 0 < draft_id < 2**31 else None
    if draft is None:
        abort(make_response(*deny(404, f"draft {draft_id} does not exist")))
    return draft


@bp.get("")
@roles_required(*LISTERS)
def index():
    engine = get_engine()
    may_read = bool(current_viewer().roles & set(READERS))
    processes = [
        {"version": version, "history": versions_of(db.session, version.process_id)}
        for version in engine.list_latest_versions()
    ]
    return render_template(
        "studio/index.html",
        processes=processes,
        drafts=drafts.open_drafts(db.session) if may_read else None,
        may_read=may_read,
        may_edit=bool(current_viewer().roles & set(EDITORS)),
        may_migrate=bool(current_viewer().roles & roles_with(Permission.MIGRATE_INSTANCES)),
    )


@bp.post("/processes/<process_id>/drafts")
@roles_required(*EDITORS)
def new_draft(process_id: str):
    try:
        sources = version_sources(db.session, process_id)
    except EngineError:
        abort(404)
    draft = drafts.new_draft(
        db.session,
        process_id=process_id,
        main_path=sources.main_path,
        files=sources.files,
        author=current_viewer().username,
        base_version=sources.version,
        base_sha256=sources.sha256,
        now=get_clock().now(),
    )
    db.session.commit()
    return redirect(url_for("studio.edit", draft_id=draft.id))


@bp.post("/processes/<process_id>/import")
@roles_required(*EDITORS)
def import_file(process_id: str):
    """A .bpmn from a desktop modeler becomes a draft: the deployed version's other files
    (forms, called processes, catalogue) with this file in place of the process's BPMN."""
    try:
        sources = version_sources(db.session, process_id)
    except EngineError:
        abort(404)
    upload = request.files.get("file")
    data = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text.strip() or len(data) > MAX_IMPORT_BYTES:
        flash(_("Choose a BPMN file (UTF-8, at most 4 MB)."), "error")
        return redirect(url_for("studio.index")), 303
    draft = drafts.new_draft(
        db.session,
        process_id=process_id,
        main_path=sources.main_path,
        files={**sources.files, sources.main_path: text},
        author=current_viewer().username,
        base_version=sources.version,
        base_sha256=sources.sha256,
        now=get_clock().now(),
    )
    db.session.commit()
    return redirect(url_for("studio.edit", draft_id=draft.id))


@bp.get("/processes/<process_id>/versions/<int:version>.bpmn")
@roles_required(*READERS)
def export_version(process_id: str, version: int):
    """The process's BPMN file exactly as deployed (byte for byte: same hash)."""
    try:
        sources = version_sources(db.session, process_id, version)
    except EngineError:
        abort(404)
    return _bpmn_download(sources.files[sources.main_path], f"{process_id}-v{version}.bpmn")


@bp.get("/drafts/<int:draft_id>")
@roles_required(*READERS)
def edit(draft_id: int):
    return _edit_page(get_draft(draft_id))


def _edit_page(draft: ProcessDraft, status: int = 200):
    editable = drafts.may_edit(draft, current_viewer().username)
    page = render_template(
        "studio/edit.html", draft=draft, editable=editable, catalogue=panel_catalogue(draft)
    )
    return page, status


@bp.get("/drafts/<int:draft_id>/draft.bpmn")
@roles_required(*READERS)
def draft_source(draft_id: int):
    draft = get_draft(draft_id)
    return _bpmn_download(draft.files[draft.main_path], f"{draft.process_id}-draft{draft.id}.bpmn")


@bp.post("/drafts/<int:draft_id>/validate")
@roles_required(*EDITORS)
def validate(draft_id: int):
    """`certflow validate` on the draft with the posted BPMN in place (not saved)."""
    draft = get_draft(draft_id)
    xml = _posted_xml()
    if xml is None:
        return jsonify(error="xml", message=_("The diagram is missing.")), 422
    return jsonify(problems=problems_of(draft, {**draft.files, draft.main_path: xml}))


@bp.post("/drafts/<int:draft_id>/save")
@roles_required(*EDITORS)
def save(draft_id: int):
    draft = get_draft(draft_id)
    if not drafts.may_edit(draft, current_viewer().username):
        return deny(403, f"draft {draft.id} is not editable by this user")
    xml = _posted_xml()
    if xml is None:
        return jsonify(error="xml", message=_("The diagram is missing.")), 422
    try:
        drafts.save_file(
            draft,
            path=draft.main_path,
            content=xml,
            editor=current_viewer().username,
            now=get_clock().now(),
        )
    except RuleViolation as err:
        db.session.rollback()
        return jsonify(error=err.field or "xml", message=str(err)), 422
    db.session.commit()
    return jsonify(saved=True, problems=problems_of(draft, draft.files))


@bp.post("/drafts/<int:draft_id>/submit")
@roles_required(*EDITORS)
def submit(draft_id: int):
    """Submit for review with a reason: starts the review process (quality manager's task)."""
    draft = get_draft(draft_id)
    viewer = current_viewer()
    if draft.author != viewer.username:
        return deny(403, f"draft {draft.id} belongs to {draft.author}")
    if problems_of(draft, draft.files):
        flash(_("The draft has problems; fix them before submitting it."), "error")
        return _edit_page(draft, 422)
    try:
        drafts.submit(
            draft,
            reason=request.form.get("reason", ""),
            submitter=viewer.username,
            now=get_clock().now(),
        )
        instance = get_engine().start(
            REVIEW_PROCESS,
            actor=viewer.actor,
            data={
                "draft_id": draft.id,
                "process_id": draft.process_id,
                "author": draft.author,
                "reason": draft.reason,
            },
            business_key=f"DRAFT-{draft.id}",
        )
    except RuleViolation as err:
        db.session.rollback()
        flash(str(err), "error")
        return _edit_page(get_draft(draft_id), 422)
    draft = get_draft(draft_id)
    draft.review_instance_id = instance.id
    db.session.commit()
    flash(_("Submitted for review."), "success")
    return redirect(url_for("studio.index")), 303


# -- helpers ---------------------------------------------------------------------------------------
def problems_of(draft: ProcessDraft, files: dict[str, str]) -> list[dict[str, Any]]:
    found = validate_sources(files, get_engine().registry)
    return [
        {
            "file": problem.file,
            "line": problem.line,
            "element_id": problem.element_id,
            "message": problem.message,
        }
        for problem in found
    ]


def panel_catalogue(draft: ProcessDraft) -> dict[str, Any]:
    """What the properties panel offers: registered operators with their declared parameters,
    the draft's forms (relative to its BPMN file), the role catalogue, the rules catalogue with
    the rules traceability.yaml maps to the draft's elements; labels translated."""
    registry = get_engine().registry
    folder = posixpath.dirname(draft.main_path)
    return {
        "operators": {name: registry.param_rows(name) or [] for name in registry.operators()},
        "forms": sorted(
            posixpath.relpath(path, folder or ".") for path in draft.files if path.endswith(".json")
        ),
        # A lane may be named by the role's id or its Chinese name (certflow.roles.role_for_lane).
        "roles": [
            {"id": role.id, "label": f"{role_name(role.id)} ({role.id})", "aliases": [role.name_zh]}
            for role in ROLES
        ],
        "guards": sorted(registry.guards()),
        "validators": sorted(registry.validators()),
        "instructionsPreviewUrl": url_for("studio.instructions_preview", draft_id=draft.id),
        "called": called_catalogue(draft),
        "rules": panel_rules(draft.main_path),
        "texts": modeler_texts(),
        "labels": {
            "serviceGroup": _("Service task (certflow)"),
            "operator": _("Operator"),
            "parameter": _("Parameter"),
            "userGroup": _("User task (certflow)"),
            "form": _("Form"),
            "dueIn": _("Due in"),
            "dueInHelp": _("An ISO 8601 duration, e.g. P5D for five days"),
            "followUpIn": _("Follow up in"),
            "followUpInHelp": _("An ISO 8601 duration after which the task is followed up"),
            "durationInvalid": _("Not an ISO 8601 duration (e.g. P5D, PT4H)"),
            "guard": _("Who may do the task (guard)"),
            "validator": _("Check of the answers (validator)"),
            "instructions": _("Instructions"),
            "instructionsHelp": _("Markdown; {{ case }} and the case data fill the placeholders"),
            "instructionsPreview": _("Preview with sample case data"),
            "calledGroup": _("Called process or decision (certflow)"),
            "calledProcess": _("Called process"),
            "calledDecision": _("Called decision"),
            "laneGroup": _("Lane (certflow)"),
            "role": _("Role"),
            "rulesGroup": _("Rules (certflow)"),
            "rulesCited": _("Rules the step implements"),
            "rulesHelp": _("Written into the step's documentation: the diagram cites them."),
            "addRule": _("Add a rule"),
            "removeRule": _("Remove"),
            "mappedRule": _("named in the traceability data"),
            "noRules": _("No rule yet."),
            "messageGroup": _("Message (certflow)"),
            "message": _("Message"),
            "messagePayload": _("Message payload"),
            "messagePayloadHelp": _(
                "An expression on the case data giving what the message carries, "
                'e.g. {"business_key": certificate["number"]}'
            ),
            "messageVariable": _("Message variable"),
            "messageVariableHelp": _(
                "The name under which the received message's content is stored in the case data"
            ),
            "messageVariableInvalid": _(
                "Not a variable name (letters, digits and _, starting with a letter)"
            ),
        },
    }


def _posted_xml() -> str | None:
    body = request.get_json(silent=True)
    xml = body.get("xml") if isinstance(body, dict) else None
    return xml if isinstance(xml, str) and xml.strip() else None


def _bpmn_download(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
