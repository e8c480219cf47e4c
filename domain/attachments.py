"""Uploaded files: bytes under instance/uploads (content-addressed), metadata in `attachment`."""

import hashlib
import mimetypes
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from domain.models import Attachment

MAX_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
}
KINDS = frozenset(
    {
        "legal_status",
        "service_documents",
        "service_flowchart",
        "other_certificates",
        "evidence",
        "nc_evidence",
        "other",
    }
)


class AttachmentRejected(ValueError):
    pass


def upload_content_type(declared: str | None, filename: str | None) -> str:
    """The type of an uploaded part: as declared, or by the filename when it declares none."""
    content_type = (declared or "").lower()
    if content_type in ("", "application/octet-stream"):
        content_type = mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
    return content_type


def store_attachment(
    session: Session,
    storage_dir: Path,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    kind: str,
    uploaded_by: str,
    now: datetime,
    organisation_id: int | None = None,
) -> Attachment:
    """Check size and type, write the bytes once per content hash, record the metadata."""
    if kind not in KINDS:
        raise AttachmentRejected(f"unknown attachment kind {kind!r}")
    if not data:
        raise AttachmentRejected("the file is empty")
    if len(data) > MAX_BYTES:
        raise AttachmentRejected(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if content_type not in ALLOWED_TYPES:
        raise AttachmentRejected(f"file type {content_type!r} is not accepted")
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / digest
    target = storage_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(target)
    attachment = Attachment(
        organisation_id=organisation_id,
        kind=kind,
        filename=Path(filename).name[:300] or "upload",
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_path=relative.as_posix(),
        uploaded_by=uploaded_by,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachment_path(storage_dir: Path, attachment: Attachment) -> Path:
    return storage_dir / attachment.storage_path
