"""The studio's form editor (issue 12, "Forms"): a draft's form previewed exactly as the task
page renders it (webapp/forms_render + macros/forms.html, in the page's language) and its texts
and required flags edited in the draft — Chinese in the form file, English appended to the
draft's processes.po. The edited draft must still pass `certflow validate` for that form (a
valid schema, x-checks and x-options that resolve, every text translated); domain/form_text_edit
decides what may change. Pages on the studio blueprint (webapp/studio.py)."""

import json
import posixpath
import re
from typing import Any

from babel.messages.pofile import escape
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from certflow.db import db
from certflow.process_texts import CATALOGUE, read_catalogue
from domain import form_text_edit
from domain import studio as drafts
from domain.errors import RuleViolation
from domain.form_structure_changes import structure_changes
from domain.form_text_edit import apply_edit, text_changes, text_fields
from domain.models_studio import ProcessDraft
from engine.sources import validate_sources
from webapp.auth import current_viewer, deny, roles_required
from webapp.form_options import with_options
from webapp.forms_render import Form, build_form, initial_values
from webapp.process_texts import localize_schema, request_language
from webapp.runtime import get_clock, get_engine
from webapp.studio import EDITORS, READERS, bp, get_draft

FORM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}\.json$")  # a file of the forms folder, no path
EN = "@en"  # suffix of an English input beside its Chinese one


def form_path(draft: ProcessDraft, name: str) -> str:
    path = posixpath.join(posixpath.dirname(draft.main_path), "forms", name)
    if not FORM_NAME.match(name) or path not in draft.files:
        abort(404)
    return path


def catalogue_path(draft: ProcessDraft) -> str | None:
    return next((p for p in draft.files if p.endswith(CATALOGUE.as_posix())), None)


def draft_english(draft: ProcessDraft) -> dict[str, str]:
    path = catalogue_path(draft)
    return read_catalogue(draft.files[path].encode("utf-8")) if path else {}


def draft_forms(draft: ProcessDraft) -> list[str]:
    """The names of the draft's forms (files of its forms folder), for the edit page."""
    folder = posixpath.join(posixpath.dirname(draft.main_path), "forms")
    return sorted(
        posixpath.basename(p)
        for p in draft.files
        if posixpath.dirname(p) == folder and FORM_NAME.match(posixpath.basename(p))
    )


@bp.get("/drafts/<int:draft_id>/forms/<name>/preview")
@roles_required(*READERS)
def form_preview(draft_id: int, name: str):
    """The form as the person doing the task will see it (HTML fragment, page's language)."""
    draft = get_draft(draft_id)
    return _preview(draft, json.loads(draft.files[form_path(draft, name)]))


def _preview(draft: ProcessDraft, schema: dict[str, Any]) -> str:
    return render_template("studio/_form_preview.html", form=preview_form(draft, schema))


def preview_form(draft: ProcessDraft, schema: dict[str, Any]) -> Form:
    english = draft_english(draft) if request_language() == "en" else {}
    shown = with_options(localize_schema(schema, english), {})
    return build_form(shown, initial_values(schema, {}))


@bp.get("/drafts/<int:draft_id>/forms/<name>")
@roles_required(*READERS)
def form_edit(draft_id: int, name: str):
    draft = get_draft(draft_id)
    return _editor(draft, name, json.loads(draft.files[form_path(draft, name)]))


def _editor(draft, name, schema, errors: dict[str, str] | None = None, status: int = 200):
    page = render_template(
        "studio/form_edit.html",
        draft=draft,
        name=name,
        schema=schema,
        fields=text_fields(schema),
        english=draft_english(draft),
        editable=drafts.may_edit(draft, current_viewer().username),
        preview_form=preview_form(draft, schema),
        errors=errors or {},
        EN=EN,
    )
    return page, status


@bp.post("/drafts/<int:draft_id>/forms/<name>")
@roles_required(*EDITORS)
def form_save(draft_id: int, name: str):
    draft = get_draft(draft_id)
    path = form_path(draft, name)
    editor = current_viewer().username
    if not drafts.may_edit(draft, editor):
        return deny(403, f"draft {draft.id} is not editable by this user")
    before = json.loads(draft.files[path])
    edit, pairs = posted_edit(before)
    try:
        schema = apply_edit(before, edit)
        files = with_english(draft, pairs)
        text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        if schema == before and files == draft.files:
            flash(_("No changes to save."), "info")
            return redirect(url_for("studio.form_edit", draft_id=draft.id, name=name)), 303
        files[path] = text
        problems = [p for p in validate_sources(files, get_engine().registry) if p.file == path]
        if problems:
            where = problems[0].element_id or "_form"
            raise RuleViolation(drafts.RULE, problems[0].message, field=where)
        now = get_clock().now()
        for changed in sorted(p for p in files if files[p] != draft.files[p]):
            drafts.save_file(draft, path=changed, content=files[changed], editor=editor, now=now)
    except RuleViolation as err:
        db.session.rollback()
        draft = get_draft(draft_id)
        errors = {input_name(err.field or "_form"): refusal_text(err)}
        return _editor(draft, name, apply_edit_lenient(before, edit), errors, 422)
    db.session.commit()
    flash(_("The form is saved in the draft."), "success")
    return redirect(url_for("studio.form_edit", draft_id=draft.id, name=name)), 303


