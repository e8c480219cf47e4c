"""Uploading and downloading files (application materials, evidence), with access checks."""

from pathlib import Path

from flask import current_app, jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from certflow.db import db
from domain.attachments import (
    MAX_BYTES,
    AttachmentRejected,
    attachment_path,
    store_attachment,
    upload_content_type,
)
from domain.models import Attachment
from engine.errors import NotFoundError
from webapp import access
from webapp.access import Viewer
from webapp.api import responses
from webapp.api.auth import ApiError, current_user
from webapp.api.blueprint import bp
from webapp.api.errors import Body, error_response
from webapp.api.openapi import answers, api_spec
from webapp.api.routes import ID
from webapp.api.serialize import timestamp
from webapp.runtime import get_clock

# One file per upload request: the request may be the file's limit plus the multipart framing.
MULTIPART_SLACK_BYTES = 64 * 1024  # tests/web/test_request_limits.py API_UPLOAD_LIMIT


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


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(err: RequestEntityTooLarge) -> Body:
    """JSON under /api/v1 (the app-wide 413 handler renders the web page)."""
    limit = request.max_content_length or 0
    return error_response(413, f"the request body is larger than {limit} bytes")


@bp.post("/attachments")
@api_spec.validate(  # the multipart body is described in openapi.UPLOAD_BODY
    resp=answers(
        201,
        responses.Attachment,
        "The stored file.",
        (401, 409, 413),
        unprocessable="the file is empty, larger than 20 MB or of a type not accepted.",
    ),
    tags=["attachments"],
    operation_id="uploadAttachment",
)
def upload_attachment() -> Body:
    """Upload a file (multipart/form-data: file, kind); form fields of format `attachment` then
    name its id.

    At most 20 MB, not empty; PDF, images, text, Office documents (the file part's Content-Type;
    a part without one, or with application/octet-stream, is typed by its filename's extension).
    Other form fields are ignored. A client's upload belongs to its organisation.
    """
    request.max_content_length = min(
        current_app.config["MAX_CONTENT_LENGTH"], MAX_BYTES + MULTIPART_SLACK_BYTES
    )
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    if upload is None:
        raise ApiError(422, "no file uploaded", errors={"file": ["required"]})
    user = current_user()
    try:
        attachment = store_attachment(
            db.session,
            storage_dir(),
            filename=upload.filename or "upload",
            content_type=upload_content_type(upload.mimetype, upload.filename),
            data=upload.stream,  # copied in chunks, the 20 MB limit checked while reading
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


@bp.get(f"/attachments/<{ID}:attachment_id>")
@api_spec.validate(  # the binary answer is described in openapi.DOWNLOAD_CONTENT
    resp=answers(
        200,
        None,
        "The file's bytes, sent with the type it was stored with, as an attachment "
        "(Content-Disposition) under its filename.",
        (401, 404),
    ),
    tags=["attachments"],
    operation_id="downloadAttachment",
    path_parameter_descriptions={"attachment_id": "Attachment id."},
)
def download_attachment(attachment_id: int) -> Response:
    """Download a file: its uploader, its organisation's users, or staff."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not access.may_download(Viewer.of(current_user()), attachment):
        raise NotFoundError(f"attachment {attachment_id} not found")
    return send_file(
        attachment_path(storage_dir(), attachment),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
