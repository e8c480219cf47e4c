"""The definitions register (issue 13; ISO/IEC 17065 8.3 document control): every process and
every version — hash, author, approver, reason, deployed and effective times, the cases on it —
its files to download, and any two versions of a process compared element by element.

The deployment (who, when, comment) is the engine's; the studio's approved drafts add the
author, the approver, the reason and the effective time of the versions they deployed."""

import io
import zipfile

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from certflow.db import db
from domain.definition_diff import diff_definitions
from domain.models_studio import ProcessDraft
from engine.errors import NotFoundError
from engine.query_quality import version_register
from engine.sources import version_sources
from webapp.auth import roles_required
from webapp.quality import QUALITY_ROLES, bp, section

section(
    "quality.definitions",
    lazy_gettext("Definitions register"),
    lazy_gettext(
        "Every process version in force or retired: hash, author, approver, reason, when it "
        "took effect, its cases; download and compare versions."
    ),
    order=10,
)


def _approvals() -> dict[tuple[str, int], ProcessDraft]:
    """The approved draft that deployed each (process, version)."""
    drafts = db.session.scalars(
        select(ProcessDraft).where(
            ProcessDraft.status == "approved", ProcessDraft.deployed_version.is_not(None)
        )
    )
    return {(d.process_id, d.deployed_version): d for d in drafts}


@bp.get("/definitions")
@roles_required(*QUALITY_ROLES)
def definitions():
    versions = version_register(db.session)
    processes: dict[str, list] = {}
    for record in versions:
        processes.setdefault(record.process_id, []).append(record)
    return render_template("quality/definitions.html", processes=processes, approvals=_approvals())


def _sources(process_id: str, version: int):
    try:
        return version_sources(db.session, process_id, version)
    except NotFoundError:
        abort(404)


@bp.get("/definitions/<process_id>/versions/<int:version>.zip")
@roles_required(*QUALITY_ROLES)
def download_version(process_id: str, version: int):
    """Every file of the version (BPMN, called processes, DMN, forms) exactly as deployed."""
    sources = _sources(process_id, version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(sources.files.items()):
            archive.writestr(path, text.encode("utf-8"))
    return Response(
        buffer.getvalue(),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename={process_id}-v{version}.zip",
            "X-Content-SHA256": sources.sha256,
        },
    )


@bp.get("/definitions/<process_id>/compare")
@roles_required(*QUALITY_ROLES)
def compare(process_id: str):
    numbers = sorted(
        (r.version for r in version_register(db.session) if r.process_id == process_id),
        reverse=True,
    )
    if not numbers:
        abort(404)
    errors: dict[str, str] = {}
    chosen = []
    defaults = (("a", numbers[min(1, len(numbers) - 1)]), ("b", numbers[0]))
    for name, default in defaults:
        value = request.args.get(name, str(default))
        if not value.isdigit() or int(value) not in numbers:
            errors[name] = _("Choose a version from the list.")
            chosen.append(default)
        else:
            chosen.append(int(value))
    old, new = (_sources(process_id, n) for n in chosen)
    diff = diff_definitions(old.files[old.main_path], new.files[new.main_path])
    files_changed = sorted(
        path
        for path in set(old.files) | set(new.files)
        if path != new.main_path and old.files.get(path) != new.files.get(path)
    )
    page = render_template(
        "quality/compare.html",
        process_id=process_id,
        numbers=numbers,
        a=chosen[0],
        b=chosen[1],
        old=old,
        new=new,
        diff=diff,
        files_changed=files_changed,
        errors=errors,
    )
    return page, 422 if errors else 200
