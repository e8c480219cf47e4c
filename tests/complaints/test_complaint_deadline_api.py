"""Issue 11 item 4 (R-12): the 30 days of a complaint count from receipt, whatever the stage —
also while it waits to be assigned — and the investigation's `overdue` means that deadline.

The clock is moved through the HTTP API (POST /api/v1/clock, which runs the timer sweep) and the
task is read through GET /api/v1/tasks/<id>."""

from datetime import date, datetime, time, timedelta

from certflow.accounts import create_user, issue_token
from certflow.dates import CHINA_TZ
from certflow.db import db
from tests.complaints.test_complaints import (
    assign,
    complaint_of,
    deployed,  # noqa: F401 (fixture)
    documents,
    factory_certificate,
    has_open_task,
    open_task,
    register,
)

RECEIVED = date(2026, 1, 5)  # START_TIME, 09:00 China time: day 0


def china(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TZ).isoformat()


class Http:
    def __init__(self, app, clock) -> None:
        admin = create_user(
            db.session, "ada_admin", password="pw", roles={"admin"}, display_name="Ada",
            now=clock.now(),
        )  # fmt: skip
        self.headers = {"Authorization": f"Bearer {issue_token(db.session, admin, clock.now())}"}
        db.session.commit()
        self.client = app.test_client()

    def set_clock(self, moment: str) -> None:
        db.session.rollback()  # the test's session must not hold a transaction open
        response = self.client.post("/api/v1/clock", json={"set": moment}, headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def task(self, task_id) -> dict:
        db.session.rollback()
        response = self.client.get(f"/api/v1/tasks/{task_id}", headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json


def test_a_complaint_left_unassigned_for_31_days_is_overdue(deployed, clock, app):  # noqa: F811
    factory_certificate(clock.now())
    complaint_id = register(deployed, clock, number="CTC-SHFW-2025-0007")
    http = Http(app, clock)

    # Day 20 and day 25 come while nobody has been assigned: reminded and escalated anyway.
    http.set_clock(china(RECEIVED + timedelta(days=20), 9, 1))
    assert len(documents(complaint_id, "complaint_reminder")) == 1
    http.set_clock(china(RECEIVED + timedelta(days=25), 9, 1))
    assert has_open_task(complaint_id, "Task_EscalationReview")
    assert has_open_task(complaint_id, "Task_AssignHandler")

    # Day 29 is the last of the 30 days (reply_due_on): not overdue that day, nor on day 30
    # before the 09:00 timer; overdue from day 30, 09:00.
    assert complaint_of(complaint_id).reply_due_on == RECEIVED + timedelta(days=29)
    http.set_clock(china(RECEIVED + timedelta(days=29), 23, 59))
    assert complaint_of(complaint_id).overdue is False
    http.set_clock(china(RECEIVED + timedelta(days=30), 9, 1))
    assert complaint_of(complaint_id).overdue is True

    # 31 days unassigned: still overdue, still waiting for its handler.
    http.set_clock(china(RECEIVED + timedelta(days=31), 12))
    complaint = complaint_of(complaint_id)
    assert complaint.overdue is True and complaint.status == "received"
    assert has_open_task(complaint_id, "Task_AssignHandler")


def test_the_investigation_is_overdue_at_the_30_day_deadline_not_at_the_reminder(
    deployed,  # noqa: F811
    clock,
    app,
):
    factory_certificate(clock.now())
    complaint_id = register(deployed, clock, number="CTC-SHFW-2025-0007")
    http = Http(app, clock)
    http.set_clock(china(RECEIVED + timedelta(days=3), 10))
    assign(deployed, complaint_id, "hu_handler")
    task_id = open_task(complaint_id, "Task_InvestigateComplaint").id

    task = http.task(task_id)
    assert task["due_at"] == "2026-02-04T01:00:00+00:00"  # day 30, 09:00 China time
    http.set_clock(china(RECEIVED + timedelta(days=21), 10))  # after the day-20 reminder
    assert len(documents(complaint_id, "complaint_reminder")) == 1
    assert http.task(task_id)["overdue"] is False
    http.set_clock(china(RECEIVED + timedelta(days=30), 9, 1))
    assert http.task(task_id)["overdue"] is True
    assert complaint_of(complaint_id).overdue is True
