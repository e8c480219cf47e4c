"""Messages: sent from outside or thrown by an instance, delivered to the instance that waits
for them (correlated by business key and/or instance id), starting a process by its message start
event, or queued until an instance waits for them."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, or_, select, update

from engine.actors import Actor
from engine.core import NOTHING_QUEUED, EngineCore, Run, valid_id
from engine.errors import EngineError
from engine.hooks import MessageDelivered
from engine.models import MessageSubscription, ProcessInstance, QueuedMessage


def undelivered_for(instance_id: ColumnElement, business_key: ColumnElement) -> ColumnElement:
    """The rule by which an undelivered queued message correlates with an instance: addressed
    to it or to no instance, and with its business key or none. An instance without a business
    key takes only messages without one (NULL = NULL is not true in SQL)."""
    return and_(
        QueuedMessage.delivered_at.is_(None),
        or_(
            QueuedMessage.target_instance_id.is_(None),
            QueuedMessage.target_instance_id == instance_id,
        ),
        or_(QueuedMessage.business_key.is_(None), QueuedMessage.business_key == business_key),
    )


@cache
def _first_queued_for_query() -> Select:
    """The oldest undelivered message of the given names that correlates with the instance (the
    correlation is checked in SQL). Built once, on first use (issue 16: building it cost more
    than SQLite took to run it)."""
    table = QueuedMessage.__table__
    return (
        select(table.c.id, table.c.name, table.c.payload)
        .where(
            QueuedMessage.name.in_(bindparam("names", expanding=True)),
            undelivered_for(bindparam("instance_id"), bindparam("business_key")),
        )
        .order_by(QueuedMessage.id)
        .limit(1)
    )


@dataclass
class MessageResult:
    delivered_to: int | None = None
    queued_id: int | None = None


class Messages(EngineCore):
    """Sending, routing, delivering and queueing messages."""

    def send_message(
        self,
        name: str,
        *,
        correlation: dict[str, Any],
        payload: dict[str, Any] | None = None,
        actor: Actor,
    ) -> MessageResult:
        if not correlation or not set(correlation) <= {"business_key", "instance_id"}:
            raise EngineError(
                "correlation needs business_key and/or instance_id (and nothing else)"
            )
        if "instance_id" in correlation and not valid_id(correlation["instance_id"]):
            raise EngineError("correlation instance_id must be a positive integer")
        with self._transaction():
            now = self.clock.now()
            return self._dispatch_message(name, correlation, payload or {}, actor, now)

    def _dispatch_message(
        self,
        name: str,
        correlation: dict[str, Any],
        payload: dict[str, Any],
        actor: Actor,
        now: datetime,
        exclude_instance: int | None = None,
    ) -> MessageResult:
        session = self.session
        query = (
            select(ProcessInstance)
            .join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
            .where(MessageSubscription.message_name == name, ProcessInstance.status == "running")
            .order_by(ProcessInstance.id)
        )
        if "business_key" in correlation:
            query = query.where(ProcessInstance.business_key == correlation["business_key"])
        if "instance_id" in correlation:
            query = query.where(ProcessInstance.id == correlation["instance_id"])
        if exclude_instance is not None:
            query = query.where(ProcessInstance.id != exclude_instance)
        instance = session.scalars(query.limit(1)).first()
        if instance is None and "instance_id" not in correlation:
            started = self._start_by_message(name, correlation, payload, actor, now)
            if started is not None:
                return MessageResult(delivered_to=started.id)
        if instance is None:
            queued = QueuedMessage(
                name=name,
                business_key=correlation.get("business_key"),
                target_instance_id=correlation.get("instance_id"),
                payload=payload,
                sent_by=actor.username,
                received_at=now,
            )
            session.add(queued)
            session.flush()
            session.info.pop(NOTHING_QUEUED, None)  # it may be for an instance this operation runs
            self._log(
                session,
                "message_queued",
                actor,
                now,
                data={"name": name, "correlation": correlation, "payload": payload},
            )
            return MessageResult(queued_id=queued.id)
        workflow = self._load_to_change(instance)
        run = Run(instance, workflow, actor, now)
        with self._scope(run):
            self._deliver(run, name, payload)
            self._finish(run)
        return MessageResult(delivered_to=instance.id)

    def _start_by_message(
        self,
        name: str,
        correlation: dict[str, Any],
        payload: dict[str, Any],
        actor: Actor,
        now: datetime,
    ) -> ProcessInstance | None:
        """A message no instance waits for starts the process whose message start event
        catches it (e.g. `certificate_issued` starts surveillance); None when there is none."""
        candidates = [v for v in self.list_latest_versions() if name in (v.start_messages or [])]
        if not candidates:
            return None
        if len(candidates) > 1:
            names = sorted(v.process_id for v in candidates)
            raise EngineError(f"message {name!r} would start several processes: {names}")
        run = self._new_instance(candidates[0], actor, {}, correlation.get("business_key"), now)
        with self._scope(run):
            run.workflow.do_engine_steps()  # the start event now waits for the message
            self._deliver(run, name, payload)
            self._finish(run)
        return run.instance

    def _deliver(self, run: Run, name: str, payload: dict[str, Any]) -> None:
        run.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        self._log(
            self.session,
            "message_delivered",
            run.actor,
            run.now,
            instance_id=run.instance.id,
            data={"name": name, "payload": payload},
        )
        self._emit(
            MessageDelivered(
                session=self.session,
                now=run.now,
                actor=run.actor.username,
                instance_id=run.instance.id,
                process_id=run.instance.process_id,
                business_key=run.instance.business_key,
                name=name,
                payload=payload,
            )
        )
        self._advance(run)

    def _queued_for(self, instance: ProcessInstance, names: set[str]) -> Row | None:
        """The oldest queued message (id, name, payload) the instance now takes, if any. A Core
        query on the operation's connection (issue 16: no ORM object is needed, and no flush:
        a queued message is flushed when it is stored, _dispatch_message, and marked delivered
        by a statement, `_mark_delivered`). None without a query when the operation read that
        none correlates with the instance (a completion, NOTHING_QUEUED)."""
        if not names or instance.id in self.session.info.get(NOTHING_QUEUED, ()):
            return None
        return (
            self.session.connection()
            .execute(
                _first_queued_for_query(),
                {
                    "names": sorted(names),
                    "instance_id": instance.id,
                    "business_key": instance.business_key,
                },
            )
            .first()
        )

    def _mark_delivered(self, queued_id: int, instance_id: int, now: datetime) -> None:
        table = QueuedMessage.__table__
        self.session.connection().execute(
            update(table)
            .where(table.c.id == queued_id)
            .values(delivered_at=now, delivered_to=instance_id)
        )

    def _route_thrown_messages(self, run: Run) -> None:
        """Messages an instance throws go to the instance that correlates with them."""
        for event in run.workflow.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                continue
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            business_key = payload.get("business_key", run.instance.business_key)
            self._dispatch_message(
                definition.name,
                {"business_key": business_key},
                payload,
                run.actor,
                run.now,
                exclude_instance=run.instance.id,
            )
