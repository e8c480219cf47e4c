"""The conformance page (issue 13): the finished cases of a process replayed on the model of
their version; a case whose log was made to deviate (a review recorded after the contract was
signed) is listed with the step, the conforming one is not; both languages; 422 on a bad
process."""

import re

from certflow.db import db
from engine.records import record_event
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401

SIGNED = {"signed_on": "2026-01-10", "signatory": "Carl"}


def _finish(web: Web, key: str) -> int:
    instance = web.start(key)
    signing = web.to_contract(instance)
    with web.app.app_context():
        web.engine.complete_task(signing, actor=actor("carl"), data=SIGNED)
        assert web.engine.instance_view(instance).status == "completed"
    return instance


def test_the_deviating_case_is_listed_and_the_conforming_one_passes(web: Web):
    conforming = _finish(web, "APP-OK")
    deviating = _finish(web, "APP-BAD")
    web.start("APP-RUNNING")  # not finished: not replayed
    with web.app.app_context():  # the constructed deviation: a review after the signature
        record_event(
            db.session,
            "task_completed",
            actor="mia",
            at=web.clock.now(),
            instance_id=deviating,
            element_id="Task_Review",
        )
        db.session.commit()
    quinn = web.browser("quinn")
    page = text(quinn.get("/quality/conformance?process=review_flow&lang=en"))
    counts = re.search(r'<p class="result-count" ([^>]*)>', page).group(1)
    assert 'data-checked="2"' in counts and 'data-conforming="1"' in counts
    assert 'data-deviating="1"' in counts and 'data-undecided="0"' in counts
    rows = re.findall(r'<tr data-instance="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(instance) for instance, _ in rows] == [deviating]
    assert "APP-BAD" in rows[0][1] and f"/instances/{deviating}" in rows[0][1]
    assert "Task 3, “受理评审 Acceptance review”, is not allowed" in rows[0][1]
    assert f'data-instance="{conforming}"' not in page
    chinese = text(web.browser("quinn").get("/quality/conformance?process=review_flow"))
    assert "一致性检查" in chinese and "不允许" in chinese


def test_no_process_chosen_and_a_bad_process(web: Web):
    quinn = web.browser("quinn")
    page = quinn.get("/quality/conformance")
    assert page.status_code == 200 and "data-checked" not in text(page)
    assert quinn.get("/quality/conformance?process=nothing").status_code == 422
