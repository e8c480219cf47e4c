"""Incident repair pages (`/instances/<id>/incidents/<incident>/repair`): staff with the retry
roles of the permission table correct the values the failing step reads and run it again, or
send the case back to the user task whose answer must change (engine/repair.py does both, in one
transaction under the optimistic lock). The sent-back task keeps its previous answers as the
assignee's draft (`keep_answers_as_draft`, an engine hook in the same transaction)."""

from engine.hooks import Hooks, TaskSentBack
from webapp.models import TaskDraft


def keep_answers_as_draft(event: TaskSentBack) -> None:
    """The answers the task was completed with become its assignee's draft."""
    if not event.assignee:
        return
    draft = event.session.get(TaskDraft, (event.task_id, event.assignee))
    if draft is None:
        draft = TaskDraft(task_id=event.task_id, username=event.assignee)
        event.session.add(draft)
    draft.data = dict(event.previous_data)
    draft.saved_at = event.now


def register_repair_hooks(hooks: Hooks) -> None:
    hooks.on(TaskSentBack)(keep_answers_as_draft)
