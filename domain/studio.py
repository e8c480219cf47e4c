"""Drafts of process definitions and their review under four eyes (issue 12).

ISO/IEC 17065 §8.3 (document control): a procedure is reviewed and approved before use, its
changes are identified and the current version is known. Here: a draft is edited only by its
author while it is not under review; a reason is required to submit it; its reviewer is never
its author; the approval records author, approver, reason, hash and effective time."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from domain.models_studio import ProcessDraft

RULE = "ISO/IEC 17065 8.3"
EDITABLE = frozenset({"editing", "rejected"})
OPEN = frozenset({"editing", "in_review", "rejected"})
MAX_FILE_CHARS = 4 * 1024 * 1024  # the size limit `certflow validate` applies to a file


def new_draft(
    session: Session,
    *,
    process_id: str,
    main_path: str,
    files: dict[str, str],
    author: str,
    base_version: int | None,
    base_sha256: str | None,
    now: datetime,
) -> ProcessDraft:
    draft = ProcessDraft(
        process_id=process_id,
        main_path=main_path,
        files=dict(files),
        author=author,
        base_version=base_version,
        base_sha256=base_sha256,
        status="editing",
        reason="",
        review_comments="",
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def open_drafts(session: Session) -> list[ProcessDraft]:
    return list(
        session.scalars(
            select(ProcessDraft)
            .where(ProcessDraft.status.in_(OPEN))
            .order_by(ProcessDraft.process_id, ProcessDraft.id)
        )
    )


def may_edit(draft: ProcessDraft, username: str) -> bool:
    return draft.author == username and draft.status in EDITABLE


def save_file(draft: ProcessDraft, *, path: str, content: str, editor: str, now: datetime) -> None:
    """Replace one file of the draft (the modeler saves the main BPMN)."""
    if not may_edit(draft, editor):
        raise RuleViolation(RULE, "only the author edits a draft, and not while it is reviewed")
    if path not in draft.files:
        raise RuleViolation(RULE, f"{path} is not a file of this draft", field="path")
    if len(content) > MAX_FILE_CHARS:
        raise RuleViolation(RULE, "the file is larger than 4 MB", field="content")
    draft.files = {**draft.files, path: content}  # a new dict: JSON columns track assignment
    draft.updated_at = now


def submit(draft: ProcessDraft, *, reason: str, submitter: str, now: datetime) -> None:
    """Ask for review: the author, with the reason of the change."""
    if not may_edit(draft, submitter):
        raise RuleViolation(RULE, "only the author submits a draft that is being edited")
    if not reason.strip():
        raise RuleViolation(RULE, "the reason for the change is required", field="reason")
    draft.reason = reason.strip()
    draft.status = "in_review"
    draft.updated_at = now


def reviewer_refusal(draft: ProcessDraft | None, username: str) -> str | None:
    """Why `username` may not decide on the draft's review (four eyes), or None."""
    if draft is None:
        return "the draft under review does not exist"
    if draft.author == username:
        return f"{RULE}: the author of a change may not approve it (four eyes)"
    if draft.status != "in_review":
        return "the draft is not under review"
    return None


def record_approval(
    draft: ProcessDraft,
    *,
    approver: str,
    comments: str,
    version: int | None,
    sha256: str | None,
    now: datetime,
) -> None:
    refusal = reviewer_refusal(draft, approver)
    if refusal:
        raise RuleViolation(RULE, refusal)
    draft.status = "approved"
    draft.reviewer = approver
    draft.review_comments = comments or ""
    draft.deployed_version = version
    draft.deployed_sha256 = sha256
    draft.effective_at = now
    draft.updated_at = now


def check_decision(approved: object, comments: object) -> None:
    """A rejection tells the author why (the comments go back with the draft)."""
    if approved is not True and not (isinstance(comments, str) and comments.strip()):
        raise RuleViolation(RULE, "a rejection needs comments for the author", field="comments")


def record_rejection(draft: ProcessDraft, *, reviewer: str, comments: str, now: datetime) -> None:
    """Back to the author with the reviewer's comments; the author edits and submits again."""
    refusal = reviewer_refusal(draft, reviewer)
    if refusal:
        raise RuleViolation(RULE, refusal)
    check_decision(False, comments)
    draft.status = "rejected"
    draft.reviewer = reviewer
    draft.review_comments = comments.strip()
    draft.updated_at = now
