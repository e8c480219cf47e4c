"""Pruning finished instances (issue 16): the serialized SpiffWorkflow state of a completed or
terminated instance (about 150 KB for a certification case: the whole task tree with a copy of
the case data on every task) is replaced by a compact record of what its pages still need — the
diagram marks (elements reached, flows taken) — while the append-only event log keeps the
history (who completed which task when, with the data submitted).

A pruned instance is never run again (nothing runs a finished instance); its pages read the
compact record (`diagram_marks`) and the event log (`task_data`: the answers recorded up to that
task). Loading its workflow raises ConflictError (engine/serialization.py).
"""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.diagram_state import diagram_marks
from engine.models import EventLog, ProcessInstance
from engine.records import record_events

PRUNED_SERIALIZER = "pruned-1"  # process_instance.serializer_version of a pruned instance
FINISHED = ("completed", "terminated")
PRUNE_BATCH = 200


def is_pruned(instance: Any) -> bool:
    return getattr(instance, "serializer_version", None) == PRUNED_SERIALIZER


def compact_state(marks: dict[str, dict[str, list]]) -> str:
    """The stored state of a pruned instance: its diagram marks, nothing else."""
    return json.dumps({"pruned": PRUNED_SERIALIZER, "marks": marks}, separators=(",", ":"))


def pruned_marks(instance: Any) -> dict[str, dict[str, list]]:
    return json.loads(instance.state_json)["marks"]


def pruned_task_data(session: Session, instance_id: int, task_id: str) -> dict[str, Any]:
    """The answers recorded by the task completions of the instance up to and including
    `task_id` (every completion when the task was never completed), in order: what the task's
    form showed, as far as people entered it."""
    rows = session.execute(
        select(EventLog.task_id, EventLog.data)
        .where(EventLog.instance_id == instance_id, EventLog.event_type == "task_completed")
        .order_by(EventLog.id)
    ).all()
    data: dict[str, Any] = {}
    for row_task_id, event_data in rows:
        data.update((event_data or {}).get("data") or {})
        if row_task_id == task_id:
            break
    return data


def _prunable(ended_before: datetime | None) -> Select:
    query = select(ProcessInstance).where(
        ProcessInstance.status.in_(FINISHED),
        ProcessInstance.serializer_version != PRUNED_SERIALIZER,
    )
    if ended_before is not None:
        query = query.where(ProcessInstance.ended_at <= ended_before)
    return query


class Pruning:
    """`prune_finished`: compact the state of finished instances (an engine part, see
    engine/service.py)."""

    def count_prunable(self, *, ended_before: datetime | None = None) -> int:
        query = _prunable(ended_before).with_only_columns(func.count())
        return self.session.scalar(query.order_by(None))

    def prune_finished(
        self,
        *,
        ended_before: datetime | None = None,
        limit: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Prune finished instances (ended at or before `ended_before` when given), in batches of
        PRUNE_BATCH, one transaction each; an `instance_pruned` event records the bytes before
        and after; `progress(n)` after each batch. Returns {"instances": n, "bytes_before": …,
        "bytes_after": …}."""
        totals = {"instances": 0, "bytes_before": 0, "bytes_after": 0}
        while limit is None or totals["instances"] < limit:
            batch = PRUNE_BATCH if limit is None else min(PRUNE_BATCH, limit - totals["instances"])
            # The batch's writes go together at its end (no autoflush, the clock read once, the
            # events in one INSERT): on SQLite the write lock is held for them only, not while
            # each state is loaded (issue 16: the scheduler prunes beside the web).
            with self._transaction() as session, session.no_autoflush:
                now = self.clock.now()
                # Two pruners at once (schedulers, `certflow prune`) take disjoint rows on
                # PostgreSQL; SQLite has one writer anyway and ignores the clause.
                query = (
                    _prunable(ended_before)
                    .order_by(ProcessInstance.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                instances = session.scalars(query).all()
                events = []
                for instance in instances:
                    before, after = self._prune_one(instance)
                    totals["bytes_before"] += before
                    totals["bytes_after"] += after
                    events.append(
                        {
                            "at": now,
                            "actor": "system",
                            "event_type": "instance_pruned",
                            "instance_id": instance.id,
                            "data": {"state_bytes_before": before, "state_bytes_after": after},
                        }
                    )
                record_events(session, events)
                totals["instances"] += len(instances)
            if progress is not None:
                progress(len(instances))
            if len(instances) < batch:
                break
        return totals

    def _prune_one(self, instance: ProcessInstance) -> tuple[int, int]:
        """Replace the instance's state by its diagram marks; (bytes before, bytes after)."""
        marks = diagram_marks(self._load(instance), [])
        before = len(instance.state_json.encode())
        instance.state_json = compact_state(marks)
        instance.serializer_version = PRUNED_SERIALIZER
        return before, len(instance.state_json.encode())
