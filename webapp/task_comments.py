"""Who reads a task comment (R-11, issue 10): staff comments are internal unless the writer
explicitly addresses the client, and a client reads only what was written to or by the client.

An allowlist: a comment is shown to a client only when its visibility is "client"; everything
else (including any value this module does not know) is staff only.
"""

from sqlalchemy import select

from certflow.db import db
from engine.service import TaskView
from webapp.access import CLIENT_ROLE, Viewer
from webapp.models import TaskComment

INTERNAL = "internal"
TO_CLIENT = "client"
VISIBILITIES = (INTERNAL, TO_CLIENT)


def client_may_read(viewer: Viewer) -> bool:
    """Whether the viewer reads as a client (a client account holds no staff role)."""
    return not viewer.is_staff


def visible_comments(viewer: Viewer, task_id: str) -> list[TaskComment]:
    query = select(TaskComment).where(TaskComment.task_id == task_id)
    if client_may_read(viewer):
        query = query.where(TaskComment.visibility == TO_CLIENT)
    return list(db.session.scalars(query.order_by(TaskComment.id)))


def may_write_to_client(viewer: Viewer, row: TaskView) -> bool:
    """Staff may address the client only on a task the client can see (a client task)."""
    return viewer.is_staff and row.candidate_role == CLIENT_ROLE


def comment_visibility(viewer: Viewer, row: TaskView, requested: str | None) -> str | None:
    """The visibility of a new comment, or None when the request is not allowed. A client's
    own comment is always readable by the client; a staff comment is internal unless the
    writer chose "client" on a client task."""
    if client_may_read(viewer):
        return TO_CLIENT
    requested = (requested or INTERNAL).strip()
    if requested == INTERNAL:
        return INTERNAL
    if requested == TO_CLIENT and may_write_to_client(viewer, row):
        return TO_CLIENT
    return None
