"""The studio's decision tables (issue 12, "DMN"): the rules of star_level.dmn (or any DMN file of
the source set) as a table in the page's language, for a deployed version or a draft; in a draft
its author edits the table with dmn-js (webapp/static/js/studio_decision.js) and saves it into
the draft. A saved table must pass `certflow validate` (XSD, the engine's DMN parser, restricted
expressions): otherwise 422 naming what is wrong, and nothing is saved. The deployed version is
unchanged until the review approves the draft (R-5: the star level's thresholds are data a
process owner changes through a reviewed draft). Pages on the studio blueprint."""

import posixpath
import re

from flask import Response, abort, jsonify, render_template, request
from flask_babel import gettext as _

from certflow.db import db
from domain import studio as drafts
from domain.decision_table import decision_changes, read_tables
from domain.errors import RuleViolation
from domain.models_studio import ProcessDraft
from engine.errors import EngineError
from engine.sources import validate_sources, version_sources
from webapp.auth import current_viewer, deny, roles_required
from webapp.i18n import current_language
from webapp.runtime import get_clock, get_engine
from webapp.studio import EDITORS, READERS, bp, get_draft
from webapp.studio_texts import decision_texts

DMN_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}\.dmn$")
_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$", re.S)


def label_in_language(label: str, language: str) -> str:
    """The DMN's labels are written "中文 English" (e.g. "审查得分 Score (0–100)"): the part of
    the page's language, or the whole label when it is not written that way."""
    match = _BILINGUAL.match(label.strip())
    if not match or not match["zh"].strip():
        return label
    return match["en"] if language == "en" else match["zh"].strip()


def decision_changes_shown(old: dict[str, str], new: dict[str, str]) -> dict:
    """What the review and the comparison pages need to show the changed decision tables
    (webapp/templates/studio/_decision_changes.html)."""
    language = current_language()
    return {
        "decision_changes": decision_changes(old, new),
        "dmn_label": lambda text: label_in_language(text, language),
    }


def decision_files(files: dict[str, str]) -> list[str]:
    return sorted(posixpath.basename(p) for p in files if DMN_NAME.match(posixpath.basename(p)))


def decision_path(files: dict[str, str], name: str) -> str:
    path = next((p for p in files if posixpath.basename(p) == name), None)
    if not DMN_NAME.match(name) or path is None:
        abort(404)
    return path


def _page(files: dict[str, str], name: str, draft: ProcessDraft | None = None, **where):
    path = decision_path(files, name)
    try:
        tables = read_tables(files[path])
    except ValueError:
        abort(404)
    language = current_language()
    editable = draft is not None and drafts.may_edit(draft, current_viewer().username)
    return render_template(
        "studio/decision.html",
        name=name,
        tables=tables,
        label=lambda text: label_in_language(text, language),
        show_notes=language == "en",  # the rules' notes in the file are written in English
        draft=draft,
        editable=editable,
        editor_texts=decision_texts() if editable else {},
        **where,
    )


@bp.get("/processes/<process_id>/versions/<int:version>/decisions/<name>")
@roles_required(*READERS)
def decision_version(process_id: str, version: int, name: str):
    try:
        sources = version_sources(db.session, process_id, version)
    except EngineError:
        abort(404)
    return _page(sources.files, name, process_id=process_id, version=version)


@bp.get("/drafts/<int:draft_id>/decisions/<name>")
@roles_required(*READERS)
def decision_draft(draft_id: int, name: str):
    draft = get_draft(draft_id)
    return _page(
        draft.files, name, draft=draft, process_id=draft.process_id, version=draft.base_version
    )


@bp.get("/drafts/<int:draft_id>/decisions/<name>/source")
@roles_required(*READERS)
def decision_source(draft_id: int, name: str):
    """The draft's DMN file as it is stored (dmn-js opens it)."""
    draft = get_draft(draft_id)
    return Response(draft.files[decision_path(draft.files, name)], mimetype="application/xml")


@bp.post("/drafts/<int:draft_id>/decisions/<name>/save")
@roles_required(*EDITORS)
def decision_save(draft_id: int, name: str):
    """Save the edited DMN into the draft when `certflow validate` finds nothing wrong in it;
    otherwise 422 with the problems (file, line, element, message) and the draft unchanged."""
    draft = get_draft(draft_id)
    path = decision_path(draft.files, name)
    if not drafts.may_edit(draft, current_viewer().username):
        return deny(403, f"draft {draft.id} is not editable by this user")
    body = request.get_json(silent=True)
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        return jsonify(error="xml", message=_("The decision table is missing.")), 422
    if xml == draft.files[path]:
        return jsonify(saved=False, unchanged=True, problems=[])
    registry = get_engine().registry
    # The table's own problems, and those it causes elsewhere (e.g. a business rule task whose
    # decision it renamed); problems the draft already had elsewhere are not this save's.
    already = {(p.file, p.element_id, p.message) for p in validate_sources(draft.files, registry)}
    problems = [
        {"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message}
        for p in validate_sources({**draft.files, path: xml}, registry)
        if p.file == path or (p.file, p.element_id, p.message) not in already
    ]
    problems.sort(key=lambda problem: problem["file"] != path)  # the table's own first
    if problems:
        message = _("The decision table has problems; nothing was saved.")
        return jsonify(error="xml", message=message, problems=problems), 422
    try:
        drafts.save_file(
            draft, path=path, content=xml, editor=current_viewer().username, now=get_clock().now()
        )
    except RuleViolation as err:
        db.session.rollback()
        return jsonify(error=err.field or "xml", message=str(err)), 422
    db.session.commit()
    return jsonify(saved=True, problems=[])
