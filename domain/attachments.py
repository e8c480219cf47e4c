"""Uploaded files: bytes under instance/uploads (content-addressed), metadata in `attachment`."""

import hashlib
import io
import mimetypes
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from domain.models import Attachment

MAX_BYTES = 20 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024  # uploads are copied in chunks: never a whole file in memory
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
    data: bytes | BinaryIO,
    kind: str,
    uploaded_by: str,
    now: datetime,
    organisation_id: int | None = None,
) -> Attachment:
    """Check kind and type, copy the bytes (or stream) to disk in chunks while hashing and
    counting — refused as soon as it passes MAX_BYTES — and record the metadata. Files are
    content-addressed: the same bytes are stored once."""
    if kind not in KINDS:
        raise AttachmentRejected(f"unknown attachment kind {kind!r}")
    if content_type not in ALLOWED_TYPES:
        raise AttachmentRejected(f"file type {content_type!r} is not accepted")
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    storage_dir.mkdir(parents=True, exist_ok=True)
    partial, digest, size = _copy_limited(source, storage_dir)
    relative = Path(digest[:2]) / digest
    target = storage_dir / relative
    if target.exists():
        partial.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.replace(target)
    attachment = Attachment(
        organisation_id=organisation_id,
        kind=kind,
        filename=Path(filename).name[:300] or "upload",
        content_type=content_type,
        size=size,
        sha256=digest,
        storage_path=relative.as_posix(),
        uploaded_by=uploaded_by,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    return attachment


def _copy_limited(source: BinaryIO, storage_dir: Path) -> tuple[Path, str, int]:
    """Copy `source` into a temporary file under `storage_dir`; (its path, sha256, size)."""
    handle, name = tempfile.mkstemp(dir=storage_dir, suffix=".part")
    partial = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise AttachmentRejected(
                        f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise AttachmentRejected("the file is empty")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial, digest.hexdigest(), size


def attachment_path(storage_dir: Path, attachment: Attachment) -> Path:
    return storage_dir / attachment.storage_path
