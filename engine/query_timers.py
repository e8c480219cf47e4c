"""What the sweepers and the metrics read about timers and incidents: small aggregate queries on
indexed columns (next_timer_at, incident status)."""

from datetime import datetime

from sqlalchemy import func, select

from engine.core import EngineCore
from engine.models import Incident, ProcessInstance


class TimerQueries(EngineCore):
    def next_timer_due(self) -> datetime | None:
        """The earliest due time of a running instance's timer (None: no timer waits)."""
        return self.session.scalar(
            select(func.min(ProcessInstance.next_timer_at)).where(
                ProcessInstance.status == "running"
            )
        )

    def due_timer_count(self) -> int:
        """Running instances whose timer is due now and not yet fired."""
        return self.session.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(
                ProcessInstance.status == "running",
                ProcessInstance.next_timer_at <= self.clock.now(),
            )
        )

    def open_incident_count(self) -> int:
        return self.session.scalar(
            select(func.count()).select_from(Incident).where(Incident.status == "open")
        )
