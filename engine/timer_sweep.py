"""Timers: which instances have a timer due on the clock, and firing them (one transaction per
instance; on PostgreSQL a second sweeper skips a locked instance)."""

import logging

from sqlalchemy import select

from engine import timers
from engine.actors import SYSTEM, Actor
from engine.core import TIMER_EVENT_TYPES, EngineCore, Run
from engine.errors import ConflictError
from engine.models import ProcessInstance

log = logging.getLogger(__name__)


class TimerSweep(EngineCore):
    """Finding and firing due timers."""

    def due_instance_ids(self, limit: int = 100) -> list[int]:
        """Instances with a timer due now: a timer due at T fires when the clock reads T
        (`next_timer_at <= now`, the rule of timers.is_due, also used by SpiffWorkflow's
        comparison as patched in engine/timers.py)."""
        now = self.clock.now()
        return list(
            self.session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now)
                .order_by(ProcessInstance.next_timer_at)
                .limit(limit)
            )
        )

    def fire_timers(self, instance_id: int, *, actor: Actor = SYSTEM) -> bool:
        """Fire the due timers of one instance; False when another sweeper has it or none is due."""
        with self._transaction() as session:
            now = self.clock.now()
            query = select(ProcessInstance).where(
                ProcessInstance.id == instance_id,
                ProcessInstance.status == "running",
                ProcessInstance.next_timer_at <= now,
            )
            if self._is_postgresql():
                # A second sweeper skips the row instead of waiting for it.
                query = query.with_for_update(skip_locked=True)
            instance = session.scalars(query).first()
            if instance is None:
                return False
            workflow = self._load_to_change(instance)
            run = Run(instance, workflow, actor, now)
            with self._scope(run):
                due = [
                    p.name
                    for p in workflow.waiting_events()
                    if p.event_type in TIMER_EVENT_TYPES
                    and p.value
                    and timers.is_due(timers.timer_due_at(p.value), now)
                ]
                workflow.refresh_timers()
                self._log(
                    session,
                    "timer_fired",
                    actor,
                    now,
                    instance_id=instance.id,
                    data={"timers": due},
                )
                self._advance(run)
                self._finish(run)
        return True

    def fire_due_timers(self, limit: int = 100) -> list[int]:
        fired = []
        for instance_id in self.due_instance_ids(limit):
            try:
                if self.fire_timers(instance_id):
                    fired.append(instance_id)
            except ConflictError:
                log.info(
                    "instance %s changed concurrently; its timers fire next sweep", instance_id
                )
        return fired
