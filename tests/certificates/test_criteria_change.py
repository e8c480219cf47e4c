"""R-9.3 认证依据发生变化: a change of the certification criteria is a kind of certificate change —
the client applies, the market department evaluates, the certificate is reissued naming the
current criteria (domain/criteria.py) — through certificate_change.bpmn with the engine, after a
real certification, on both databases."""

import pytest
from sqlalchemy import func, select

from certflow.dates import china_date
from certflow.db import db
from domain.criteria import CURRENT
from domain.models import Certificate, ChangeRequest
from engine.errors import FormValidationError
from tests.certificates.test_certificate_changes import (
    PROCESS,
    certified,
    change_row,
    evaluate,
    events,
    instance_status,
    life,  # noqa: F401 (fixture)
    request,
    start_change,
)

# What a certificate issued under earlier criteria names (test data: the CB has since adopted
# CURRENT).
EARLIER_RULES = "首认检测认证/CTC 商品售后服务认证实施规则（上一版）"


def issued_under_earlier_criteria(certificate: Certificate) -> Certificate:
    row = db.session.get(Certificate, certificate.id)
    row.rules = EARLIER_RULES
    db.session.commit()
    return row


def test_criteria_change_reissues_the_certificate_naming_the_current_criteria(life):  # noqa: F811
    old = issued_under_earlier_criteria(certified(life))
    issued_on, today = old.issued_on, china_date(life.clock.now())
    instance_id = start_change(life, old)
    task = life.open_in(PROCESS, "Task_RequestChange")
    facts = life.engine.task_data(task)["certificate"]
    # The request form shows the criteria named and the current ones.
    assert facts["rules"] == EARLIER_RULES and facts["criteria_current"] is False
    assert facts["current_criteria"] == CURRENT.as_dict()

    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        request("criteria", reason="认证依据已更新 the criteria were revised"),
    )
    change = change_row()
    assert (change.kind, change.status) == ("criteria", "requested")
    assert change.details["old_criteria"]["rules"] == EARLIER_RULES
    assert change.details["new_criteria"] == CURRENT.as_dict()
    evaluate(life, evaluation="客户满足新认证依据 the client meets the new criteria")

    assert instance_status(life, instance_id) == "completed"
    change = change_row()
    new = db.session.get(Certificate, change.new_certificate_id)
    old = db.session.get(Certificate, old.id)
    # Reissued naming the current criteria, with the original issue date and the change date.
    assert (new.standard, new.rules) == (CURRENT.standard, CURRENT.rules)
    assert (new.original_issued_on, new.changed_on) == (issued_on, today)
    assert new.star_level == old.star_level and new.sites == old.sites
    assert old.status == "superseded" and old.rules == EARLIER_RULES
    [reissued] = events(new.id)
    assert (reissued.event, reissued.rule) == ("reissued", "R-9.3")
    assert reissued.data["rules"] == {"from": EARLIER_RULES, "to": CURRENT.rules}


def test_criteria_change_of_a_certificate_under_the_current_criteria_is_refused(life):  # noqa: F811
    old = certified(life)
    start_change(life, old)
    task = life.open_in(PROCESS, "Task_RequestChange")
    with pytest.raises(FormValidationError) as refused:
        life.engine.complete_task(task.id, actor=life.people.client, data=request("criteria"))
    assert "already names the current certification criteria" in refused.value.errors["kind"][0]
    # The form (if/then): a criteria change carries no new value, level or site.
    with pytest.raises(FormValidationError) as refused:
        life.engine.complete_task(
            task.id, actor=life.people.client, data=request("criteria", new_value="x")
        )
    assert "new_value" in refused.value.errors
    assert db.session.scalar(select(func.count(ChangeRequest.id))) == 0
