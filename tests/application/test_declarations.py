"""Issue 15, the applicant's declarations and a second chance, through the real diagram:
R-13 the client attests the truth and legality of its application (signed: text, name, position,
date), kept with the application and shown to staff; R-11 the client is told before it applies
what the registry will make public and acknowledges it; R-6.2.2b a not-accepted application is
supplemented, resubmitted and reviewed again."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.declarations import ATTESTATION_TEXT, PUBLIC_INFORMATION_TEXT
from domain.models import Application, Attachment, Contract
from domain.models_declarations import ApplicationDeclaration
from tests.certification_case import Case
from tests.forms.test_form_checks import no_incident, refused
from tests.web.test_task_context import page, panel

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"


def declarations() -> list[ApplicationDeclaration]:
    db.session.rollback()
    return list(
        db.session.scalars(select(ApplicationDeclaration).order_by(ApplicationDeclaration.id))
    )


def started(case: Case) -> None:
    case.instance_id = case.engine.start("certification", actor=case.people.client).id


@pytest.mark.parametrize("form", ["application.json", "supplement_application.json"])
def test_the_forms_show_the_texts_that_are_stored(form):
    """The client signs exactly the text kept with its application (R-13, R-11)."""
    schema = json.loads((FORMS / form).read_text(encoding="utf-8"))
    fields = schema["properties"]
    assert fields["truth_attestation"]["description"] == ATTESTATION_TEXT
    assert fields["public_information_acknowledged"]["description"] == PUBLIC_INFORMATION_TEXT
    for name in (
        "truth_attestation",
        "attestation_signatory",
        "attestation_position",
        "attestation_signed_on",
        "public_information_acknowledged",
    ):
        assert name in schema["required"], (form, name)


def test_the_signed_attestation_and_the_public_information_are_kept_with_the_application(case):
    case.apply()
    application = db.session.scalars(select(Application)).one()
    attestation, public = declarations()
    assert attestation.application_id == public.application_id == application.id
    assert (attestation.kind, attestation.text) == ("truth_attestation", ATTESTATION_TEXT)
    assert (public.kind, public.text) == ("public_information", PUBLIC_INFORMATION_TEXT)
    assert (attestation.signatory_name, attestation.signatory_position) == ("王总", "总经理")
    assert attestation.signed_on.isoformat() == case.today()
    assert attestation.recorded_by == case.people.client.username  # who, when
    assert attestation.recorded_at == case.clock.now()
    assert case.active() == ["Task_AcceptanceReview"]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"truth_attestation": False}, "truth_attestation", None),
        ({"public_information_acknowledged": False}, "public_information_acknowledged", None),
        ({"attestation_signatory": ""}, "attestation_signatory", None),
        ({"attestation_position": ""}, "attestation_position", None),
        ({"attestation_signed_on": "tomorrow"}, "attestation_signed_on", "R-13"),
        ({"attestation_signed_on": "long ago"}, "attestation_signed_on", "R-13"),
    ],
)
def test_an_application_without_a_valid_attestation_is_refused_on_the_field(
    case, change, field, rule
):
    started(case)
    answers = case.application_answers()
    if change.get("attestation_signed_on") == "tomorrow":
        change = {"attestation_signed_on": case.day(1)}
    elif change.get("attestation_signed_on") == "long ago":
        change = {"attestation_signed_on": case.day(-31)}
    errors = refused(case, "Task_SubmitApplication", case.people.client, answers | change)
    assert field in errors, errors
    if rule:
        assert rule in errors[field][0]
    assert declarations() == [] and db.session.scalars(select(Application)).all() == []
    # A date 30 days back is still this submission's.
    case.complete(
        "Task_SubmitApplication",
        case.people.client,
        answers | {"attestation_signed_on": case.day(-30)},
    )
    no_incident(case)


def test_staff_see_the_attestation_and_the_acknowledgement_at_the_acceptance_review(case, app):
    case.apply()
    review = case.open_task("Task_AcceptanceReview")
    html = panel(page(app, "ma_market", review.id), "context-application")
    assert 'data-declaration="truth_attestation"' in html
    assert 'data-declaration="public_information"' in html
    assert ATTESTATION_TEXT in html and PUBLIC_INFORMATION_TEXT in html
    assert "声明人：王总（总经理），日期：" + case.today() in html
    english = panel(page(app, "ma_market", review.id, "?lang=en"), "context-application")
    assert "Attestation of truth and legality" in english
    assert f"Signed by 王总, 总经理, on {case.today()}" in english


def test_a_not_accepted_application_is_supplemented_resubmitted_and_reviewed_again(case):
    """R-6.2.2b: the notice promises a new review when the conditions are met."""
    case.apply()
    case.review(accepted=False)
    assert case.active() == ["Task_SupplementApplication"]
    # The client is told why (the reason from the notice) and nothing else of the review.
    data = case.data("Task_SupplementApplication")
    assert data["not_accepted_reason"] == "暂无该领域审查员 no auditor for the field"
    supplement = case.upload("other", "补充说明.pdf")
    case.supplement(resubmit=True, files=[supplement])

    assert case.active() == ["Task_AcceptanceReview"]
    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted" and application.reviewed_by is None
    kinds = [d.kind for d in declarations()]
    assert kinds == [
        "truth_attestation",
        "public_information",
        "resubmission",
        "truth_attestation",  # signed again for the supplemented application
        "public_information",
    ]
    resubmission = declarations()[2]
    previous = resubmission.data["previous_review"]
    assert previous["not_accepted_reason"] == "暂无该领域审查员 no auditor for the field"
    assert previous["reviewed_by"] == case.people.market.username
    assert resubmission.data["files"] == [supplement]
    assert db.session.get(Attachment, supplement).application_id == application.id

    case.review(accepted=True)
    case.contract()
    assert db.session.scalars(select(Application)).one().status == "contracted"
    assert db.session.scalars(select(Contract)).one().application_id == application.id
    assert case.active() == ["Task_BuildProgramme"]


def test_a_resubmission_needs_what_was_supplemented_and_a_new_attestation(case):
    case.apply()
    case.review(accepted=False)
    good = {
        "resubmit": True,
        "changes": "补充了审查员资源 supplemented",
        "supplementary_files": [],
        **case.declarations(),
    }
    client = case.people.client
    errors = refused(case, "Task_SupplementApplication", client, good | {"changes": None})
    assert "changes" in errors, errors
    errors = refused(
        case, "Task_SupplementApplication", client, good | {"truth_attestation": False}
    )
    assert "truth_attestation" in errors, errors
    tomorrow = good | {"attestation_signed_on": case.day(1)}
    errors = refused(case, "Task_SupplementApplication", client, tomorrow)
    assert "R-13" in errors["attestation_signed_on"][0]
    assert db.session.scalars(select(Application)).one().status == "not_accepted"
    no_incident(case)


def test_the_client_sees_the_reason_and_its_own_form_and_nothing_else_of_the_review(case, app):
    """R-11: at the supplement task the client gets the reason of the notice (R-6.2.2b), not the
    reviewer's internal answers; the page shows the reason in either language."""
    from certflow.accounts import issue_token
    from certflow.models import User
    from tests.access.test_client_data import expected_view
    from webapp.client_data import declared_by_element

    case.apply()
    case.review(accepted=False)
    task = case.open_task("Task_SupplementApplication")
    user = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    token = issue_token(db.session, user, case.clock.now())
    db.session.commit()
    answer = app.test_client().get(
        f"/api/v1/tasks/{task.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.json
    full = case.engine.task_data(task)
    fields = list(case.engine.task_form(task)["properties"])
    paths = declared_by_element()["Task_SupplementApplication"]
    assert answer.json["data"] == expected_view(full, fields, paths)
    assert "man_days_basis" not in answer.json["data"] and "review" not in answer.json["data"]
    reason = "暂无该领域审查员 no auditor for the field"
    html = page(app, "wang_client", task.id)
    assert reason in html and "补充申请并重新提交" in html
    english = page(app, "wang_client", task.id, "?lang=en")
    assert "Reason for non-acceptance: " + reason in english
    assert "Supplement and resubmit" in english
