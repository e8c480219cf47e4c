"""Production operations (issue 16): /healthz, /readyz, /metrics, request ids and JSON logs."""

import json
import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from certflow.logs import configure_logging
from engine.models import HumanTask
from tests.conftest import make_app
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered

TOKEN = "metrics-token-for-the-test"


@pytest.fixture
def client(app):
    return app.test_client()


def test_health_is_the_process_answering(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_ready_only_once_definitions_are_deployed(app, client):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": True, "migrations": True, "definitions": False}
    with app.app_context(), registered("test_record_acceptance", record_acceptance):
        app.extensions["certflow.engine"].deploy([REVIEW_FLOW], actor=OWNER)
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ready",
        "checks": {"database": True, "migrations": True, "definitions": True},
    }


def test_not_ready_before_the_migrations(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "instance")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": True, "migrations": False, "definitions": False}


def test_metrics_do_not_exist_without_a_configured_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_metrics_only_for_the_configured_token(app, client):
    app.extensions["certflow.settings"] = app.extensions["certflow.settings"].model_copy(
        update={"metrics_token": SecretStr(TOKEN)}
    )
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_metrics_count_requests_completions_incidents_and_due_timers(app, client, clock):
    app.extensions["certflow.settings"] = app.extensions["certflow.settings"].model_copy(
        update={"metrics_token": SecretStr(TOKEN)}
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    before = client.get("/metrics", headers=headers).text
    client.get("/healthz")
    with app.app_context(), registered("test_record_acceptance", record_acceptance):
        engine = app.extensions["certflow.engine"]
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        instance = engine.start(
            "review_flow", actor=MARKET, data={"headcount": 1, "application_id": "T"}
        )
        review = engine.session.scalars(select(HumanTask)).one()
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
        clock.set(engine.get_instance(instance.id).next_timer_at + timedelta(seconds=1))
    after = client.get("/metrics", headers=headers).text
    healthz = {"method": "GET", "endpoint": "main.healthz", "status": "200"}
    assert _sample(after, "certflow_http_requests_total", **healthz) == (
        _sample(before, "certflow_http_requests_total", **healthz) + 1
    )
    completions = {"process": "review_flow"}
    assert _sample(after, "certflow_task_completions_total", **completions) == (
        _sample(before, "certflow_task_completions_total", **completions) + 1
    )
    kept = {"source": "kept"}  # the completion used the workflow the start had saved
    assert _sample(after, "certflow_workflow_loads_total", **kept) == (
        _sample(before, "certflow_workflow_loads_total", **kept) + 1
    )
    assert _sample(after, "certflow_due_timers") == 1
    assert _sample(after, "certflow_open_incidents") == 0
    assert "certflow_http_request_duration_seconds_bucket" in after


def test_every_answer_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    given = client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"})
    assert given.headers["X-Request-ID"] == "lb-42.a_b"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(forged.headers["X-Request-ID"]) == 32  # replaced, not echoed


def test_json_logs_carry_the_request_id(client, capfd):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("json")
        answer = client.get("/healthz", headers={"X-Request-ID": "req-1"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    access = [line for line in lines if line["logger"] == "certflow.access"]
    assert access[-1]["request_id"] == "req-1" == answer.headers["X-Request-ID"]
    assert access[-1]["status"] == 200 and access[-1]["path"] == "/healthz"
    assert "time" in access[-1] and access[-1]["level"] == "INFO"
