"""Files on the task page: the uploads of a submitted form (stored before the engine decides,
taken back when it refuses the user), and the case's files the user may download.
"""

from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, union

from certflow.db import db
from domain.attachments import KINDS, AttachmentRejected, store_attachment, upload_content_type
from domain.models import Application, Attachment
from engine.service import TaskView
from webapp import forms_render
from webapp.access import Viewer, may_download
from webapp.form_attachments import submitted_attachment_ids
from webapp.form_schema import attachment_kind
from webapp.runtime import get_clock, get_engine


def storage_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def case_attachments(row: TaskView, viewer: Viewer) -> list[Attachment]:
    """Files of the task's case that the user may download: those of the linked applications and
    those submitted in the instance's completed forms."""
    link = Application.instance_id == row.instance_id
    if row.business_key is not None:
        link = or_(link, Application.number == row.business_key)
    wanted = select(Attachment.id).join(Application, Application.id == Attachment.application_id)
    wanted = wanted.where(link)
    submitted = submitted_attachment_ids(get_engine(), [row.instance_id])
    if submitted:  # a union, not an OR across the join: each part keeps its index (issue 16)
        wanted = union(wanted, select(Attachment.id).where(Attachment.id.in_(sorted(submitted))))
    rows = db.session.scalars(
        select(Attachment).where(Attachment.id.in_(wanted)).order_by(Attachment.id)
    ).all()
    return [a for a in rows if may_download(viewer, a)]


class UploadStore:
    """Stores the files of one submitted form for `viewer` (the form parser's `store_file`) and
    remembers their ids."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.now = get_clock().now()
        self.stored: list[int] = []

    def __call__(self, field: forms_render.Field, upload) -> int:
        content_type = upload_content_type(upload.mimetype, upload.filename)
        name = str(field.path[-1]) if field.path else ""
        try:
            attachment = store_attachment(
                db.session,
                storage_dir(),
                filename=upload.filename or "upload",
                content_type=content_type,
                data=upload.stream,  # copied in chunks, the size limit checked while reading
                kind=attachment_kind(name, field.schema, KINDS),
                uploaded_by=self.viewer.username,
                now=self.now,
                organisation_id=self.viewer.organisation_id,
            )
        except AttachmentRejected as err:
            raise ValueError(upload_message(str(err), upload.filename or "")) from err
        self.stored.append(attachment.id)
        return attachment.id


def upload_message(reason: str, filename: str) -> str:
    if "empty" in reason:
        return _("%(file)s: the file is empty.", file=filename)
    if "larger" in reason:
        return _("%(file)s: the file is larger than 20 MB.", file=filename)
    if "type" in reason:
        return _(
            "%(file)s: this file type is not accepted (PDF, PNG, JPEG, text, Word, Excel).",
            file=filename,
        )
    return f"{filename}: {reason}"


def attachment_check(viewer: Viewer):
    def ok(attachment_id: int) -> bool:
        attachment = db.session.get(Attachment, attachment_id)
        return attachment is not None and may_download(viewer, attachment)

    return ok


def discard_uploads(attachment_ids: list[int]) -> None:
    """Take back the attachment rows of a submission the engine refused: who may not work on the
    task keeps nothing from it. (The bytes are content-addressed and may be shared; they stay.)"""
    if attachment_ids:
        db.session.execute(delete(Attachment).where(Attachment.id.in_(attachment_ids)))
        db.session.commit()
