"""R-10.1(a, f), R-10.2: the surveillance review of mark use (surveillance_audit.bpmn
Task_ReviewChangesAndMarkUse) shows the auditor the records the certification body holds — the
bronze plaque issued with its state and every download of the mark artwork (panel `mark_use`,
processes/task_context.yaml, webapp/mark_use_context.py)."""

from datetime import timedelta
from types import SimpleNamespace

from certflow.dates import add_months
from certflow.db import db
from domain.mark_artwork import record_download
from tests.lifecycle_case import nine_am
from webapp.access import Viewer
from webapp.task_context import task_context


def test_the_review_of_mark_use_shows_the_plaque_and_the_artwork_downloads(life):
    certificate = life.certify()
    life.complete_in(  # R-10.1(f): the plaque of the issue (mark_plaque.bpmn)
        "mark_plaque",
        "Task_IssuePlaque",
        life.people.decider,
        {
            "plaque_number": "TP-2026-0042",
            "issued_on": life.today(),
            "recipient": "王芳",
            "note": None,
        },
    )
    act = SimpleNamespace(session=db.session, now=life.clock.now(), actor="wang_client")
    record_download(act, certificate, "svg")
    db.session.commit()

    seen = {}
    complete_in = life.complete_in

    def looking(process_id, element_id, who, data):
        if element_id == "Task_ReviewChangesAndMarkUse":
            task = life.open_in(process_id, element_id)
            row = SimpleNamespace(
                element_id=task.element_id, instance_id=task.instance_id, business_key=None
            )
            viewer = Viewer(who.username, frozenset(who.roles))
            seen["context"] = task_context(viewer, row, life.engine.task_data(task))
        complete_in(process_id, element_id, who, data)

    life.complete_in = looking
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(due - timedelta(days=55))

    context = seen["context"]
    assert "mark_use" in context.panels
    (plaque,) = context.mark_use.plaques
    assert (plaque.plaque.plaque_number, plaque.plaque.star_level, plaque.state) == (
        "TP-2026-0042",
        certificate.star_level,
        "in_use",
    )
    (download,) = context.mark_use.downloads
    assert (download.downloaded_by, download.star_level, download.file_format) == (
        "wang_client",
        certificate.star_level,
        "svg",
    )
    assert context.mark_use.numbers[download.certificate_id] == certificate.number