def input_name(field: str) -> str:
    """The editor's input of a refused field (``scope/title`` → ``scope:title``,
    ``kind/options/a`` → ``kind:option:a``); other names as they are."""
    path, _sep, option = field.partition("/options/")
    if option:
        return f"{path}:option:{option}"
    head, _sep, last = field.rpartition("/")
    return f"{head}:{last}" if head and last in ("title", "description", "required") else field


def refusal_text(err: RuleViolation) -> str:
    """The refusal in the page's language (domain/form_text_edit's kinds; validation's own)."""
    texts = {
        form_text_edit.NOT_TEXT: _("Enter a text."),
        form_text_edit.NEEDED: _("Required: the person doing the task reads it."),
        form_text_edit.TOO_LONG: _("Too long."),
        form_text_edit.NO_FIELD: _("The form has no such field."),
        form_text_edit.NO_OPTION: _("The field has no such option."),
        form_text_edit.NOT_FLAG: _("Choose yes or no."),
    }
    return texts.get(err.detail, err.detail)


def apply_edit_lenient(before: dict, edit: dict) -> dict:
    """The page shown again after a refused edit keeps what was typed where it can."""
    try:
        return apply_edit(before, edit)
    except RuleViolation:
        return before


def posted_edit(schema: dict) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The edit (domain/form_text_edit) and (input name, Chinese, English) of every text."""
    form = request.form
    edit: dict[str, Any] = {}
    pairs: list[tuple[str, str, str]] = []

    def text(name: str) -> str | None:
        if name not in form:
            return None
        value = form.get(name, "")
        pairs.append((name, value.strip(), form.get(name + EN, "").strip()))
        return value

    for key in ("title", "description"):
        if (value := text(key)) is not None:
            edit[key] = value
    fields: dict[str, Any] = {}
    for row in text_fields(schema):
        changes: dict[str, Any] = {}
        for key in ("title", "description"):
            if (value := text(f"{row.path}:{key}")) is not None:
                changes[key] = value
        if row.required is not None and f"{row.path}:required" in form:
            changes["required"] = "1" in form.getlist(f"{row.path}:required")
        options = {
            option.key: value
            for option in row.options
            if (value := text(f"{row.path}:option:{option.key}")) is not None
        }
        if options:
            changes["options"] = options
        if changes:
            fields[row.path] = changes
    known = {row.path for row in text_fields(schema)}
    for key in form:
        path = key.split(":", 1)[0]
        if ":" in key and path not in known:
            fields[path] = {}  # refused by apply_edit, naming the field (nothing is dropped)
    edit["fields"] = fields
    return edit, pairs


def with_english(draft: ProcessDraft, pairs: list[tuple[str, str, str]]) -> dict[str, str]:
    """The draft's files with the English of new Chinese texts appended to its processes.po
    (at the end, as the team appends). A text already translated keeps its catalogue entry:
    an English that differs is refused rather than dropped."""
    files = dict(draft.files)
    path = catalogue_path(draft)
    if path is None:
        return files
    known = read_catalogue(files[path].encode("utf-8"))
    added: dict[str, str] = {}
    for name, chinese, english in pairs:
        if not chinese or not english:
            continue  # an untranslated new text is reported by validate_sources
        if chinese in known and known[chinese] != english:
            raise RuleViolation(
                drafts.RULE,
                _(
                    "This text is already translated; its English is kept: %(text)s",
                    text=known[chinese],
                ),
                field=name + EN,
            )
        if chinese not in known:
            added.setdefault(chinese, english)
    if added:
        entries = "".join(
            f"\nmsgid {escape(zh)}\nmsgstr {escape(en)}\n" for zh, en in added.items()
        )
        files[path] = files[path].rstrip("\n") + "\n" + entries
    return files


def form_changes(old: dict[str, str], new: dict[str, str]) -> list[dict[str, Any]]:
    """The forms that differ between two file sets, with the changes of texts, required fields
    and structure (the review of a draft and the comparison of two versions)."""
    found = []
    for path in sorted(set(old) & set(new)):
        if not path.endswith(".json") or old[path] == new[path]:
            continue
        try:
            before, after = json.loads(old[path]), json.loads(new[path])
        except ValueError:
            continue  # validation reports a form that does not parse
        if isinstance(before, dict) and isinstance(after, dict):
            changes = text_changes(before, after) + structure_changes(before, after)
            found.append({"path": path, "changes": changes})
    return found
