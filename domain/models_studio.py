"""Tables of the process-owner studio (issue 12): drafts of process definitions.

A draft is a full source set (the process's BPMN, the processes it calls, its forms, DMN and the
English catalogue, `{path: text}`) copied from a deployed version and edited on the server. A
draft never runs: only an approved review deploys it as a new version (ISO/IEC 17065 §8.3:
documents reviewed and approved before use, changes identified)."""

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certflow.db import UTCDateTime, db


class ProcessDraft(db.Model):
    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    # The file of the source set that defines the process (what the modeler edits).
    main_path: Mapped[str] = mapped_column(String(500))
    files: Mapped[dict] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(80))
    # The deployed version the draft starts from (None: a new process imported from a file).
    base_version: Mapped[int | None] = mapped_column()
    base_sha256: Mapped[str | None] = mapped_column(String(64))
    # editing | in_review | approved | rejected (a rejected draft is edited again)
    status: Mapped[str] = mapped_column(String(20), index=True, default="editing")
    reason: Mapped[str] = mapped_column(Text, default="")  # why the change, given at submit
    reviewer: Mapped[str | None] = mapped_column(String(80))
    review_comments: Mapped[str] = mapped_column(Text, default="")
    review_instance_id: Mapped[int | None] = mapped_column()
    deployed_version: Mapped[int | None] = mapped_column()
    deployed_sha256: Mapped[str | None] = mapped_column(String(64))
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
