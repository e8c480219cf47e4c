"""The studio's view of a decision table (issue 12, "DMN"): the rules of star_level.dmn as a
table in the page's language, for a deployed version or a draft, naming which one. Read only
(editing DMN in the studio is not built yet; the page says so). Pages on the studio blueprint."""

import posixpath
import re

from flask import abort, render_template

from certflow.db import db
from domain.decision_table import read_tables
from engine.errors import EngineError
from engine.sources import version_sources
from webapp.auth import roles_required
from webapp.i18n import current_language
from webapp.studio import READERS, bp, get_draft

DMN_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}\.dmn$")
_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$", re.S)


def label_in_language(label: str, language: str) -> str:
    """The DMN's labels are written "中文 English" (e.g. "审查得分 Score (0–100)"): the part of
    the page's language, or the whole label when it is not written that way."""
    match = _BILINGUAL.match(label.strip())
    if not match or not match["zh"].strip():
        return label
    return match["en"] if language == "en" else match["zh"].strip()


def decision_files(files: dict[str, str]) -> list[str]:
    return sorted(posixpath.basename(p) for p in files if DMN_NAME.match(posixpath.basename(p)))


def _page(files: dict[str, str], name: str, **where):
    path = next((p for p in files if posixpath.basename(p) == name), None)
    if not DMN_NAME.match(name) or path is None:
        abort(404)
    try:
        tables = read_tables(files[path])
    except ValueError:
        abort(404)
    language = current_language()
    return render_template(
        "studio/decision.html",
        name=name,
        tables=tables,
        label=lambda text: label_in_language(text, language),
        show_notes=language == "en",  # the rules' notes in the file are written in English
        **where,
    )


@bp.get("/processes/<process_id>/versions/<int:version>/decisions/<name>")
@roles_required(*READERS)
def decision_version(process_id: str, version: int, name: str):
    try:
        sources = version_sources(db.session, process_id, version)
    except EngineError:
        abort(404)
    return _page(sources.files, name, process_id=process_id, version=version, draft=None)


@bp.get("/drafts/<int:draft_id>/decisions/<name>")
@roles_required(*READERS)
def decision_draft(draft_id: int, name: str):
    draft = get_draft(draft_id)
    return _page(
        draft.files, name, process_id=draft.process_id, version=draft.base_version, draft=draft
    )
