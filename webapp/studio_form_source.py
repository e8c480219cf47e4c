"""The studio's schema-aware form editor (issue 12, "Forms"): the process owner edits a draft
form's whole JSON Schema (fields added, removed, reordered; types, enums, required, x-checks and
x-options) in CodeMirror (webapp/static/vendor/form-editor), with a live preview of the unsaved
text rendered exactly as the task page renders it (webapp/studio_forms.preview_form). Saving
runs `certflow validate` on the draft with the new text (a valid JSON Schema, registered x-checks
and x-options, every text translated); a problem the change brings is a 422 naming it and
nothing is saved. The English of new texts is appended to the draft's processes.po
(studio_forms.with_english). A draft never runs: the deployed version changes only on approval
(ISO/IEC 17065 8.3)."""

import json
import secrets
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from certflow.db import db
from certflow.process_texts import form_texts
from domain import studio as drafts
from domain.errors import RuleViolation
from domain.form_text_edit import text_fields
from domain.options import source_names
from engine.forms import schema_problem
from engine.sources import validate_sources
from webapp.auth import current_viewer, deny, roles_required
from webapp.runtime import get_clock, get_engine
from webapp.security import extend_csp
from webapp.studio import EDITORS, READERS, bp, get_draft
from webapp.studio_forms import draft_english, form_path, preview_form, with_english

MAX_TEXT = 200_000  # characters of one form's JSON


def parse_schema(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The form's schema, or the reason it is not one (JSON syntax, not an object, not a valid
    JSON Schema), in the page's language."""
    if len(text) > MAX_TEXT:
        return None, _("The form is too long.")
    try:
        schema = json.loads(text)
    except ValueError as err:
        line = getattr(err, "lineno", "?")
        return None, _("Not valid JSON (line %(line)s): %(error)s", line=line, error=str(err))
    if not isinstance(schema, dict):
        return None, _("A form is a JSON object.")
    problem = schema_problem(schema)
    if problem is not None:
        where, error = problem
        return None, _("Not a valid JSON Schema at %(where)s: %(error)s", where=where, error=error)
    return schema, None


def change_problems(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The `certflow validate` problems the edited files have and the draft had not (a problem
    the draft already had elsewhere does not block this form)."""
    registry = get_engine().registry

    def found(files: dict[str, str]) -> list[tuple[str, str, str]]:
        return [(p.file, p.element_id or "", p.message) for p in validate_sources(files, registry)]

    known = set(found(before))
    return [
        f"{file}: {element} {message}".strip()
        for file, element, message in found(after)
        if (file, element, message) not in known
    ]


def rendered(draft, schema: dict[str, Any]) -> str:
    """The form as the task page renders it (the studio's preview fragment)."""
    return render_template("studio/_form_preview.html", form=preview_form(draft, schema))


def untranslated(draft, schema: dict[str, Any]) -> list[str]:
    english = draft_english(draft)
    content = json.dumps(schema, ensure_ascii=False).encode("utf-8")
    return list(dict.fromkeys(t.text for t in form_texts(content) if t.text not in english))


def _page(draft, name: str, text: str, error: str | None = None, pairs=(), status: int = 200):
    # CodeMirror mounts its theme in a <style> element: allowed by this response's nonce only.
    style_nonce = secrets.token_urlsafe(16)
    extend_csp("style-src", f"'nonce-{style_nonce}'")
    schema, _reason = parse_schema(text)
    page = render_template(
        "studio/form_source.html",
        draft=draft,
        name=name,
        text=text,
        style_nonce=style_nonce,
        error=error,
        english=dict(pairs),
        untranslated=untranslated(draft, schema) if schema else [],
        names={
            "checks": sorted(get_engine().registry.form_checks()),
            "options": sorted(source_names()),
        },
        editable=drafts.may_edit(draft, current_viewer().username),
        preview=Markup(rendered(draft, schema)) if schema else "",  # noqa: S704 rendered by our template
    )
    return page, status


@bp.get("/drafts/<int:draft_id>/forms/<name>/source")
@roles_required(*READERS)
def form_source(draft_id: int, name: str):
    draft = get_draft(draft_id)
    return _page(draft, name, draft.files[form_path(draft, name)])


@bp.post("/drafts/<int:draft_id>/forms/<name>/source/preview")
@roles_required(*READERS)
def form_source_preview(draft_id: int, name: str):
    """The unsaved text previewed (JSON: the HTML fragment and the texts without English), or
    422 with the reason it cannot be shown."""
    draft = get_draft(draft_id)
    form_path(draft, name)
    schema, reason = parse_schema(request.form.get("text", ""))
    if schema is None:
        return jsonify(error=reason), 422
    try:
        html = rendered(draft, schema)
    except (TypeError, ValueError, KeyError) as err:  # a schema the task page could not show
        return jsonify(error=_("The form cannot be shown: %(error)s", error=str(err))), 422
    return jsonify(
        html=html, untranslated=untranslated(draft, schema), fields=len(text_fields(schema))
    )


@bp.post("/drafts/<int:draft_id>/forms/<name>/source")
@roles_required(*EDITORS)
def form_source_save(draft_id: int, name: str):
    draft = get_draft(draft_id)
    path = form_path(draft, name)
    editor = current_viewer().username
    if not drafts.may_edit(draft, editor):
        return deny(403, f"draft {draft.id} is not editable by this user")
    text = request.form.get("text", "")
    pairs = list(zip(request.form.getlist("zh"), request.form.getlist("en"), strict=False))
    schema, reason = parse_schema(text)
    if schema is None:
        return _page(draft, name, text, reason, pairs, 422)
    try:
        files = with_english(draft, [("en", zh.strip(), en.strip()) for zh, en in pairs])
    except RuleViolation as err:
        return _page(draft, name, text, err.detail, pairs, 422)
    files[path] = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    if files == draft.files:
        flash(_("No changes to save."), "info")
        return redirect(url_for("studio.form_source", draft_id=draft.id, name=name)), 303
    problems = change_problems(draft.files, files)
    if problems:
        return _page(draft, name, text, "; ".join(problems), pairs, 422)
    now = get_clock().now()
    for changed in sorted(p for p in files if files[p] != draft.files.get(p)):
        drafts.save_file(draft, path=changed, content=files[changed], editor=editor, now=now)
    db.session.commit()
    flash(_("The form is saved in the draft."), "success")
    return redirect(url_for("studio.form_source", draft_id=draft.id, name=name)), 303
