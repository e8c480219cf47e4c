"""The form checks of the contract, evidence, report receipt and nonconformity forms (issue 10,
"no dead ends"): what their service tasks would refuse is a 422 on the field at submit, through
the engine's complete path (the web page and the API both call it; see test_form_checks.py)."""

import pytest

from tests.certification_case import (
    findings_losing,
    one_nc,
    through_onsite,
)
from tests.forms.test_form_checks import no_incident, refused


def test_a_contract_signed_in_the_future_is_refused(case):
    case.apply()
    case.review()
    data = {
        "contract_number": "HT-0001",
        "client_signatory": "王总",
        "client_signed_on": case.day(1),  # tomorrow
        "cb_signatory": "市场部 刘经理",
        "cb_signed_on": case.today(),
        "fee": 30000,
    }
    errors = refused(case, "Task_SignContract", case.people.market, data)
    assert list(errors) == ["client_signed_on"] and "R-6.2.2a" in errors["client_signed_on"][0]
    case.complete(
        "Task_SignContract", case.people.market, data | {"client_signed_on": case.today()}
    )
    no_incident(case)


@pytest.fixture
def at_evidence(case):
    case.apply()
    case.review()
    case.contract()
    case.programme(mystery_shopping=False)
    case.appoint()
    case.plan_and_prepare(mystery_shopping=False)
    case.opening_meeting()
    return case


def evidence(at, findings, day=28, **more):
    return {
        "audit_day": at.day(day),
        "findings": findings,
        "special_deductions": [],
        "special_bonus": [],
        "random_survey": None,
        "daily_communication": "每日沟通",
        "escalation": "none",
        "escalation_details": None,
        "terminate_reason": None,
        "more_days": False,
        **more,
    }


def test_evidence_before_the_onsite_start_or_off_the_indicator_set_is_refused(at_evidence):
    auditor = at_evidence.people.auditor
    case = at_evidence
    findings = findings_losing(0)
    errors = refused(case, "Task_CollectEvidence", auditor, evidence(case, findings, day=27))
    assert "R-8.5.2" in errors["audit_day"][0]
    unknown = [{**findings[0], "item_code": "5.3.99.99"}, *findings[1:]]
    errors = refused(case, "Task_CollectEvidence", auditor, evidence(case, unknown))
    item = errors["findings/0/item_code"][0]
    assert "R-8.5.4" in item and "5.3.99.99" in item, errors
    sampled = next(i for i, f in enumerate(findings_losing(1)) if f["result"] == "sampled")
    too_many = findings_losing(1)
    too_many[sampled] = {**too_many[sampled], "failures": too_many[sampled]["sample_size"] + 1}
    errors = refused(case, "Task_CollectEvidence", auditor, evidence(case, too_many))
    assert "R-8.5.2" in errors[f"findings/{sampled}/failures"][0]
    case.complete("Task_CollectEvidence", auditor, evidence(case, findings))
    no_incident(case)


def test_report_receipt_before_the_report_was_issued_is_refused(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    data = {"received_by": "王芳", "received_on": case.day(20)}
    errors = refused(case, "Task_ConfirmReportReceipt", case.people.client, data)
    assert "R-8.6" in errors["received_on"][0]
    case.receive_report()
    no_incident(case)


def test_nc_answers_and_verdicts_cover_each_nonconformity_once(case):
    through_onsite(case, points_lost=20, nonconformities=one_nc())  # one NC: 5.1.1.1
    case.receive_report()
    [nc_id] = case.confirm_ncs()
    answer = {"nc_id": nc_id, "root_cause": "a", "correction": "b", "corrective_action": "c"}
    answer["evidence_files"] = [case.upload("nc_evidence", "记录.pdf")]
    twice = {"answers": [answer, answer]}
    errors = refused(case, "Task_SubmitCorrections", case.people.client, twice)
    assert "R-8.7" in errors["answers/1"][0] and "twice" in errors["answers/1"][0]
    case.answer_ncs([nc_id])
    verdict = {"nc_id": nc_id + 1000, "accepted": True, "method": "documentary"}
    verdict |= {"note": "已核 checked", "onsite_record": None}
    errors = refused(case, "Task_VerifyCorrections", case.people.leader, {"verdicts": [verdict]})
    assert "R-8.7" in str(errors.get("verdicts/0/nc_id")), errors
    case.verify_ncs([nc_id], accepted=True)
    no_incident(case)


def test_a_client_applying_for_another_organisation_is_refused(case, monkeypatch):
    from sqlalchemy import select

    from certflow.db import db
    from certflow.models import User
    from engine.errors import FormValidationError
    from tests.factories import make_organisation

    # The client's account belongs to its organisation; it applies with another's code.
    own = make_organisation(db.session, case.clock.now())
    client = db.session.scalars(select(User).where(User.username == case.people.client.username))
    client.one().organisation_id = own.id
    other_uscc = "91110000MA0000000H"
    other = make_organisation(db.session, case.clock.now(), name="乙公司", uscc=other_uscc)
    db.session.commit()
    case.instance_id = case.engine.start("certification", actor=case.people.client).id
    monkeypatch.setattr("scenarios.certification_case.VALID_USCC", other.uscc)
    with pytest.raises(FormValidationError) as err:
        case.submit_application()
    assert list(err.value.errors) == ["uscc"] and "R-11" in err.value.errors["uscc"][0]
    assert case.open_task("Task_SubmitApplication").state == "open"
    no_incident(case)
