"""Operations endpoints (issue 16): liveness, readiness and the Prometheus metrics.

* `/healthz` (webapp/main.py): the process answers — for a process supervisor.
* `/readyz`: the database answers, its schema is at the migrations' head and process definitions
  are deployed — for a load balancer; 503 with the failing checks otherwise. Public: it says
  which checks fail, nothing else.
* `/metrics`: Prometheus text; only for the bearer token CERTFLOW_METRICS_TOKEN
  (`access.may_read_metrics`); without a configured token it does not exist (404).
"""

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from certflow.db import db
from certflow.metrics import exposition
from webapp.access import may_read_metrics
from webapp.runtime import get_engine, get_settings

bp = Blueprint("ops", __name__)


def _schema_at_head() -> bool:
    directory = current_app.extensions["migrate"].directory
    config = Config()
    config.set_main_option("script_location", directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def readiness() -> dict[str, bool]:
    """Each check in turn; a later one is false when an earlier one failed."""
    checks = {"database": False, "migrations": False, "definitions": False}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
        checks["migrations"] = _schema_at_head()
        checks["definitions"] = checks["migrations"] and bool(get_engine().latest_processes())
    except SQLAlchemyError:  # an unready database is an answer here, not an error
        current_app.logger.warning("readiness: the database is not ready", exc_info=True)
    finally:
        db.session.rollback()
    return checks


@bp.get("/readyz")
def readyz():
    checks = readiness()
    ready = all(checks.values())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


class _DatabaseGauges:
    """What the database knows, read when /metrics is asked (once, whatever the worker count)."""

    def collect(self):
        try:
            return self._read(get_engine())
        except SQLAlchemyError:
            current_app.logger.warning("metrics: the database is not ready", exc_info=True)
            return []
        finally:
            db.session.rollback()

    def _read(self, engine):
        incidents = GaugeMetricFamily("certflow_open_incidents", "Open incidents.")
        incidents.add_metric([], engine.open_incident_count())
        due = GaugeMetricFamily(
            "certflow_due_timers", "Running instances with a timer due and not yet fired."
        )
        due.add_metric([], engine.due_timer_count())
        return [incidents, due]


@bp.get("/metrics")
def metrics():
    if not may_read_metrics(get_settings().metrics_token):
        abort(404)
    return Response(exposition(_DatabaseGauges()), mimetype=CONTENT_TYPE_LATEST)
