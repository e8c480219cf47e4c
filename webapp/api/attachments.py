"""Uploading and downloading files (application materials, evidence), with access checks."""

from pathlib import Path

from flask import current_app, jsonify, request, send_file
from werkzeug.wrappers import Response

from certflow.db import db
from domain.attachments import (
    AttachmentRejected,
    attachment_path,
    store_attachment,
    upload_content_type,
)
from domain.models import Attachment
from engine.errors import NotFoundError
from webapp import access, get_clock
from webapp.access import Viewer
from webapp.api import bp
from webapp.api.auth import ApiError, current_user
from webapp.api.routes import Body, timestamp


def storage_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def attachment_json(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "organisation_id": attachment.organisation_id,
        "uploaded_by": attachment.uploaded_by,
        "uploaded_at": timestamp(attachment.uploaded_at),
    }


@bp.post("/attachments")
def upload_attachment() -> Body:
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    if upload is None:
        raise ApiError(422, "no file uploaded", errors={"file": ["required"]})
    data = upload.read()
    user = current_user()
    try:
        attachment = store_attachment(
            db.session,
            storage_dir(),
            filename=upload.filename or "upload",
            content_type=upload_content_type(upload.mimetype, upload.filename),
            data=data,
            kind=kind,
            uploaded_by=user.username,
            now=get_clock().now(),
            organisation_id=user.organisation_id,
        )
    except AttachmentRejected as err:
        field = "kind" if "kind" in str(err) else "file"
        raise ApiError(422, str(err), errors={field: [str(err)]}) from err
    db.session.commit()
    return jsonify(attachment_json(attachment)), 201


@bp.get("/attachments/<int:attachment_id>")
def download_attachment(attachment_id: int) -> Response:
    attachment = db.session.get(Attachment, attachment_id) if attachment_id < 2**31 else None
    if attachment is None or not access.may_download(Viewer.of(current_user()), attachment):
        raise NotFoundError(f"attachment {attachment_id} not found")
    return send_file(
        attachment_path(storage_dir(), attachment),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
